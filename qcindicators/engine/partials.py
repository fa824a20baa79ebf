"""Partial aggregates: what any engine hands to `combine`, and nothing engine-specific.

An engine (pandas in this process, the same kernels per partition or on a Dask worker) produces one
`Partials` per period grain: for every measure of the plan, arrays facility × period on a fixed absolute
period axis, so partials of batches, files or partitions combine exactly — sums and counts add, maxima
take the maximum, distinct counts keep their distinct (facility, period, value) triples until the
grouping is known, and measures grouped by a row's own county keep arrays per county label. Keys are
typed (`PartialKey`), never strings parsed back.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum

import numpy as np
import pandas as pd

from .periods import SPAN


class Role(Enum):
    """What an array of a measure holds."""

    VALUE = "value"        # the aggregate itself
    SUPPORT = "support"    # rows that passed the measure's filter and were placed (a row exists for the unit)
    NULLS = "nulls"        # rows whose value to sum was missing (reported in the ledger, never counted)
    ROWS = "rows"          # a count's table rows: a (unit, period) with rows but no event has the value 0
    IMPLAUSIBLE = "implausible"   # rows of implausible magnitude the measure used (flag implausible_value)


@dataclass(frozen=True)
class PartialKey:
    measure: str           # the measure's canonical text (MeasureNode.key)
    role: Role


@dataclass
class Distinct:
    """Distinct (facility, period, value) triples, values as integer codes into `labels`; `scoped`: values
    unique only within a facility (stay ids). Codes, not strings: counting by any grouping is integer work."""

    facility: np.ndarray
    period: np.ndarray
    code: np.ndarray
    labels: pd.Index
    scoped: bool

    @classmethod
    def of_values(cls, facility, period, values, scoped: bool) -> "Distinct":
        """Triples from raw values (missing values are not values: left out)."""
        codes, labels = pd.factorize(pd.Series(values), use_na_sentinel=True)
        keep = codes >= 0
        f, p, c = np.asarray(facility, np.int64)[keep], np.asarray(period, np.int64)[keep], codes[keep].astype(np.int64)
        first = unique_triples(f, p, c, len(labels))
        return cls(f[first], p[first], c[first], pd.Index(labels), scoped)

    @property
    def value(self) -> np.ndarray:
        return np.asarray(self.labels, dtype=object)[self.code]

    def counts(self, unit_of_fac: np.ndarray, n_units: int, lo: int, width: int) -> np.ndarray:
        """Distinct values per unit × period of the window lo … lo + width − 1, units given by the facility → unit
        map (−1: left out); every triple's period lies in the window."""
        unit = unit_of_fac[self.facility]
        keep = unit >= 0
        at = self.period[keep] - lo
        if len(at) and (at.min() < 0 or at.max() >= width):
            raise ValueError(f"distinct counts: periods outside the window {lo}…{lo + width - 1}")
        cell = unit[keep] * width + at
        if not self.scoped:         # a value met in two facilities of a unit counts once
            cell = cell[first_of_pairs(cell, self.code[keep])]
        # scoped values are distinct across facilities by definition, and the triples are distinct: count them
        return np.bincount(cell, minlength=n_units * width).reshape(n_units, width).astype(float)

    def merged(self, other: "Distinct") -> "Distinct":
        """Two sets of triples as one (a union, deduplicated): distinct counts never add across parts.

        Scoped values (stay ids) of two partitions never meet: a facility is whole in one partition, so their
        triples are simply put side by side, without hashing millions of ids again."""
        if self.scoped and not _share_a_facility(self.facility, other.facility):
            return Distinct(np.concatenate([self.facility, other.facility]), np.concatenate([self.period, other.period]),
                            np.concatenate([self.code, other.code + len(self.labels)]),
                            self.labels.append(other.labels), self.scoped)
        return Distinct.union([self, other])

    @staticmethod
    def union(parts: list["Distinct"]) -> "Distinct":
        """The union of several sets of triples (batches, parts): their labels factorised together, once."""
        codes, labels = pd.factorize(pd.concat([pd.Series(d.labels) for d in parts], ignore_index=True))
        starts = np.cumsum([0] + [len(d.labels) for d in parts])
        f = np.concatenate([d.facility for d in parts])
        p = np.concatenate([d.period for d in parts])
        c = np.concatenate([codes[start:][d.code] for start, d in zip(starts, parts)]).astype(np.int64)
        first = unique_triples(f, p, c, len(labels))
        return Distinct(f[first], p[first], c[first], pd.Index(labels), parts[0].scoped)

    def shifted(self, n: int) -> "Distinct":
        """The same triples with facilities numbered from n (cells of a later partition)."""
        return Distinct(self.facility + n, self.period, self.code, self.labels, self.scoped)


def _share_a_facility(a: np.ndarray, b: np.ndarray) -> bool:
    if not len(a) or not len(b):
        return False
    n = int(max(a.max(), b.max())) + 1
    return bool((np.bincount(a, minlength=n).astype(bool) & np.bincount(b, minlength=n).astype(bool)).any())


