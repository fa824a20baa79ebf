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
