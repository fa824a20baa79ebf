"""Parent rows (stays, visits) by integer key, and child rows' parent keys gathered over batches."""
from __future__ import annotations

import numpy as np
import pandas as pd

import pyarrow as pa
import pyarrow.compute as pc

from ..codes import SortedIds, arrow_text, codes_against, fixed_width, run_of, run_starts, strictly_increasing
from .periods import month_codes


def sorted_member(keys: np.ndarray, sorted_unique: np.ndarray) -> np.ndarray:
    """np.isin for a sorted, unique right side: a binary search, not a hash of both sides per batch."""
    if not len(sorted_unique):
        return np.zeros(len(keys), bool)
    pos = np.searchsorted(sorted_unique, keys).clip(0, len(sorted_unique) - 1)
    return sorted_unique[pos] == keys


class ParentIndex:
    """(facility, id) of a stay or visit → integer key: its position among the parent rows sorted by facility.

    Ids are unique only within a facility, and a batch of child rows comes from a few facilities: each is looked
    up among its own facility's ids — by binary search where those are sorted and of one byte width (usual:
    'Z20230038831'; as integers after their shared prefix, `codes.SortedIds`), else by Arrow's index_in of the
    facility's few thousand ids (hashing every stay of the region on every call would cost far more).
    """

    def __init__(self, frame: pd.DataFrame, id_col: str, fac_index: pd.Index, date_col: str | None = None,
                 unit_cols: list[str] = ()):
        fac = codes_against(frame["facility_id"], fac_index)
        grouped = len(fac) < 2 or bool((fac[1:] >= fac[:-1]).all())    # exports list a facility's rows together
        order = np.arange(len(fac)) if grouped else np.argsort(fac, kind="stable")
        ids = arrow_text(frame[id_col])
        self.ids = ids if grouped else ids.take(pa.array(order))     # Arrow's take of 20 M ids took seconds
        self.starts = np.searchsorted(fac[order], np.arange(len(fac_index) + 1))   # facility f: rows starts[f]…starts[f+1]
        self.row_keys = np.full(len(frame), -1, np.int64)    # in the table's row order: a batch of the parent slices it
        self.sorted_ids: dict[int, SortedIds] = {}            # facility → its ids, sorted, of one byte width
        for f in np.flatnonzero(np.diff(self.starts)):       # facilities, not rows: the first row of an id is its key
            lo, hi = self.starts[f], self.starts[f + 1]
            own = self.ids.slice(lo, hi - lo)
            if strictly_increasing(own):
                self.row_keys[order[lo:hi]] = np.arange(lo, hi)
                view = fixed_width(own)
                if view is not None:
                    self.sorted_ids[f] = SortedIds(view)
            else:
                self.row_keys[order[lo:hi]] = self._local(f, own)
        self.months = month_codes(frame[date_col])[order] if date_col else None
        # units below the facility a child row takes from its stay (the discharge department)
        self.units = {c: frame[c].to_numpy(dtype=object, na_value=None)[order] for c in unit_cols}

    def _local(self, f: int, ids) -> np.ndarray:
        lo, hi = self.starts[f], self.starts[f + 1]
        known = self.sorted_ids.get(f)
        if known is not None:       # a facility's ids in order, one width: a binary search, no hash built per batch
            found = self._searched(known, lo, ids)
            if found is not None:
                return found
        found = pc.index_in(ids, value_set=self.ids.slice(lo, hi - lo))
        local = np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
        return np.where(local >= 0, lo + local, -1)

    @staticmethod
    def _searched(known: SortedIds, lo: int, ids) -> np.ndarray | None:
        """Keys of `ids` among a facility's sorted one-width ids; an id of another length is no stay of it (the
        lines of visits, looked up among stays). None where the ids cannot be viewed as bytes (a NUL byte)."""
        fits = pc.fill_null(pc.equal(pc.binary_length(ids), known.view.dtype.itemsize), False).to_numpy(zero_copy_only=False)
        out = np.full(len(fits), -1, np.int64)
        if not fits.any():
            return out
        wanted = fixed_width(ids if fits.all() else ids.filter(pa.array(fits)))
        if wanted is None:
            return None
        found = known.find(wanted)
        out[fits] = np.where(found >= 0, lo + found, -1)
        return out

    def row_keys_of(self, offset: int | None, n: int) -> np.ndarray | None:
        """Keys of rows offset … offset+n of the parent table itself, without hashing their ids again."""
        if offset is None or offset + n > len(self.row_keys):
            return None
        return self.row_keys[offset:offset + n]

    def key_of(self, fac: np.ndarray, ids: pd.Series, runs: tuple | None = None) -> np.ndarray:
        """Each row's parent key; −1 where the facility or the id is unknown.

        Child rows come in runs (the drug lines of one stay follow each other): each run is looked up once.
        `runs`: (Arrow text of `ids`, run starts), where the caller has them already (ColumnProvider.runs).
        """
        arr, starts = runs if runs is not None else (arrow_text(ids), None)
        if runs is None:
            starts = run_starts(arr, fac)
        if starts is not None:
            return self._keys(fac[starts], arr.take(pa.array(starts)))[run_of(starts, len(fac))]
        return self._keys(fac, arr)

    def _keys(self, fac: np.ndarray, arr) -> np.ndarray:
        out = np.full(len(fac), -1, np.int64)
        if not len(fac):
            return out
        order = np.argsort(fac, kind="stable")
        sorted_fac = fac[order]
        cuts = np.flatnonzero(np.diff(sorted_fac)) + 1
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(fac)]):     # one lookup per facility in the batch
            f = int(sorted_fac[lo])
            if f < 0 or f >= len(self.starts) - 1:
                continue
            rows = order[lo:hi]
            contiguous = rows[-1] - rows[0] == len(rows) - 1      # a batch of one facility's rows: a slice
            part = arr.slice(int(rows[0]), len(rows)) if contiguous else arr.take(pa.array(rows))
            out[rows] = self._local(f, part)
        return out

    def months_of(self, key: np.ndarray) -> np.ndarray:
        """Discharge month of the stays `key` (from key_of); −1 where the stay is not found."""
        if self.months is None or not len(self.months):
            return np.full(len(key), -1, np.int64)
        return np.where(key >= 0, self.months[np.maximum(key, 0)], -1)

    def values_of(self, column: str, key: np.ndarray) -> pd.Series:
        """The parent's value of `column` for the parents `key` (missing where not found or it has none)."""
        if column not in self.units or not len(self.row_keys):
            return pd.Series([None] * len(key), dtype=object)
        return pd.Series(np.where(key >= 0, self.units[column][np.maximum(key, 0)], None), dtype=object)


class PendingKeys:
    """Which parent rows (stays, visits) child rows of a batch point to, gathered over batches.

    A parent key is the parent's row position, so the answer is a mark per parent row: each batch is looked
    up on its own (its few facilities' ids hashed, not the region's) and nothing is sorted until the end.
    """

    def __init__(self, index: ParentIndex):
        self.index = index
        self.hit = np.zeros(len(index.row_keys), bool)

    def add(self, keys: np.ndarray) -> None:
        """Mark the parents `keys` (from ParentIndex.key_of; −1: not found)."""
        self.hit[keys[keys >= 0]] = True

    def keys(self) -> np.ndarray:
        """The sorted keys of the parents some child row pointed to."""
        return np.flatnonzero(self.hit)