def unique_triples(f: np.ndarray, p: np.ndarray, code: np.ndarray, n_codes: int) -> np.ndarray:
    """Positions of the first occurrence of each distinct (facility, period, code): one int64 key, one sort."""
    if not len(f):
        return np.zeros(0, np.int64)
    width = int(p.max()) + 1
    if (int(f.max()) + 1) * width * (n_codes + 1) >= 1 << 62:      # too wide for one key: two sorted columns
        return first_of_pairs(f * width + p, code)
    return np.unique((f * width + p) * (n_codes + 1) + code, return_index=True)[1]


@dataclass
class CountyArrays:
    """A measure grouped by a county column of the row itself (the patient's residence): labels × period."""

    labels: list[str]
    arrays: dict[PartialKey, np.ndarray]


@dataclass
class Partials:
    """Everything one period grain of a plan produced, at facility grain — or, below the facility, at the
    grain of cells (facility × department, prescriber or drug), described by `units`."""

    n_facilities: int                                        # units: facilities, or cells
    grain: str
    aggs: dict[str, str]                                     # measure key → sum | count | max | count_distinct
    arrays: dict[PartialKey, np.ndarray] = field(default_factory=dict)      # units × SPAN
    distinct: dict[str, Distinct] = field(default_factory=dict)
    county: dict[str, CountyArrays] = field(default_factory=dict)
    units: pd.DataFrame | None = None      # cells: their facility (position) and label; None at facility grain
    unsupported: set[str] = field(default_factory=set)      # measures that have no value at this grain
    # measure key → (first, last) month code of the rows its table held, region-wide: a period not wholly inside
    # is one the data covers in part only (flag partial_period)
    months: dict[str, tuple[int, int]] = field(default_factory=dict)

    lo: int = 0                    # the arrays hold the periods lo … lo + cols − 1 of the absolute axis
    width: int | None = None       # their number of columns (None: the rest of the axis)

    @property
    def span(self) -> int:
        return SPAN[self.grain]

    @property
    def cols(self) -> int:
        return self.span - self.lo if self.width is None else self.width

    def packed(self) -> "Partials":
        """The arrays cut to the periods that hold anything — two years use 24 of the 2,412 month columns of the
        absolute axis: what a partition sends back, so that many partitions cost little memory to gather."""
        used = np.zeros(self.cols, bool)
        for arr in self.arrays.values():
            used |= ((arr != 0) & ~np.isnan(arr)).any(axis=0)
        for c in self.county.values():
            for arr in c.arrays.values():
                used |= ((arr != 0) & ~np.isnan(arr)).any(axis=0)
        for d in self.distinct.values():
            used[np.unique(d.period - self.lo)] = True
        idx = np.flatnonzero(used)
        lo, hi = (int(idx[0]), int(idx[-1]) + 1) if len(idx) else (0, 0)
        return self.windowed(self.lo + lo, hi - lo)

    def windowed(self, lo: int, width: int) -> "Partials":
        """The same partials on the periods lo … lo + width − 1 (which must hold every period that has anything)."""
        def move(key: PartialKey, a: np.ndarray) -> np.ndarray:
            return _on_window(a, self.lo, lo, width, np.nan if self._is_max(key) else 0.0)
        county = {m: CountyArrays(c.labels, {k: move(k, a) for k, a in c.arrays.items()}) for m, c in self.county.items()}
        return replace(self, arrays={k: move(k, a) for k, a in self.arrays.items()}, county=county, lo=lo, width=width)

    def _is_max(self, key: PartialKey) -> bool:
        return key.role is Role.VALUE and self.aggs.get(key.measure) == "max"

    def array(self, measure: str, role: Role = Role.VALUE) -> np.ndarray:
        """units × the window's periods; zeros where nothing was accumulated (NaN maxima stay NaN)."""
        arr = self.arrays.get(PartialKey(measure, role))
        if arr is None:
            fill = np.nan if role is Role.VALUE and self.aggs.get(measure) == "max" else 0.0
            return np.full((self.n_facilities, self.cols), fill)
        return arr

    def period_range(self) -> tuple[int, int]:
        """First and last (absolute) period code in which any measure has a row."""
        used = np.zeros(self.cols, bool)
        for key, arr in self.arrays.items():
            if key.role in (Role.SUPPORT, Role.ROWS):
                used |= arr.any(axis=0)
        for c in self.county.values():
            for key, arr in c.arrays.items():
                if key.role is Role.SUPPORT:
                    used |= arr.any(axis=0)
        idx = np.flatnonzero(used) + self.lo
        return (int(idx[0]), int(idx[-1])) if len(idx) else (0, -1)

    def merged(self, other: "Partials") -> "Partials":
        """The partials of two parts of the data (partitions of whole facilities) as one: sums add, maxima take
        the maximum, distinct counts are unions; below the facility, the two parts' cells are stacked."""
        lo, width = union_window([self, other])
        self, other = self.windowed(lo, width), other.windowed(lo, width)
        if self.units is not None:
            return self._stacked(other)
        out = Partials(self.n_facilities, self.grain, {**self.aggs, **other.aggs},
                       unsupported=self.unsupported | other.unsupported, lo=lo, width=width,
                       months=months_union(self.months, other.months))
        for key in set(self.arrays) | set(other.arrays):
            a, b = self.array(key.measure, key.role), other.array(key.measure, key.role)
            out.arrays[key] = np.fmax(a, b) if out.aggs.get(key.measure) == "max" and key.role is Role.VALUE else a + b
        for key in set(self.distinct) | set(other.distinct):
            parts = [d for d in (self.distinct.get(key), other.distinct.get(key)) if d is not None]
            out.distinct[key] = parts[0] if len(parts) == 1 else parts[0].merged(parts[1])
        # one label list for every measure: combine groups all of them by the first measure's labels, and a
        # measure one part lacks (a partition without discharges) would otherwise keep the other part's order
        labels = list(dict.fromkeys(label for part in (self, other) for c in part.county.values() for label in c.labels))
        for key in set(self.county) | set(other.county):
            out.county[key] = _merged_county(self.county.get(key), other.county.get(key), out.aggs[key], labels)
        return out

    def _stacked(self, other: "Partials") -> "Partials":
        """Cells of two partitions (their facilities differ, so their cells do too) one after the other
        (both on the same window)."""
        n = self.n_facilities
        out = Partials(n + other.n_facilities, self.grain, {**self.aggs, **other.aggs},
                       units=pd.concat([self.units, other.units], ignore_index=True),
                       unsupported=self.unsupported | other.unsupported, lo=self.lo, width=self.width,
                       months=months_union(self.months, other.months))
        for key in set(self.arrays) | set(other.arrays):
            out.arrays[key] = np.vstack([self.array(key.measure, key.role), other.array(key.measure, key.role)])
        for key in set(self.distinct) | set(other.distinct):
            a, b = self.distinct.get(key), other.distinct.get(key)
            shifted = b and b.shifted(n)
            out.distinct[key] = shifted if a is None else (a if b is None else a.merged(shifted))
        return out


