"""Partials → indicator values, growth, unit shares, targets and flags, as the tidy result frame."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..compile.plan import GrowthNode, IndicatorNode, Plan, UnitShareNode
from ..engine.partials import PartialKey, Partials, Role
from ..engine.periods import MONTHS_PER, YOY_LAG, label
from ..spec.expr import to_text
from ..spec.model import TargetSetSpec
from ..stats.intervals import interval, interval_method
from .flags import Flag, flag_text, where
from .grouping import Grouping
from ..compile.targets import targets_for
from .targets import OPS, condition_mask, facility_targets, group_targets, judge
from ..io.coerce import TEXT_DTYPE

RESULT_COLUMNS = ["indicator", "period", "numerator", "denominator", "value", "unit", "target", "target_op", "met",
                  "ci_low", "ci_high", "flags"]


@dataclass
class Grid:
    """One indicator at one grain: units × periods."""

    num: np.ndarray
    den: np.ndarray
    value: np.ndarray
    present: np.ndarray
    flags: np.ndarray


def _lagged(grid: np.ndarray, lag: int, fill) -> np.ndarray:
    """Each cell's value `lag` periods earlier (`fill` before the window)."""
    out = np.full(grid.shape, fill, dtype=grid.dtype)
    if lag < grid.shape[1]:
        out[:, lag:] = grid[:, :-lag]
    return out


