"""The pandas engine: each scan is one pass of integer keys and `np.bincount`s.

It returns partial aggregates per facility × period (count-distinct per group ×
period, as distinct counts do not add up across facilities). Everything that
turns partials into indicator values lives in `combine`, so another engine only
has to produce the same `Partials`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..codes import codes_against
from ..compile.plan import MeasureNode, Plan, ScanNode
from ..contract import TABLES
from ..diagnostics import Ledger
from .columns import ColumnProvider, ScanContext
from .expr_eval import as_mask, as_values, evaluate
from .periods import label, month_codes, reported_period_codes, to_grain


@dataclass
class Partials:
    """Partial aggregates: {measure key: (first period code, array units × periods)}."""

    n_facilities: int
    n_groups: int
    grain: str
    measures: dict[str, tuple[int, np.ndarray]] = field(default_factory=dict)
    support: dict[str, tuple[int, np.ndarray]] = field(default_factory=dict)   # rows passing each measure's filter
    group_grain: set[str] = field(default_factory=set)                          # keys already at group grain

    def period_range(self) -> tuple[int, int]:
        spans = [(p0, p0 + a.shape[1] - 1) for p0, a in list(self.measures.values()) + list(self.support.values()) if a.shape[1]]
        if not spans:
            return 0, -1
        return min(s[0] for s in spans), max(s[1] for s in spans)

    def aligned(self, store: dict, key: str, p0: int, n: int, rows: int) -> np.ndarray:
        """The partial for `key` placed on the period axis [p0, p0 + n)."""
        out = np.zeros((rows, n))
        if key not in store:
            return out
        q0, arr = store[key]
        lo, hi = max(p0, q0), min(p0 + n, q0 + arr.shape[1])
        if hi > lo:
            out[:, lo - p0:hi - p0] = arr[:, lo - q0:hi - q0]
        return out


class PandasEngine:
    name = "pandas"

    def run(self, plan: Plan, tables, facilities: pd.DataFrame, group_of_facility: np.ndarray, n_groups: int,
            grain: str, ledger: Ledger) -> Partials:
        ctx = ScanContext(tables, facilities, ledger, plan)
        partials = Partials(len(facilities), n_groups, grain)
        for scan in plan.scans:
            self._scan(scan, ctx, partials, group_of_facility, grain)
        return partials

    # -- one pass over one table ---------------------------------------------------
    def _scan(self, scan: ScanNode, ctx: ScanContext, partials: Partials, group_of_fac: np.ndarray, grain: str) -> None:
        spec = TABLES[scan.table]
        needed = scan.reads() & set(ctx.tables.columns(scan.table)) | ({"encounter_id"} if scan.basis.startswith("discharges.") else set())
        frame = ctx.tables.load(scan.table, sorted(needed | _raw_inputs(scan)))
        fac_index = pd.Index(ctx.facilities["facility_id"].astype("str"))
        fac = codes_against(frame[spec.facility_column], fac_index)
        periods, reason = self._periods(scan, frame, fac, ctx, grain)
        reason = np.where(fac < 0, 1, reason)
        valid = reason == 0
        F = partials.n_facilities
        if valid.any():
            p0, p1 = int(periods[valid].min()), int(periods[valid].max())
        else:
            p0, p1 = 0, -1
        P = p1 - p0 + 1
        key = np.where(valid, fac * max(P, 1) + (periods - p0), 0)
        get = ColumnProvider(frame, scan.table, fac, ctx)
        labels = [label(p0 + i, grain) for i in range(P)]
        for m in scan.measures:
            wanted = np.ones(len(frame), bool)
            if m.where is not None:
                wanted = as_mask(evaluate(m.where, get, len(frame)), len(frame))
            self._report_unplaced(m, wanted & ~valid, reason, fac, ctx)
            # a unit × period exists for a measure when at least one row passes its filter
            partials.support[m.key] = (p0, np.bincount(key[wanted & valid], minlength=F * P).reshape(F, P).astype(float))
            self._measure(m, wanted & valid, key, get, frame, fac, periods, p0, P, partials, group_of_fac, ctx, labels)

    def _measure(self, m: MeasureNode, mask, key, get, frame, fac, periods, p0, P, partials, group_of_fac, ctx, labels):
        F, n = partials.n_facilities, len(frame)
        if m.agg == "count":
            partials.measures[m.key] = (p0, np.bincount(key[mask], minlength=F * P).reshape(F, P).astype(float))
            return
        if m.agg == "count_distinct":
            values = evaluate(m.value, get, n)
            codes, _ = pd.factorize(values[mask] if isinstance(values, pd.Series) else pd.Series(np.full(n, values))[mask])
            # distinct values do not add up across facilities: count them at each grain directly
            for suffix, unit_of_fac, U in (("", group_of_fac, partials.n_groups), ("@facility", np.arange(F), F)):
                ukey = unit_of_fac[fac[mask]] * P + (periods[mask] - p0)
                ok = codes >= 0
                pairs = np.unique(np.stack([ukey[ok], codes[ok]]), axis=1) if ok.any() else np.zeros((2, 0), np.int64)
                partials.measures[m.key + suffix] = (p0, np.bincount(pairs[0], minlength=U * P).reshape(U, P).astype(float))
            partials.group_grain.add(m.key)
            return
        vals = as_values(evaluate(m.value, get, n), n)
        null = mask & np.isnan(vals)
        if null.any() and m.value is not None and "ddd_count" not in {getattr(m.value, "name", "")}:
            counts = np.bincount(key[null], minlength=F * P).reshape(F, P)
            ctx.ledger.add_grid(m.table, "null_value", counts, ctx.facilities["facility_id"].to_numpy(), labels,
                                f"求和/均值的值为空，未计入：{m.key}", f"value missing, not counted: {m.key}", affects=m.key)
        use = mask & ~np.isnan(vals)
        if m.agg == "max":
            arr = np.full(F * P, -np.inf)
            np.maximum.at(arr, key[use], vals[use])
            arr[np.isinf(arr)] = np.nan
            partials.measures[m.key] = (p0, arr.reshape(F, P))
            return
        partials.measures[m.key] = (p0, np.bincount(key[use], weights=vals[use], minlength=F * P).reshape(F, P))

    # -- which period each row belongs to ----------------------------------------------
    def _periods(self, scan: ScanNode, frame: pd.DataFrame, fac: np.ndarray, ctx: ScanContext, grain: str):
        """(period code per row, reason code: 0 placed, 2 no date, 3 no discharge for the stay, 4 annual row)."""
        if scan.table == "facility_periods":
            codes, too_coarse = reported_period_codes(frame["period"], grain)
            return codes, np.where(too_coarse, 4, np.where(codes < 0, 2, 0))
        if scan.basis.startswith("discharges."):
            codes = to_grain(self._stay_discharge_months(frame, fac, ctx), grain)
            return codes, np.where(codes < 0, 3, 0)
        codes = to_grain(month_codes(frame[scan.basis]), grain)
        return codes, np.where(codes < 0, 2, 0)

    def _stay_discharge_months(self, frame, fac, ctx: ScanContext) -> np.ndarray:
        """Each child row's stay → its discharge month, via integer keys (no string merge)."""
        disc = ctx.tables.load("discharges", ["facility_id", "encounter_id", "discharge_date"])
        fac_index = pd.Index(ctx.facilities["facility_id"].astype("str"))
        dfac = codes_against(disc["facility_id"], fac_index)
        uniques = pd.Index(pd.unique(disc["encounter_id"].astype("str")))
        width = len(uniques) + 1
        dkey = dfac * width + uniques.get_indexer(disc["encounter_id"].astype("str"))
        ckey_pos = codes_against(frame["encounter_id"], uniques)
        ckey = fac * width + ckey_pos
        order = np.argsort(dkey, kind="stable")
        pos = np.searchsorted(dkey[order], ckey).clip(0, max(len(order) - 1, 0))
        found = (ckey_pos >= 0) & (fac >= 0) & (dkey[order][pos] == ckey) if len(order) else np.zeros(len(frame), bool)
        return np.where(found, month_codes(disc["discharge_date"])[order][pos] if len(order) else -1, -1)

    def _report_unplaced(self, m: MeasureNode, lost: np.ndarray, reason: np.ndarray, fac: np.ndarray, ctx: ScanContext) -> None:
        """Rows a measure wants but no period or facility can take: counted per facility and reason."""
        if not lost.any():
            return
        fac_ids = ctx.facilities["facility_id"].to_numpy()
        for code in np.unique(reason[lost]):
            rows = lost & (reason == code)
            check, zh, en = UNPLACED[int(code)]
            for f in np.unique(fac[rows]):
                n = int((rows & (fac == f)).sum())
                ctx.ledger.add(m.table, check, n, zh, en, facility_id=fac_ids[f] if f >= 0 else None, affects=m.key)


UNPLACED = {
    1: ("unknown_facility", "机构不在机构表中，未使用", "facility not in the facilities table; not used"),
    2: ("missing_period_date", "统计日期为空或无法解析，无法归入统计期", "date missing: the row cannot be placed in a period"),
    3: ("no_parent_discharge", "找不到所属出院记录（仍在院），按出院队列口径不计入",
        "no discharge for this stay (still in hospital): not counted on the discharge-cohort basis"),
    4: ("period_too_coarse", "年度填报数据不能拆分为月或季度，未使用", "annual rows cannot be split into months or quarters; ask for period='year'"),
}


def _raw_inputs(scan: ScanNode) -> set[str]:
    """Input columns that derived columns are made from."""
    cols = set()
    reads = scan.reads()
    if scan.table == "drug_orders" and reads & {"ddd_count", "is_antibacterial", "antibacterial_grade", "atc_code"}:
        cols |= {"drug_code", "quantity"}
    if scan.table == "discharges" and "los_days" in reads:
        cols |= {"admit_date", "discharge_date"}
    return cols
