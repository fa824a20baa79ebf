"""Running partial aggregates of one period grain, fed batch by batch: bincounts that add up."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..codes import add_counts
from .partials import CountyArrays, Distinct, PartialKey, Partials, Role, months_union, unique_triples


class LabelRegistry:
    """Integer codes for labels met batch by batch (a row's own county): a new label gets the next code."""

    def __init__(self) -> None:
        self.index = pd.Index([], dtype=object)

    def codes(self, values: pd.Series) -> np.ndarray:
        """Each value's code (−1 where missing), registering labels not seen before."""
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        labels = pd.Index(np.asarray(uniques, dtype=object)).astype(str)
        new = labels[self.index.get_indexer(labels) < 0]
        if len(new):
            self.index = self.index.append(pd.Index(new, dtype=object))
        return np.append(self.index.get_indexer(labels), -1)[codes].astype(np.int64)

    def __len__(self) -> int:
        return len(self.index)


# The cell of a facility's rows whose department (prescriber, drug …) is blank: shown, so that the cells of a
# facility always add up to it, and named so that it is never mistaken for a facility or region row.
BLANK_UNIT = "(未填写 blank)"


class CellRegistry:
    """Units below the facility: integer codes for (facility, label) pairs met batch by batch."""

    def __init__(self, column: str) -> None:
        self.column = column
        self.labels = LabelRegistry()
        self.pairs = pd.Index([], dtype=np.int64)

    def codes(self, fac: np.ndarray, values: pd.Series) -> np.ndarray:
        """Each row's cell (a missing label is a cell of its own, so cells add up to their facility)."""
        label = self.labels.codes(values)
        pair = fac.astype(np.int64) * (1 << 31) + (label + 1)
        uniq = pd.unique(pair)
        new = uniq[self.pairs.get_indexer(uniq) < 0]
        if len(new):
            self.pairs = self.pairs.append(pd.Index(new, dtype=np.int64))
        return self.pairs.get_indexer(pair).astype(np.int64)

    def __len__(self) -> int:
        return len(self.pairs)

    def frame(self) -> pd.DataFrame:
        """One row per cell: the facility (position) and the label (BLANK_UNIT where the row had none)."""
        pairs = self.pairs.to_numpy(dtype=np.int64)
        label = pairs % (1 << 31) - 1
        names = np.append(self.labels.index.to_numpy(dtype=object), BLANK_UNIT)
        return pd.DataFrame({"facility": pairs // (1 << 31), self.column: names[label]})


class GrainAccumulator:
    """Every measure's partials at one period grain: unit × period arrays, distinct triples, county arrays.

    The arrays hold a window of the absolute period axis, widened as batches bring earlier or later periods:
    two years of months are 24 columns, not the axis's 2,412 — memory follows the data, not the calendar."""

    def __init__(self, n_facilities: int, grain: str, aggs: dict[str, str], counties: LabelRegistry,
                 cells: CellRegistry | None = None):
        self.F, self.grain, self.aggs, self.counties = n_facilities, grain, aggs, counties
        self.lo, self.P = 0, 0           # the window: periods lo … lo + P − 1
        self.cells = cells          # units below the facility: rows are cells, not facilities
        self.unsupported: set[str] = set()
        self.flat: dict[PartialKey, np.ndarray] = {}
        self.by_county: dict[str, dict[PartialKey, np.ndarray]] = {}
        self.distinct: dict[str, list[Distinct]] = {}
        self.months: dict[str, tuple[int, int]] = {}

    def _is_max(self, key: PartialKey) -> bool:
        return key.role is Role.VALUE and self.aggs[key.measure] == "max"

    def _fill(self, key: PartialKey) -> float:
        return -np.inf if self._is_max(key) else 0.0

    @property
    def n_units(self) -> int:
        return self.F if self.cells is None else len(self.cells)

    def cells_of(self, units: np.ndarray, periods: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Each row's cell (unit × period in the window; 0 where not valid), the window widened to hold the
        periods of the valid rows. Valid until the next call."""
        self._cover(periods[valid])
        return np.where(valid, units * self.P + (periods - self.lo), 0)

    def _cover(self, periods: np.ndarray) -> None:
        if not len(periods):
            return
        lo, hi = int(periods.min()), int(periods.max())
        if self.P and lo >= self.lo and hi < self.lo + self.P:
            return
        new_lo = min(lo, self.lo) if self.P else lo
        new_p = max(hi + 1, self.lo + self.P) - new_lo
        shift = self.lo - new_lo
        for key, arr in self.flat.items():
            self.flat[key] = _widened(arr.reshape(-1, self.P) if self.P else arr.reshape(0, 0), shift, new_p,
                                      self._fill(key)).reshape(-1)
        for store in self.by_county.values():
            for key, arr in store.items():
                store[key] = _widened(arr, shift, new_p, self._fill(key))
        self.lo, self.P = new_lo, new_p

    def saw_months(self, measures: list[str], first: int, last: int) -> None:
        """The measures' table held rows from month `first` to `last` (a batch's span; see Partials.months)."""
        self.months = months_union(self.months, {m: (first, last) for m in measures})

    def add(self, measure: str, role: Role, cells: np.ndarray, values: np.ndarray | None = None) -> None:
        """Add rows at `cells` (from cells_of; a count when `values` is None)."""
        key = PartialKey(measure, role)
        size = self.n_units * self.P
        arr = self.flat.get(key)
        if arr is None or arr.size < size:      # units below the facility appear batch by batch
            grown = np.full(size, self._fill(key))
            if arr is not None:
                grown[:arr.size] = arr
            self.flat[key] = arr = grown
        if self._is_max(key):
            np.maximum.at(arr, cells, values)
            return
        add_counts(arr, cells, values)

    def add_county(self, measure: str, role: Role, county: np.ndarray, periods: np.ndarray,
                   values: np.ndarray | None = None) -> None:
        """Add rows grouped by their own county code (see LabelRegistry)."""
        self._cover(periods)
        key = PartialKey(measure, role)
        store = self.by_county.setdefault(measure, {})
        rows = max(len(self.counties), 1)
        arr = store.get(key)
        if arr is None or arr.shape[0] < rows:
            grown = np.full((rows, self.P), self._fill(key))
            if arr is not None:
                grown[:arr.shape[0]] = arr
            store[key] = arr = grown
        flat = arr.reshape(-1)
        cells = county * self.P + (periods - self.lo)
        if self._is_max(key):
            np.maximum.at(flat, cells, values)
        else:
            add_counts(flat, cells, values)

    def add_distinct(self, measure: str, codes: np.ndarray, uniques: pd.Index, fac: np.ndarray, periods: np.ndarray,
                     scoped: bool) -> None:
        """Keep each batch's distinct (facility, period, value) once, values as `codes` into the batch's distinct
        values `uniques` (−1: missing, not counted). Neighbouring repeats (a stay's lines) are dropped before the
        sort that finds the distinct triples."""
        ok = np.flatnonzero(codes >= 0)
        f, p, c = fac[ok].astype(np.int64), periods[ok].astype(np.int64), codes[ok].astype(np.int64)
        if len(c) > 1:
            new = np.r_[True, (c[1:] != c[:-1]) | (p[1:] != p[:-1]) | (f[1:] != f[:-1])]
            f, p, c = f[new], p[new], c[new]
        first = unique_triples(f, p, c, len(uniques))
        used, code = np.unique(c[first], return_inverse=True)     # only the values kept: a batch's labels are all
        self.distinct.setdefault(measure, []).append(                # of its rows', most not in this measure's filter
            Distinct(f[first], p[first], code.reshape(-1).astype(np.int64), pd.Index(uniques).take(used), scoped))

    def partials(self) -> Partials:
        U = self.n_units
        out = Partials(U, self.grain, dict(self.aggs), unsupported=set(self.unsupported),
                       units=None if self.cells is None else self.cells.frame(), lo=self.lo, width=self.P,
                       months=dict(self.months))
        for key, arr in self.flat.items():
            arr = np.concatenate([arr, np.full(U * self.P - arr.size, self._fill(key))]).reshape(U, self.P)
            out.arrays[key] = np.where(np.isinf(arr), np.nan, arr) if self._is_max(key) else arr
        for measure, parts in self.distinct.items():
            out.distinct[measure] = Distinct.union(parts)
        labels = list(self.counties.index.astype(str))
        for measure, store in self.by_county.items():
            arrays = {}
            for key, arr in store.items():
                full = np.full((len(labels), self.P), self._fill(key))
                full[:arr.shape[0]] = arr[:len(labels)]
                arrays[key] = np.where(np.isinf(full), np.nan, full) if self._is_max(key) else full
            out.county[measure] = CountyArrays(labels, arrays)
        return out



def _widened(arr: np.ndarray, shift: int, width: int, fill: float) -> np.ndarray:
    """rows × periods moved `shift` columns right into `width` columns (the window grew on either side)."""
    out = np.full((arr.shape[0], width), fill)
    out[:, shift:shift + arr.shape[1]] = arr
    return out