class Combiner:
    """One grouping and one period grain of a plan's partials → indicator grids and the tidy rows."""

    def __init__(self, plan: Plan, partials: Partials, facilities: pd.DataFrame, grouping: Grouping,
                 target_set: TargetSetSpec | None, confidence: float = 0.95, withhold_small: bool = False):
        self.plan, self.partials, self.facilities = plan, partials, facilities
        self.withhold_small = withhold_small   # True: no 达标 judgement on a small_denominator row (the old behaviour)
        self.confidence = confidence
        self.grouping, self.group_of_fac, self.groups = grouping, grouping.group_of_fac, grouping.groups
        self.facility_grain = grouping.facility_grain
        self.target_set = target_set
        self.p0, p1 = partials.period_range()
        self.P = max(p1 - self.p0 + 1, 0)
        self.F, self.G = len(facilities), len(grouping.groups)
        self.fac_grids: dict[str, Grid] = {}
        self.group_grids: dict[str, Grid] = {}

    # -- grains -----------------------------------------------------------------------
    def _window(self, arr: np.ndarray) -> np.ndarray:
        """The periods p0 … of an array on the partials' window (which starts at partials.lo)."""
        start = self.p0 - self.partials.lo
        return arr[:, start:start + self.P] if self.P else arr[:, :0]

    def _measures(self, keys: tuple[str, ...], at_groups: bool) -> np.ndarray:
        """The sum of the measures `keys` (a numerator or denominator may add several)."""
        if not keys:
            return np.full((self.G if at_groups else self.F, self.P), np.nan)
        return sum(self._measure(k, at_groups) for k in keys)

    def _by_county(self, key: str, at_groups: bool) -> bool:
        """Grouped by the row's own county: only by county, where the rows of the measure go by their county."""
        return at_groups and self.grouping.group_of_county is not None and key in self.partials.county

    def _county(self, key: str, role: Role) -> np.ndarray:
        part = self.partials.county[key]
        arr = self._window(part.arrays.get(PartialKey(key, role), np.zeros((len(part.labels), self.partials.cols))))
        is_max = role is Role.VALUE and self.partials.aggs[key] == "max"
        out = np.full((self.G, self.P), -np.inf if is_max else 0.0)
        (np.fmax.at if is_max else np.add.at)(out, self.grouping.group_of_county, arr)
        return np.where(np.isinf(out), np.nan, out) if is_max else out

    def _measure(self, key: str, at_groups: bool) -> np.ndarray:
        part = self.partials
        if key in part.distinct:
            unit = self.group_of_fac if at_groups else np.arange(self.F)
            return self._window(part.distinct[key].counts(unit, self.G if at_groups else self.F, part.lo, part.cols))
        if self._by_county(key, at_groups):
            return self._county(key, Role.VALUE)
        arr = self._window(part.array(key))
        return self._rollup(arr, max_agg=part.aggs[key] == "max") if at_groups else arr

    def _rollup(self, arr: np.ndarray, max_agg: bool = False) -> np.ndarray:
        out = np.full((self.G, self.P), -np.inf if max_agg else 0.0)
        (np.fmax.at if max_agg else np.add.at)(out, self.group_of_fac, arr)
        return np.where(np.isinf(out), np.nan, out)

    def _support(self, node: IndicatorNode, at_groups: bool) -> np.ndarray:
        total = np.zeros((self.G if at_groups else self.F, self.P))
        for k in node.numerator + node.denominator:
            if self._by_county(k, at_groups):
                total += self._county(k, Role.SUPPORT)
                continue
            # a count: every (unit, period) with rows in its table has a value, 0 included
            arr = self._window(self.partials.array(k, Role.SUPPORT) + self.partials.array(k, Role.ROWS))
            total += self._rollup(arr) if at_groups else arr
        return total > 0

    # -- nodes ------------------------------------------------------------------------
    def run(self) -> None:
        for node in self.plan.nodes:
            for at_groups in (False, True):
                store = self.group_grids if at_groups else self.fac_grids
                if isinstance(node, IndicatorNode):
                    store[node.id] = self._ratio(node, at_groups)
                elif isinstance(node, GrowthNode):
                    store[node.id] = self._growth(node, store[node.base], at_groups)
                else:
                    store[node.id] = self._unit_share(node, at_groups)

    def _ratio(self, node: IndicatorNode, at_groups: bool) -> Grid:
        spec = self.plan.specs[node.id]
        num = self._measures(node.numerator, at_groups)
        present = self._support(node, at_groups)
        flags = np.zeros(num.shape, np.int64)
        if not node.denominator:
            den = np.full(num.shape, np.nan)
            value = num * node.scale
            if node.kind == "attribute" and at_groups and not self.facility_grain:
                value, flags = np.full(num.shape, np.nan), flags | Flag.ATTRIBUTE_NEEDS_FACILITY_GRAIN
        else:
            den = self._measures(node.denominator, at_groups)
            zero = den == 0
            with np.errstate(divide="ignore", invalid="ignore"):
                value = np.where(zero, np.nan, num / np.where(zero, 1, den) * node.scale)
            flags |= where(zero & present, Flag.ZERO_DENOMINATOR)
            if spec.min_denominator is not None:
                flags |= where((den < spec.min_denominator) & ~zero & present, Flag.SMALL_DENOMINATOR)
        if spec.plausible_max is not None:
            flags |= where(value > spec.plausible_max * (1 + 1e-9), Flag.IMPLAUSIBLE_VALUE)
        flags |= where(self._implausible_rows(node, at_groups), Flag.IMPLAUSIBLE_VALUE)
        flags |= where(self._role_marks(node, at_groups, Role.NULLS) & present, Flag.NULL_VALUES)
        flags |= where(self._partial_columns(node.numerator + node.denominator)[None, :] & present, Flag.PARTIAL_PERIOD)
        return Grid(num, den, value, present, flags)

    def _partial_columns(self, keys: tuple[str, ...]) -> np.ndarray:
        """Periods the measures' data covers in part only: not wholly inside the months every measure's table
        spans, region-wide (data up to February makes its year partial; drug lines that end before the stays
        make the later months of a ratio of the two partial)."""
        spans = [self.partials.months[k] for k in keys if k in self.partials.months]
        if not spans:
            return np.zeros(self.P, bool)
        first, last = max(s[0] for s in spans), min(s[1] for s in spans)
        k = MONTHS_PER[self.partials.grain]
        period = self.p0 + np.arange(self.P)
        return (period * k < first) | (period * k + k - 1 > last)

    def _implausible_rows(self, node: IndicatorNode, at_groups: bool) -> np.ndarray:
        """Cells whose measures used a row of implausible magnitude (a 400-day stay): flagged implausible_value."""
        return self._role_marks(node, at_groups, Role.IMPLAUSIBLE)

    def _role_marks(self, node: IndicatorNode, at_groups: bool, role: Role) -> np.ndarray:
        """Cells where any of the node's measures counted rows of `role` (implausible, or a missing value)."""
        marks = sum((self._window(self.partials.array(k, role)) for k in node.numerator + node.denominator),
                    np.zeros((self.F, self.P)))
        return (self._rollup(marks) if at_groups else marks) > 0

    def _growth(self, node: GrowthNode, base: Grid, at_groups: bool) -> Grid:
        lag = YOY_LAG[self.partials.grain] if node.lag == "yoy" else 1
        prior, prior_present = _lagged(base.value, lag, np.nan), _lagged(base.present, lag, False)
        cur = base.value
        zero = prior == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(zero | np.isnan(prior), np.nan, (cur - prior) / np.where(zero, 1, prior) * 100)
        flags = where(~prior_present | np.isnan(prior) & ~zero, Flag.NO_PRIOR_PERIOD) | where(zero, Flag.ZERO_DENOMINATOR)
        if at_groups and not self.facility_grain:
            flags |= where(self._members_changed(node, lag) & prior_present, Flag.MEMBERS_CHANGED)
        partial = (base.flags & Flag.PARTIAL_PERIOD) != 0          # this period's or the one compared with
        flags |= where(partial | _lagged(partial, lag, False), Flag.PARTIAL_PERIOD)
        return Grid(cur, prior, value, base.present.copy(), flags * base.present)

    def _members_changed(self, node: GrowthNode, lag: int) -> np.ndarray:
        """Groups with a member present in one of the two periods only (a new hospital, one that stopped
        reporting): their growth compares different sets of facilities, which the number alone hides."""
        present = self.fac_grids[node.base].present
        compared = np.zeros(present.shape, bool)
        compared[:, lag:] = True
        differ = (present != _lagged(present, lag, False)) & compared
        return self._rollup(differ.astype(float)) > 0

    def _unit_share(self, node: UnitShareNode, at_groups: bool) -> Grid:
        base = self.fac_grids[node.base]
        spec = self.plan.specs[node.base]
        t = facility_targets(targets_for(spec, self.target_set, region=False), self.facilities)
        met = judge(self._judged_value(base), t)
        counted = condition_mask(self.facilities, to_text(node.where) if node.where is not None else None)
        judged = (~np.isnan(met)) & counted[:, None]
        num, den = np.where(judged, met, 0.0), judged.astype(float)
        present = base.present & counted[:, None]
        if at_groups:
            num, den, present = self._rollup(num), self._rollup(den), self._rollup(present.astype(float)) > 0
        zero = den == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(zero, np.nan, num / np.where(zero, 1, den) * 100)
        partial = ((base.flags & Flag.PARTIAL_PERIOD) != 0).any(axis=0)[None, :]
        return Grid(num, den, value, present, where(zero & present, Flag.ZERO_DENOMINATOR) | where(partial & present, Flag.PARTIAL_PERIOD))

    # -- the tidy frame -----------------------------------------------------------------
    def frame(self, ids: list[str] | None = None) -> pd.DataFrame:
        """The tidy rows of `ids` (default: every requested indicator) for this grouping."""
        parts = [p for p in (self._rows(i) for i in (self.plan.requested if ids is None else ids)) if len(p)]
        columns = ["indicator", *self.groups.columns, *RESULT_COLUMNS[1:]]
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
        return self._typed(frame[columns])

    def _typed(self, frame: pd.DataFrame) -> pd.DataFrame:
        """One schema for the tidy result, whether or not any rows came out."""
        types = {c: (TEXT_DTYPE if isinstance(self.groups[c].dtype, pd.CategoricalDtype) else self.groups[c].dtype)
                 for c in self.groups.columns}
        types.update({c: "float64" for c in ("numerator", "denominator", "value", "target", "ci_low", "ci_high")})
        types["met"] = "boolean"
        out = frame.astype(types)
        for c in ("indicator", "period", "unit", "target_op", "flags"):
            out[c] = out[c].astype(str)
        out.columns = pd.Index(list(out.columns), dtype=object)
        return out

    def _rows(self, ident: str) -> pd.DataFrame:
        grid = self.group_grids[ident]
        spec = self.plan.specs[ident]
        chosen = targets_for(spec, self.target_set, region=not self.facility_grain)
        t = group_targets(facility_targets(chosen, self.facilities), self.group_of_fac, self.G)
        met = judge(self._judged_value(grid), t)
        flags = grid.flags | where(t.varies[:, None] & grid.present, Flag.TARGET_VARIES_IN_GROUP)
        if len(self.groups.columns):
            blank = self.groups.isna().any(axis=1).to_numpy()
            flags |= where(blank[:, None] & grid.present, Flag.BLANK_GROUP)
        g, p = np.nonzero(grid.present)
        out = self.groups.iloc[g].reset_index(drop=True)
        out.insert(0, "indicator", ident)
        out["period"] = [label(self.p0 + int(i), self.partials.grain) for i in p]
        out["numerator"] = grid.num[g, p]
        out["denominator"] = grid.den[g, p]
        out["value"] = grid.value[g, p]
        out["unit"] = spec.unit
        out["target"] = t.number[g]
        out["target_op"] = np.array(OPS + [""], dtype=object)[t.op[g]]
        met = met[g, p]
        out["met"] = pd.array(met == 1, dtype="boolean")
        out.loc[np.isnan(met), "met"] = pd.NA
        method = "none" if isinstance(self._node(ident), (GrowthNode, UnitShareNode)) else interval_method(spec)
        out["ci_low"], out["ci_high"] = interval(method, out["numerator"], out["denominator"], spec.scale, self.confidence)
        out["flags"] = [flag_text(f) for f in flags[g, p]]
        return out


    def _judged_value(self, grid: Grid) -> np.ndarray:
        """达标 is the plan's judgement on the value; a small denominator or a partial period keeps its flag and
        interval (as judged as the plan asks, and flagged so that nobody reads it as the whole year's)."""
        return np.where(grid.flags & Flag.SMALL_DENOMINATOR, np.nan, grid.value) if self.withhold_small else grid.value

    def _node(self, ident: str):
        return next(n for n in self.plan.nodes if n.id == ident)



def concat_results(frames: list[pd.DataFrame], by: list[str]) -> pd.DataFrame:
    """Tidy frames of several groupings (and grains) as one: every `by` column, empty where a grouping lacks it."""
    if len(frames) == 1:
        return frames[0]
    columns = ["indicator", *by, *RESULT_COLUMNS[1:]]
    typed = [f.reindex(columns=columns) for f in frames if len(f)]
    if not typed:
        return frames[0].reindex(columns=columns)
    out = pd.concat(typed, ignore_index=True)
    for c in by:      # a column some groupings lack: text with missing values, like the region rows of check
        if out[c].dtype == object or any(c not in f.columns for f in frames):
            out[c] = out[c].astype(object).where(out[c].notna(), None)
    out["met"] = out["met"].astype("boolean")
    out.columns = pd.Index(columns, dtype=object)
    return out