def months_union(a: dict[str, tuple[int, int]], b: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """The months two parts' rows span, measure by measure: from the earlier first to the later last."""
    out = dict(a)
    for key, (first, last) in b.items():
        out[key] = (min(first, out[key][0]), max(last, out[key][1])) if key in out else (first, last)
    return out


def _merged_county(a: CountyArrays | None, b: CountyArrays | None, agg: str, labels: list[str]) -> CountyArrays:
    parts = [part for part in (a, b) if part is not None]
    out = CountyArrays(labels, {})
    for key in set().union(*(part.arrays for part in parts)):
        is_max = agg == "max" and key.role is Role.VALUE
        on = [_on_labels(part, key, labels, np.nan if is_max else 0.0) for part in parts]
        out.arrays[key] = on[0] if len(on) == 1 else np.fmax(on[0], on[1]) if is_max else on[0] + on[1]
    return out


def _on_labels(part: CountyArrays, key: PartialKey, labels: list[str], fill: float) -> np.ndarray:
    width = next(iter(part.arrays.values())).shape[1]
    out = np.full((len(labels), width), fill)
    if key in part.arrays:
        out[pd.Index(labels).get_indexer(part.labels)] = part.arrays[key]
    return out


def union_window(parts: list["Partials"]) -> tuple[int, int]:
    """(lo, width) of the periods any of `parts` holds; a part with no periods (window 0…−1) adds none."""
    held = [p for p in parts if p.cols]
    if not held:
        return 0, 0
    lo = min(p.lo for p in held)
    return lo, max(p.lo + p.cols for p in held) - lo


def _on_window(a: np.ndarray, lo_from: int, lo: int, width: int, fill: float) -> np.ndarray:
    """Columns of `a` (periods from lo_from) placed on the window lo … lo + width − 1."""
    if lo_from == lo and a.shape[1] == width:
        return a
    out = np.full((a.shape[0], width), fill)
    start, stop = max(lo_from, lo), min(lo_from + a.shape[1], lo + width)
    if stop > start:
        out[:, start - lo:stop - lo] = a[:, start - lo_from:stop - lo_from]
    held = a[:, :start - lo_from], a[:, stop - lo_from:]
    if any(((h != 0) & ~np.isnan(h)).any() for h in held if h.size):
        raise ValueError(f"partials: periods {lo_from}…{lo_from + a.shape[1] - 1} do not fit the window {lo}…{lo + width - 1}")
    return out


def first_of_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Positions of the first occurrence of each distinct (a, b) pair (integer arrays, any order)."""
    if not len(a):
        return np.zeros(0, np.int64)
    order = np.lexsort((b, a))
    a_s, b_s = a[order], b[order]
    return order[np.r_[True, (a_s[1:] != a_s[:-1]) | (b_s[1:] != b_s[:-1])]]
