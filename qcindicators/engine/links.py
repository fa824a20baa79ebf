"""Parent rows (stays, visits) by integer key, and child rows' parent keys gathered over batches."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..codes import StringIndex, codes_against
from .periods import month_codes


def sorted_member(keys: np.ndarray, sorted_unique: np.ndarray) -> np.ndarray:
    """np.isin for a sorted, unique right side: a binary search, not a hash of both sides per batch."""
    if not len(sorted_unique):
        return np.zeros(len(keys), bool)
    pos = np.searchsorted(sorted_unique, keys).clip(0, len(sorted_unique) - 1)
    return sorted_unique[pos] == keys


class ParentIndex:
    """(facility, id) of a stay or visit → integer key; one hash of the parent's ids, then searchsorted."""

    def __init__(self, frame: pd.DataFrame, id_col: str, fac_index: pd.Index, date_col: str | None = None,
                 unit_cols: list[str] = ()):
        self.uniques = StringIndex(frame[id_col])
        self.width = len(self.uniques) + 1
        key = codes_against(frame["facility_id"], fac_index) * self.width + self.uniques.positions(frame[id_col])
        self.row_keys = key             # in the table's row order: a batch of the parent table slices it
        order = np.argsort(key, kind="stable")
        self.keys = key[order]
        self.months = month_codes(frame[date_col])[order] if date_col else None
        # units below the facility a child row takes from its stay (the discharge department)
        self.units = {c: frame[c].to_numpy(dtype=object, na_value=None)[order] for c in unit_cols}

    def row_keys_of(self, offset: int | None, n: int) -> np.ndarray | None:
        """Keys of rows offset … offset+n of the parent table itself, without hashing their ids again."""
        if offset is None or offset + n > len(self.row_keys):
            return None
        return self.row_keys[offset:offset + n]

    def key_of(self, fac: np.ndarray, ids: pd.Series) -> np.ndarray:
        """Each row's parent key; −1 where the id is unknown."""
        pos = self.uniques.positions(ids)
        return np.where((pos >= 0) & (fac >= 0), fac * self.width + pos, -1)

    def _positions(self, fac: np.ndarray, ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """(position of each row's parent in sorted order, found mask)."""
        key = self.key_of(fac, ids)
        if not len(self.keys):
            return np.zeros(len(fac), np.int64), np.zeros(len(fac), bool)
        pos = np.searchsorted(self.keys, key).clip(0, len(self.keys) - 1)
        return pos, (key >= 0) & (self.keys[pos] == key)

    def discharge_months(self, fac: np.ndarray, encounter_ids: pd.Series) -> np.ndarray:
        """Discharge month of each row's stay; −1 where the stay is not found."""
        pos, found = self._positions(fac, encounter_ids)
        return np.where(found, self.months[pos], -1) if len(self.keys) else np.full(len(fac), -1, np.int64)

    def values_of(self, column: str, fac: np.ndarray, ids: pd.Series) -> pd.Series:
        """The parent's value of `column` for each row (missing where the parent is not found or has none)."""
        pos, found = self._positions(fac, ids)
        if column not in self.units or not len(self.keys):
            return pd.Series([None] * len(fac), dtype=object)
        return pd.Series(np.where(found, self.units[column][pos], None), dtype=object)


class PendingKeys:
    """Child rows' parent ids gathered over batches and looked up together.

    Arrow's index_in hashes its whole value set (every stay or visit id) on each call; per 1M-row
    batch of drug lines that is most of the work. Gathering the kept rows and looking them up a few
    million at a time hashes the parent ids a few times instead of once per batch.
    """

    FLUSH_ROWS = 8_000_000

    def __init__(self, index: ParentIndex):
        self.index, self.facs, self.ids, self.rows = index, [], [], 0
        self.found = [np.zeros(0, np.int64)]

    def add(self, fac: np.ndarray, ids: pd.Series) -> None:
        self.facs.append(fac)
        self.ids.append(ids)
        self.rows += len(fac)
        if self.rows >= self.FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self.rows:
            keys = self.index.key_of(np.concatenate(self.facs), pd.concat(self.ids, ignore_index=True))
            self.found.append(np.unique(keys[keys >= 0]))
        self.facs, self.ids, self.rows = [], [], 0

    def keys(self) -> np.ndarray:
        self._flush()
        return np.unique(np.concatenate(self.found))
