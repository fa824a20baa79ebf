"""Integer codes instead of string merges: every lookup in the engine goes through here."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def codes_against(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Position of each value in `index` (−1 where absent or missing).

    Hashes only the distinct values: a categorical (dictionary-encoded Parquet)
    costs a lookup of its categories; anything else is factorised once.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = np.asarray(values.cat.codes)
        cats = values.cat.categories.astype("str")
    else:
        codes, cats = pd.factorize(values, use_na_sentinel=True)
        cats = pd.Index(cats).astype("str")
    lookup = np.append(index.get_indexer(cats), -1)   # code −1 (missing) → last slot → −1
    return lookup[codes].astype(np.int64)


def arrow_text(values: pd.Series, whole: bool = True):
    """The Arrow array behind a text column (zero-copy for pandas' Arrow strings); `whole=False` leaves a
    column read in batches in its chunks (combining 20 million ids copies them)."""
    arr = values.array
    if hasattr(arr, "__arrow_array__"):
        out = arr.__arrow_array__()
    else:
        out = pa.array(values.astype(object).where(values.notna(), None), type=pa.string(), from_pandas=True)
    if isinstance(out, pa.ChunkedArray) and (whole or out.num_chunks == 1):
        out = out.combine_chunks() if out.num_chunks != 1 else out.chunk(0)
    if pa.types.is_dictionary(out.type):
        out = out.cast(pa.string())
    if not (pa.types.is_string(out.type) or pa.types.is_large_string(out.type)):
        out = out.cast(pa.string())
    return out


def strictly_increasing(arr) -> bool:
    """An Arrow text array sorted with no repeats and no missing value: its values are distinct without
    hashing them (exports usually list a facility's stays and visits in id order; a comparison of
    neighbours costs a fortieth of a hash of every id)."""
    if len(arr) < 2:
        return arr.null_count == 0
    return arr.null_count == 0 and bool(pc.all(pc.less(arr.slice(0, len(arr) - 1), arr.slice(1))).as_py())


def fixed_width(arr) -> np.ndarray | None:
    """Arrow text whose values all have one byte length, as a numpy bytes array viewing Arrow's data buffer
    (no copy, no Python string per value); None where lengths differ, a value is missing or holds a NUL byte
    (numpy's bytes compare as memcmp only without NULs). Ids usually have one length: 'V202300000001'."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if not len(arr) or arr.null_count:
        return None
    _, offsets, data = arr.buffers()
    offs = np.frombuffer(offsets, np.int64 if pa.types.is_large_string(arr.type) else np.int32)[arr.offset:arr.offset + len(arr) + 1]
    width = int(offs[1] - offs[0])
    if width == 0 or int(offs[-1] - offs[0]) != width * len(arr) or (np.diff(offs) != width).any():
        return None
    raw = np.frombuffer(data, np.uint8)[int(offs[0]):int(offs[-1])]
    if not raw.all():
        return None
    return raw.view(f"S{width}")


def run_starts(arr, *keys: np.ndarray) -> np.ndarray | None:
    """First rows of runs of equal consecutive (Arrow text value, keys…) — the lines of one stay follow each
    other — when runs at least halve the rows (else None: not worth it). A missing value starts a run of its own."""
    n = len(arr)
    if n < 2:
        return None
    same = pc.fill_null(pc.equal(arr.slice(1), arr.slice(0, n - 1)), False).to_numpy(zero_copy_only=False)
    for k in keys:
        same &= k[1:] == k[:-1]
    heads = np.flatnonzero(np.r_[True, ~same])
    return heads if len(heads) < n // 2 else None


def run_of(starts: np.ndarray, n: int) -> np.ndarray:
    """For rows 0…n−1, the number of the run (starting at `starts`) each belongs to."""
    mark = np.zeros(n, np.int64)
    mark[starts] = 1
    return np.cumsum(mark) - 1


def add_counts(out: np.ndarray, cells: np.ndarray, weights: np.ndarray | None = None) -> None:
    """out[cells] += weights (1 each without): a bincount over the span of cells this batch touches, not over
    `out` — a province's facility × month array is a million cells, and a batch touches a few thousand."""
    if not len(cells):
        return
    lo, hi = int(cells.min()), int(cells.max()) + 1
    out[lo:hi] += np.bincount(cells - lo, weights=weights, minlength=hi - lo)


class SortedIds:
    """A facility's sorted one-width ids for binary search, as integers where they fit: ids share a prefix
    ('V202…') and the rest uses a narrow range of bytes (digits), so it reads as a number in that base which
    sorts like the bytes. A uint64 comparison instead of a byte-string one made the catalog's lookups of drug
    lines among stays several times faster; nothing is hashed, and the keys cost 8 bytes per id."""

    def __init__(self, view: np.ndarray):
        self.view = view
        width = view.dtype.itemsize
        same = np.frombuffer(view[0], np.uint8) == np.frombuffer(view[-1], np.uint8)
        self.prefix = width if same.all() else int(np.argmin(same))      # shared by the lowest and highest: by all
        rest = _bytes(view)[:, self.prefix:]
        self.low = int(rest.min()) if rest.size else 0
        self.base = int(rest.max()) - self.low + 1 if rest.size else 1
        self.keys = self._keys(rest) if self.base ** rest.shape[1] <= 1 << 64 else None

    def _keys(self, rest: np.ndarray) -> np.ndarray:
        keys = np.zeros(len(rest), np.uint64)
        for column in rest.T:
            keys = keys * np.uint64(self.base) + (column - np.uint8(self.low)).astype(np.uint64)
        return keys

    def find(self, wanted: np.ndarray) -> np.ndarray:
        """Position of each wanted id (same byte width) among the sorted ids, −1 where absent."""
        if self.keys is None:
            pos = np.searchsorted(self.view, wanted).clip(0, len(self.view) - 1)
            return np.where(self.view[pos] == wanted, pos, -1)
        raw = _bytes(wanted)
        first = _bytes(self.view[:1])[0]
        rest = raw[:, self.prefix:]
        known = (raw[:, :self.prefix] == first[:self.prefix]).all(axis=1) \
            & ((rest >= self.low) & (rest < self.low + self.base)).all(axis=1)     # a byte no id has: no id it is
        keys = self._keys(np.where(known[:, None], rest, first[self.prefix:]))        # those others: not found below
        pos = np.searchsorted(self.keys, keys).clip(0, len(self.keys) - 1)
        return np.where(known & (self.keys[pos] == keys), pos, -1)


def _bytes(view: np.ndarray) -> np.ndarray:
    """Fixed-width bytes values as a (values × width) uint8 matrix (no copy)."""
    return view.view(np.uint8).reshape(len(view), view.dtype.itemsize)
