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


_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F))


def _hashes(view: np.ndarray, group: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each (group, fixed-width bytes): the bytes read as little-endian words and mixed in
    with wrapping multiplications. Not a key by itself (two values may share one): FixedWidthKeys checks."""
    width = view.dtype.itemsize
    words = -(-width // 8)
    padded = np.zeros((len(view), words * 8), np.uint8)
    padded[:, :width] = view.view(np.uint8).reshape(len(view), width)
    h = group.astype(np.uint64) * _MIX[0]
    for w in padded.view(np.uint64).T:
        h = (h ^ w) * _MIX[1]
    return h ^ (h >> np.uint64(29))


class FixedWidthKeys:
    """(group, text of one byte width) → position among `n` known rows, through one hash table of 64-bit
    integers instead of a binary search of byte strings (the lines of a region looked up among its stays).

    Every answer is checked against the known bytes and group, so two values that share a hash are never
    confused: a row whose hash points at another value is reported as unsure (−2) for the caller to look up
    another way; −1 means surely absent (no known value has its hash).
    """

    def __init__(self, view: np.ndarray, group: np.ndarray):
        self.view, self.group = view, group
        step = 1 << 20          # in slices: the padded copy of 20 million ids would be 300 MB at once
        h = np.concatenate([_hashes(view[i:i + step], group[i:i + step]) for i in range(0, len(view), step)]) \
            if len(view) else np.zeros(0, np.uint64)
        index = pd.Index(h)
        if index.is_unique:         # the hash table built here is the one get_indexer uses
            self.first, self.index = np.arange(len(h)), index
        else:                       # a repeated id (or a shared hash) keeps its first row
            self.first = np.flatnonzero(~index.duplicated(keep="first"))
            self.index = pd.Index(h[self.first])

    @classmethod
    def of(cls, ids, group: np.ndarray) -> "FixedWidthKeys | None":
        view = fixed_width(ids)
        return None if view is None else cls(view, group)

    def find(self, ids, group: np.ndarray) -> np.ndarray | None:
        """Position of each (group, id) among the known rows; −1 absent, −2 unsure. None where `ids` cannot be
        viewed as bytes (a NUL byte)."""
        width = self.view.dtype.itemsize
        fits = pc.fill_null(pc.equal(pc.binary_length(ids), width), False).to_numpy(zero_copy_only=False) & (group >= 0)
        out = np.full(len(fits), -1, np.int64)
        if not fits.any():
            return out
        wanted = fixed_width(ids if fits.all() else ids.filter(pa.array(fits)))
        if wanted is None:
            return None
        g = group[fits]
        at = self.index.get_indexer(_hashes(wanted, g))
        pos = np.where(at >= 0, self.first[np.maximum(at, 0)], -1)
        hit = pos >= 0
        same = np.zeros(len(pos), bool)
        same[hit] = (self.view[pos[hit]] == wanted[hit]) & (self.group[pos[hit]] == g[hit])
        out[fits] = np.where(same, pos, np.where(hit, -2, -1))
        return out
