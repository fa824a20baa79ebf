"""Integer codes instead of string merges: every lookup in the engine goes through here."""
from __future__ import annotations

import numpy as np
import pandas as pd


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
