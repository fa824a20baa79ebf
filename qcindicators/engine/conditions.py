"""The plan's facility conditions evaluated on the facilities (or the units below them): one boolean column each."""
from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from ..compile.conditions import condition_column
from ..spec.expr import parse
from .expr_eval import as_mask, evaluate


def with_conditions(units: pd.DataFrame, conditions: Iterable[str]) -> pd.DataFrame:
    """`units` (a copy) with a column per condition; an optional column the data lacks is all missing, so a
    condition on it selects nothing (the plan check names that column as not computable)."""
    n = len(units)
    frame = units.reset_index(drop=True)
    get = lambda c: frame[c] if c in frame.columns else pd.Series([None] * n, dtype=object)   # noqa: E731
    masks = {condition_column(text): as_mask(evaluate(parse(text), get, n), n) for text in conditions}
    return frame.assign(**{k: np.asarray(v, bool) for k, v in masks.items()}) if masks else frame
