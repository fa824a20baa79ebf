"""The pandas engine: tables streamed in batches; each measure one `np.bincount` per batch.

Every scan of a table is served by one read of that table. Rows get an integer
key facility × period on a fixed absolute period axis, so the partial aggregates
of successive batches simply add up; memory is bounded by the batch, not the
table. Count-distinct is kept per group × period (distinct values do not add up
across facilities). Everything that turns partials into indicator values lives
in `combine`, so another engine only has to produce the same `Partials`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..codes import codes_against
from ..compile.plan import MeasureNode, Plan, ScanNode
from ..schemas.contract import TABLES
from ..result.diagnostics import Ledger
from ..progress import MIN_ROWS, bar
from ..schemas.checker import Gate, TableChecker
from .columns import ColumnProvider, ScanContext
from .drug_ledger import DrugLineLedger
from .expr_eval import as_mask, as_values, evaluate
from .periods import SPAN, label, month_codes, reported_period_codes, to_grain

BATCH_ROWS = 1 << 20
# derived columns whose missing values their own ledger explains with a reason (the drug-line ledger)
SELF_REPORTED = {"ddd_count"}
# ids that are unique only within a facility (TABLES.md): two hospitals may both have stay "Z001"
FACILITY_SCOPED_IDS = {"encounter_id", "visit_id", "patient_id"}


@dataclass
class Partials:
    """Partial aggregates on the absolute period axis: {measure key: (0, array units × SPAN)}."""

    n_facilities: int
    n_groups: int
    grain: str
    measures: dict[str, tuple[int, np.ndarray]] = field(default_factory=dict)
    support: dict[str, tuple[int, np.ndarray]] = field(default_factory=dict)   # rows passing each measure's filter
    group_grain: set[str] = field(default_factory=set)                          # keys already at group grain
    nulls: dict[str, np.ndarray] = field(default_factory=dict)                  # rows whose summed value was missing
    group_support: dict[str, tuple[int, np.ndarray]] = field(default_factory=dict)  # support of group-grain measures

    def period_range(self) -> tuple[int, int]:
        used = np.zeros(SPAN[self.grain], bool)
        for _, arr in list(self.support.values()) + list(self.group_support.values()):
            used |= arr.any(axis=0)
        idx = np.flatnonzero(used)
        return (int(idx[0]), int(idx[-1])) if len(idx) else (0, -1)

    def aligned(self, store: dict, key: str, p0: int, n: int, rows: int) -> np.ndarray:
        """The partial for `key` on the period axis [p0, p0 + n)."""
        if key not in store:
            return np.zeros((rows, n))
        return store[key][1][:, p0:p0 + n].copy()


class PandasEngine:
    name = "pandas"

    def run(self, plan: Plan, tables, facilities: pd.DataFrame, group_of_facility: np.ndarray, n_groups: int,
            grain: str, ledger: Ledger, gate: Gate, county_groups: pd.Index | None = None) -> Partials:
        """`county_groups`: when grouping by county, the group labels; measures with `county_from`
        then put each row in the group of its own county column (e.g. the patient's residence)."""
        ctx = ScanContext(tables, facilities, ledger, plan, gate)
        ctx.county_groups = county_groups
        ctx.drug_ledger = DrugLineLedger(facilities, grain, ledger)
        partials = Partials(len(facilities), n_groups, grain)
        ctx.prefetch_links()
        by_table: dict[str, list[ScanNode]] = {}
        for scan in plan.scans:
            by_table.setdefault(scan.table, []).append(scan)
        for table, scans in by_table.items():
            self._table_pass(table, scans, ctx, partials, group_of_facility, grain)
        if ctx._resolved is not None:
            ctx.drug_ledger.finish(len(ctx._resolved[0]), ctx._resolved[0])
        fac_ids = facilities["facility_id"].astype(str).to_numpy()
        for key, counts in partials.nulls.items():
            ledger.add_grid(key.split("[", 1)[0], "null_value", counts, fac_ids, lambda p: label(p, grain),
                            f"求和/均值的值为空，未计入：{key}", f"value missing, not counted: {key}", affects=key)
        return partials

    def _table_pass(self, table: str, scans: list[ScanNode], ctx: ScanContext, partials: Partials,
                    group_of_fac: np.ndarray, grain: str) -> None:
        """One read of `table`, batch by batch, feeding every scan and measure that reads it."""
        have = set(ctx.tables.columns(table))
        reads = set().union(*(s.reads() for s in scans)) | set().union(*(_raw_inputs(s) for s in scans))
        if any(s.basis.startswith("discharges.") for s in scans):
            reads.add("encounter_id")
        needed = sorted((reads & have) | {TABLES[table].facility_column} | {s.facility for s in scans})
        checker = TableChecker(table, set(needed), ctx.facilities)
        acc = _Accumulators(partials, grain, group_of_fac)
        with bar(ctx.tables.known_rows(table), table, "rows", MIN_ROWS) as progress:
            for offset, frame, read_failures in ctx.tables.batches(table, needed, BATCH_ROWS):
                bad = ctx.gate.check(checker, frame, offset, read_failures)
                fac = codes_against(frame[TABLES[table].facility_column], ctx.fac_index)
                get = ColumnProvider(frame, table, fac, ctx, offset)
                for scan in scans:
                    unit = fac if scan.facility == TABLES[table].facility_column else codes_against(frame[scan.facility], ctx.fac_index)
                    self._scan_batch(scan, frame, unit, ~bad, get, ctx, acc, group_of_fac, grain)
                progress.update(len(frame))
        acc.store(partials)

    def _scan_batch(self, scan, frame, fac, good, get, ctx, acc, group_of_fac, grain) -> None:
        n = len(frame)
        wanted = {}
        for m in scan.measures:
            w = good.copy()
            if m.where is not None:
                w &= as_mask(evaluate(m.where, get, n), n)
            wanted[m.key] = w
        any_wanted = np.logical_or.reduce(list(wanted.values())) if wanted else np.zeros(n, bool)
        periods, reason = self._periods(scan, frame, fac, ctx, grain, any_wanted)
        reason = np.where(fac < 0, 1, reason)
        valid = reason == 0
        key = np.where(valid, fac * SPAN[grain] + periods, 0)
        for m in scan.measures:
            w = wanted[m.key]
            if m.county_from and ctx.county_groups is not None:
                self._county_measure(m, w, valid, reason, periods, frame, fac, get, acc, ctx, grain)
                continue
            self._report_unplaced(m, w & ~valid, reason, fac, ctx)
            use = w & valid
            acc.add(m.key + "#support", "count", key[use], None)
            self._measure(m, use, key, get, fac, periods, acc, group_of_fac, ctx, grain)

    def _county_measure(self, m, wanted, valid, reason, periods, frame, fac, get, acc, ctx, grain) -> None:
        """A measure grouped by a county column of the row itself: accumulated at group grain."""
        group = codes_against(frame[m.county_from], ctx.county_groups)
        reason = np.where(valid & (group < 0), 6, reason)
        ok = wanted & (reason == 0)
        self._report_unplaced(m, wanted & ~ok, reason, fac, ctx)
        gkey = np.where(ok, group * SPAN[grain] + periods, 0)
        acc.add_group(m.key + "#support", "count", gkey[ok], None)
        if m.agg == "count":
            acc.add_group(m.key, "count", gkey[ok], None)
            return
        vals = as_values(evaluate(m.value, get, len(frame)), len(frame))
        use = ok & ~np.isnan(vals)
        acc.add_group(m.key, "sum", gkey[use], vals[use])

    def _measure(self, m: MeasureNode, use, key, get, fac, periods, acc, group_of_fac, ctx, grain) -> None:
        n = len(use)
        if m.agg == "count":
            acc.add(m.key, "count", key[use], None)
            return
        values = evaluate(m.value, get, n)
        if m.agg == "count_distinct":
            s = values if isinstance(values, pd.Series) else pd.Series(np.full(n, values))
            scoped = getattr(m.value, "name", "") in FACILITY_SCOPED_IDS
            acc.add_distinct(m.key, s[use], fac[use], periods[use], scoped)
            return
        vals = as_values(values, n)
        null = use & np.isnan(vals)
        if null.any() and getattr(m.value, "name", "") not in SELF_REPORTED:
            acc.add(m.key + "#null", "count", key[null], None)
        ok = use & ~null
        acc.add(m.key, m.agg, key[ok], vals[ok])

    # -- which period each row belongs to ----------------------------------------------
    def _periods(self, scan: ScanNode, frame: pd.DataFrame, fac, ctx: ScanContext, grain: str, rows: np.ndarray):
        """(absolute period code per row, reason: 0 placed, 2 no date, 3 no stay, 4 annual row, 5 out of range)."""
        if scan.table == "facility_periods":
            codes, too_coarse = reported_period_codes(frame["period"], grain)
            reason = np.where(too_coarse, 4, np.where(codes < 0, 2, 0))
        elif scan.basis.startswith("discharges."):
            months = np.full(len(frame), -1, np.int64)
            months[rows] = ctx.stays().discharge_months(fac[rows], frame["encounter_id"][rows])
            codes = to_grain(months, grain)
            reason = np.where(codes < 0, 3, 0)
        else:
            codes = to_grain(month_codes(frame[scan.basis]), grain)
            reason = np.where(codes < 0, 2, 0)
        out_of_range = (codes >= SPAN[grain]) | (codes == -2)
        return np.where(out_of_range, -1, codes), np.where(out_of_range, 5, reason)

    def _report_unplaced(self, m: MeasureNode, lost: np.ndarray, reason: np.ndarray, fac: np.ndarray, ctx: ScanContext) -> None:
        """Rows a measure wants but no period or facility can take: counted per facility and reason."""
        if not lost.any():
            return
        fac_ids = ctx.facilities["facility_id"].astype(str).to_numpy()
        for code in np.unique(reason[lost]):
            rows = lost & (reason == code)
            check, zh, en = UNPLACED[int(code)]
            counts = np.bincount(np.where(fac[rows] >= 0, fac[rows], len(fac_ids)), minlength=len(fac_ids) + 1)
            for f in np.flatnonzero(counts):
                ctx.ledger.add(m.table, check, int(counts[f]), zh, en, facility_id=fac_ids[f] if f < len(fac_ids) else None,
                               affects=m.key)


class _Accumulators:
    """Running sums, counts and maxima per measure; distinct (unit, period, value) triples."""

    def __init__(self, partials: Partials, grain: str, group_of_fac: np.ndarray):
        self.F, self.G, self.P = partials.n_facilities, partials.n_groups, SPAN[grain]
        self.group_of_fac = group_of_fac
        self.arrays: dict[str, np.ndarray] = {}
        self.group_arrays: dict[str, np.ndarray] = {}      # measures grouped by a county column of the row
        self.distinct: dict[str, list[pd.DataFrame]] = {}
        self.scoped: set[str] = set()      # distinct ids unique only within a facility

    def add(self, key: str, agg: str, keys: np.ndarray, values: np.ndarray | None) -> None:
        size = self.F * self.P
        if agg == "max":
            arr = self.arrays.setdefault(key, np.full(size, -np.inf))
            np.maximum.at(arr, keys, values)
            return
        arr = self.arrays.setdefault(key, np.zeros(size))
        arr += np.bincount(keys, weights=values, minlength=size)

    def add_group(self, key: str, agg: str, keys: np.ndarray, values: np.ndarray | None) -> None:
        arr = self.group_arrays.setdefault(key, np.zeros(self.G * self.P))
        arr += np.bincount(keys, weights=values, minlength=self.G * self.P)

    def add_distinct(self, key: str, values: pd.Series, fac: np.ndarray, periods: np.ndarray, scoped: bool) -> None:
        """Keep each batch's distinct (facility, period, value) once; integer codes, not a string drop_duplicates."""
        codes, _ = pd.factorize(values, use_na_sentinel=True)
        ok = np.flatnonzero(codes >= 0)
        cell = fac[ok].astype(np.int64) * self.P + periods[ok]
        rows = ok[_first_of_pairs(cell, codes[ok])]
        self.distinct.setdefault(key, []).append(pd.DataFrame({"f": fac[rows], "p": periods[rows],
                                                               "v": values.to_numpy()[rows]}))
        if scoped:
            self.scoped.add(key)

    def store(self, partials: Partials) -> None:
        for key, arr in self.arrays.items():
            if key.endswith("#support"):
                partials.support[key[:-8]] = (0, arr.reshape(self.F, self.P))
            elif key.endswith("#null"):
                partials.nulls[key[:-5]] = arr.reshape(self.F, self.P)
            else:
                arr = np.where(np.isinf(arr), np.nan, arr)
                partials.measures[key] = (0, arr.reshape(self.F, self.P))
        for key, arr in self.group_arrays.items():
            if key.endswith("#support"):
                partials.group_support[key[:-8]] = (0, arr.reshape(self.G, self.P))
            else:
                partials.measures[key] = (0, arr.reshape(self.G, self.P))
                partials.group_grain.add(key)
        for key, parts in self.distinct.items():
            triples = pd.concat(parts, ignore_index=True)
            f, p = triples["f"].to_numpy(np.int64), triples["p"].to_numpy(np.int64)
            v, _ = pd.factorize(triples["v"])
            # distinct values do not add up across facilities: count them at each grain directly
            for suffix, unit, U in (("@facility", f, self.F), ("", self.group_of_fac[f], self.G)):
                k = unit * self.P + p
                # ids unique only within a facility: distinct per facility, then summed
                ident = v if key not in self.scoped else v + f * (int(v.max()) + 1 if len(v) else 1)
                first = _first_of_pairs(k, ident)
                partials.measures[key + suffix] = (0, np.bincount(k[first], minlength=U * self.P)
                                                   .reshape(U, self.P).astype(float))
            partials.group_grain.add(key)


def _first_of_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Positions of the first occurrence of each distinct (a, b) pair (integer arrays, any order)."""
    if not len(a):
        return np.zeros(0, np.int64)
    order = np.lexsort((b, a))
    a_s, b_s = a[order], b[order]
    return order[np.r_[True, (a_s[1:] != a_s[:-1]) | (b_s[1:] != b_s[:-1])]]


UNPLACED = {
    1: ("unknown_facility", "机构不在机构表中，未使用", "facility not in the facilities table; not used"),
    2: ("missing_period_date", "统计日期为空或无法解析，无法归入统计期", "date missing: the row cannot be placed in a period"),
    3: ("no_parent_discharge", "找不到所属出院记录（仍在院），按出院队列口径不计入",
        "no discharge for this stay (still in hospital): not counted on the discharge-cohort basis"),
    4: ("period_too_coarse", "年度填报数据不能拆分为月或季度，未使用", "annual rows cannot be split into months or quarters; ask for period='year'"),
    6: ("county_missing", "区县为空，无法按区县归组", "county missing: the row cannot be placed in a county group"),
    5: ("date_out_of_range", "日期不在 1970–2100 年之间，未使用", "date outside 1970–2100; not used"),
}


def _raw_inputs(scan: ScanNode) -> set[str]:
    """Input columns that derived columns are made from."""
    cols = set()
    reads = scan.reads()
    if scan.table == "drug_orders" and reads & {"ddd_count", "is_antibacterial", "antibacterial_grade", "atc_code"}:
        cols |= {"drug_code", "quantity", "order_date", "amount"}      # the drug-line ledger reports periods and amounts
    if scan.table == "discharges" and "los_days" in reads:
        cols |= {"admit_date", "discharge_date"}
    if scan.table == "referrals" and "direction" in reads:
        cols |= {"from_facility_id", "to_facility_id"}
    return cols
