"""The pandas engine: each table read once, in batches; each measure one `np.bincount` per batch and grain.

The plan says what to read, derive, link and check; the engine only runs it. Rows get an integer key
facility × period on a fixed absolute period axis, so the partials of successive batches simply add up
and memory is bounded by the batch, not the table. Several period grains (a year to judge, months for a
trend) are accumulated in the same read; groupings are applied afterwards by `combine`, from partials
kept at facility grain. A child table's exists() requests are answered in its own read, which comes
before its parent's.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..codes import codes_against
from ..compile.nodes import MeasureNode, ScanNode
from ..compile.plan import Plan
from ..spec.expr import Col
from ..progress import MIN_ROWS, bar
from ..result.diagnostics import Ledger
from ..schemas.checker import Gate, TableChecker
from ..schemas.contract import TABLES
from ..compile.feasibility import headers_of
from ..schemas.contract import LINKS
from .accumulators import CellRegistry, GrainAccumulator, LabelRegistry
from .columns import ColumnProvider, ScanContext
from .drug_ledger import DrugLineLedger
from .expr_eval import as_mask, as_values, evaluate
from .implausible import implausible_rows, report_implausible
from .links import PendingKeys
from .partials import PartialKey, Partials, Role, union_window
from .periods import SPAN, label, reported_months, reported_period_codes, to_grain
from .reasons import Unplaced

BATCH_ROWS = 1 << 20
# derived columns whose missing values their own ledger explains with a reason (the drug-line ledger)
SELF_REPORTED = {"ddd_count"}
# ids that are unique only within a facility (TABLES.md): two hospitals may both have stay "Z001"
FACILITY_SCOPED_IDS = {"encounter_id", "visit_id", "patient_id"}


class PandasEngine:
    name = "pandas"

    def run(self, plan: Plan, tables, facilities: pd.DataFrame, grains: list[str], ledger: Ledger,
            gate: Gate) -> dict[tuple[str, str | None], Partials]:
        """Partials per (period grain, unit column below the facility or None for facilities).

        The first grain is the one the ledger reports unplaced rows at.
        """
        ctx = ScanContext(tables, facilities, ledger, plan, gate, BATCH_ROWS)
        ctx.drug_ledger = DrugLineLedger(facilities, grains[0], ledger)
        aggs = {m.key: m.agg for m in plan.measures()}
        counties = LabelRegistry()
        supported = plan.unit_support(headers_of(tables))
        accs = {}
        for unit in (None, *plan.units):
            cells = CellRegistry(unit) if unit else None
            for g in grains:
                accs[(g, unit)] = acc = GrainAccumulator(len(facilities), g, aggs, counties, cells)
                acc.unsupported = set(aggs) - supported[unit] if unit else set()
        for table in plan.passes():
            self._table_pass(table, plan, ctx, accs, counties)
        ctx.finish()
        out = _on_one_window({view: acc.partials() for view, acc in accs.items()})
        for (grain, unit), part in out.items():
            if unit is not None:
                _facility_totals(plan, unit, out[(grain, None)], part)
        fac_ids = facilities["facility_id"].astype(str).to_numpy()
        first = out[(grains[0], None)]
        for key, counts in first.arrays.items():
            if key.role is Role.NULLS:
                ledger.add_grid(key.measure.split("[", 1)[0], "null_value", counts, fac_ids, lambda p: label(first.lo + p, grains[0]),
                                f"求和/均值的值为空，未计入：{key.measure}", f"value missing, not counted: {key.measure}",
                                affects=key.measure)
        return out

    def _table_pass(self, table: str, plan: Plan, ctx: ScanContext, accs: dict[str, GrainAccumulator],
                    counties: LabelRegistry) -> None:
        """One read of `table`, batch by batch, feeding its scans and the exists() requests made of it."""
        cols = plan.reads[table].columns(ctx.tables.columns(table))
        checker = TableChecker(table, set(cols), ctx.facilities)
        scans, requests = plan.scans_of(table), plan.links_from(table)
        pending = [PendingKeys(ctx.parent_index(r.parent)) for r in requests]
        fac_col = TABLES[table].facility_column
        with bar(ctx.tables.known_rows(table), table, "rows", MIN_ROWS) as progress:
            for offset, frame, read_failures in ctx.tables.batches(table, cols, BATCH_ROWS):
                good = ~ctx.gate.check(checker, frame, offset, read_failures)
                fac = codes_against(frame[fac_col], ctx.fac_index)
                get = ColumnProvider(frame, table, fac, ctx, offset)
                implausible = implausible_rows(table, frame, get, good)
                report_implausible(table, implausible, frame, fac, ctx, next(iter(accs))[0])
                for scan in scans:
                    unit = fac if scan.facility == fac_col else codes_against(frame[scan.facility], ctx.fac_index)
                    _ScanBatch(scan, frame, unit, good, get, ctx, implausible).run(accs, counties)
                for request, keys in zip(requests, pending):
                    keep = good.copy()
                    if request.link.settings:
                        keep &= frame["setting"].isin(request.link.settings).to_numpy()
                    if request.cond is not None:
                        keep &= as_mask(evaluate(request.cond, get, len(frame)), len(frame))
                    keys.add(get.parent_keys(request.parent, request.link.child_id)[keep])
                progress.update(len(frame))
        for request, keys in zip(requests, pending):
            ctx.matches[request.memo] = keys.keys()


def _on_one_window(views: dict[tuple[str, str | None], Partials]) -> dict[tuple[str, str | None], Partials]:
    """The views of each grain on the same periods (a unit's facility totals are taken column by column)."""
    out = {}
    for grain in {g for g, _ in views}:
        same = {v: p for v, p in views.items() if v[0] == grain}
        lo, width = union_window(list(same.values()))
        out.update({v: p.windowed(lo, width) for v, p in same.items()})
    return out


def _facility_totals(plan: Plan, unit: str, facility: Partials, cells: Partials) -> None:
    """Measures whose definition gives every unit its facility's total (unit_from: facility): their values,
    taken from the facility partials for each cell (a row appears where the split measures have rows)."""
    at = cells.units["facility"].to_numpy(dtype=np.int64)
    for m in plan.measures():
        if m.key not in cells.unsupported and m.unit_source(unit) is None:
            key = PartialKey(m.key, Role.VALUE)
            cells.arrays[key] = facility.array(m.key)[at]


class _ScanBatch:
    """One batch of one scan: which rows each measure wants, their periods at every grain, the partials."""

    def __init__(self, scan: ScanNode, frame: pd.DataFrame, fac: np.ndarray, good: np.ndarray, get, ctx: ScanContext,
                 implausible: dict[str, np.ndarray] | None = None):
        self.scan, self.frame, self.fac, self.get, self.ctx = scan, frame, fac, get, ctx
        self.implausible = implausible or {}      # column → rows beyond a plausible magnitude
        self.good = good
        self.zero_based = ctx.plan.zero_based
        n = len(frame)
        self.wanted = {}
        for m in scan.measures:
            w = good.copy()
            if m.where is not None:
                w &= as_mask(evaluate(m.where, get, n), n)
            self.wanted[m.key] = w
        self.any_wanted = np.logical_or.reduce(list(self.wanted.values())) if self.wanted else np.zeros(n, bool)
        self._months: np.ndarray | None = None
        self._floats: dict[str, np.ndarray] = {}
        self._by_grain: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def run(self, accs: dict[tuple, GrainAccumulator], counties: LabelRegistry) -> None:
        span = self._month_span()
        for acc in accs.values() if span else ():
            acc.saw_months([m.key for m in self.scan.measures], *span)
        for i, ((grain, unit_col), acc) in enumerate(accs.items()):
            periods, reason = self._periods(grain)
            reason = np.where(self.fac < 0, Unplaced.UNKNOWN_FACILITY, reason)
            valid = reason == Unplaced.PLACED
            units_of: dict[object, tuple[np.ndarray, np.ndarray]] = {}     # unit source → (units, cells)
            for m in self.scan.measures:
                source = m.unit_source(unit_col) if unit_col else None
                if m.key in acc.unsupported or (unit_col and source is None):   # unsupported, or the facility's total
                    continue
                if source not in units_of:      # every source has the same periods: the window widens only once
                    units = self.fac if unit_col is None else self._cells(acc, source, m)
                    units_of[source] = units, acc.cells_of(units, periods, valid)
                units, cells = units_of[source]
                w = self.wanted[m.key]
                if i == 0:
                    self._report_unplaced(m, w & ~valid, reason)
                use = w & valid
                rows = np.flatnonzero(use)      # a filter keeps few rows: everything after works on those
                acc.add(m.key, Role.SUPPORT, cells[rows])
                if m.key in self.zero_based:       # a count is 0 where the unit has rows in the table but no event
                    acc.add(m.key, Role.ROWS, cells[self.good & valid])
                for column in set(self.implausible) & m.columns():    # cells that used an implausible row: flagged
                    acc.add(m.key, Role.IMPLAUSIBLE, cells[rows[self.implausible[column][rows]]])
                self._measure(m, use, rows, cells, periods, units, acc)
                if m.county_from and unit_col is None:
                    self._county_measure(m, w, valid, periods, acc, counties, report=i == 0)

    def _cells(self, acc: GrainAccumulator, source: tuple[str, str], m: MeasureNode) -> np.ndarray:
        """Each row's cell (facility × unit below it); −1 for rows of unknown facilities."""
        out = np.full(len(self.fac), -1, np.int64)
        known = self.fac >= 0
        out[known] = acc.cells.codes(self.fac[known], self._unit_labels(source, m)[known].reset_index(drop=True))
        return out

    def _unit_labels(self, source: tuple[str, str], m: MeasureNode) -> pd.Series:
        """The unit below the facility each row counts in: a column of its own, or of its stay or visit."""
        table, column = source
        if table == m.table:
            return self.get(column)
        link = LINKS[(table, m.table)]
        return self.ctx.parent_index(table).values_of(column, self.get.parent_keys(table, link.child_id))

    def _measure(self, m: MeasureNode, use: np.ndarray, rows: np.ndarray, cells: np.ndarray, periods: np.ndarray,
                 units: np.ndarray, acc: GrainAccumulator) -> None:
        """`rows`: np.flatnonzero(use)."""
        if m.agg == "count":
            acc.add(m.key, Role.VALUE, cells[rows])
            return
        if m.agg == "count_distinct":
            codes, uniques = self._codes(m.value)
            acc.add_distinct(m.key, codes[use], uniques, units[use], periods[use],
                             getattr(m.value, "name", "") in FACILITY_SCOPED_IDS)
            return
        vals = self._values(m.value)[rows]
        null = np.isnan(vals)
        if null.any():
            if getattr(m.value, "name", "") not in SELF_REPORTED:
                acc.add(m.key, Role.NULLS, cells[rows[null]])
            rows, vals = rows[~null], vals[~null]
        acc.add(m.key, Role.VALUE, cells[rows], vals)

    def _codes(self, node) -> tuple[np.ndarray, pd.Index]:
        """A distinct count's values as integer codes: a column's once per batch (ColumnProvider.factorized)."""
        if isinstance(node, Col):
            return self.get.factorized(node.name)
        values = evaluate(node, self.get, len(self.frame))
        s = values if isinstance(values, pd.Series) else pd.Series(np.full(len(self.frame), values))
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        return codes, pd.Index(uniques)

    def _values(self, node) -> np.ndarray:
        """A value expression as float64, once per batch however many measures sum it (ddd_count: sixteen)."""
        key = repr(node)
        if key not in self._floats:
            self._floats[key] = as_values(evaluate(node, self.get, len(self.frame)), len(self.frame))
        return self._floats[key]

    def _county_measure(self, m: MeasureNode, wanted, valid, periods, acc: GrainAccumulator, counties: LabelRegistry,
                        report: bool) -> None:
        """The same measure grouped by a county column of the row itself (e.g. the patient's residence)."""
        county = counties.codes(self.frame[m.county_from])
        ok = wanted & valid & (county >= 0)
        if report:
            lost = wanted & valid & (county < 0)
            self._report_unplaced(m, lost, np.where(lost, Unplaced.COUNTY_MISSING, Unplaced.PLACED))
        acc.add_county(m.key, Role.SUPPORT, county[ok], periods[ok])
        if m.agg == "count":
            acc.add_county(m.key, Role.VALUE, county[ok], periods[ok])
            return
        vals = as_values(evaluate(m.value, self.get, len(self.frame)), len(self.frame))
        use = ok & ~np.isnan(vals)
        acc.add_county(m.key, Role.VALUE, county[use], periods[use], vals[use])

    # -- which period each row belongs to ----------------------------------------------
    def _month_codes(self) -> np.ndarray:
        if self._months is None:
            if self.scan.basis.startswith("discharges."):
                self._months = self.ctx.stays().months_of(self.get.parent_keys("discharges", "encounter_id"))
            else:
                self._months = self.get.months(self.scan.basis)
        return self._months

    def _month_span(self) -> tuple[int, int] | None:
        """First and last month of the batch's rows that a period can take (Partials.months)."""
        if self.scan.table == "facility_periods":
            first, last = reported_months(self.frame["period"])
        else:
            first = last = self._month_codes()
        ok = self.good & (first >= 0) & (self.fac >= 0)
        return (int(first[ok].min()), int(last[ok].max())) if ok.any() else None

    def _periods(self, grain: str) -> tuple[np.ndarray, np.ndarray]:
        """(absolute period code per row, Unplaced reason per row), once per grain."""
        if grain not in self._by_grain:
            self._by_grain[grain] = self._periods_at(grain)
        return self._by_grain[grain]

    def _periods_at(self, grain: str) -> tuple[np.ndarray, np.ndarray]:
        if self.scan.table == "facility_periods":
            codes, too_coarse, superseded = reported_period_codes(self.frame["period"], grain, self.fac)
            reason = np.select([too_coarse, superseded, codes < 0],
                               [Unplaced.PERIOD_TOO_COARSE, Unplaced.SUPERSEDED_BY_ANNUAL, Unplaced.MISSING_PERIOD_DATE], 0)
        else:
            codes = to_grain(self._month_codes(), grain)
            missing = Unplaced.NO_PARENT_DISCHARGE if self.scan.basis.startswith("discharges.") else Unplaced.MISSING_PERIOD_DATE
            reason = np.where(codes < 0, missing, 0)
        out_of_range = (codes >= SPAN[grain]) | (codes == -2)
        return np.where(out_of_range, -1, codes), np.where(out_of_range, Unplaced.DATE_OUT_OF_RANGE, reason)

    def _report_unplaced(self, m: MeasureNode, lost: np.ndarray, reason: np.ndarray) -> None:
        """Rows a measure wants but no period or facility can take: counted per facility and reason."""
        if not lost.any():
            return
        fac_ids = self.ctx.facilities["facility_id"].astype(str).to_numpy()
        for code in np.unique(reason[lost]):
            rows = lost & (reason == code)
            why = Unplaced(int(code))
            counts = np.bincount(np.where(self.fac[rows] >= 0, self.fac[rows], len(fac_ids)), minlength=len(fac_ids) + 1)
            for f in np.flatnonzero(counts):
                self.ctx.ledger.add(m.table, why.check, int(counts[f]), *why.messages,
                                    facility_id=fac_ids[f] if f < len(fac_ids) else None, affects=m.key)
