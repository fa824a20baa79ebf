"""The tidy failure table: one row per offending cell (or row), every rule bilingual."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .contract import TABLES

FAILURE_COLUMNS = ["table", "column", "row", "key", "value", "rule", "message_zh", "message_en"]


_EMPTY = pd.DataFrame({c: pd.Series(dtype="object") for c in FAILURE_COLUMNS}).astype({"row": "int64"})


def empty_failures() -> pd.DataFrame:
    """No failures. Built once: this is asked for once per batch and per rule."""
    return _EMPTY.copy(deep=False)


def row_keys(frame: pd.DataFrame, table: str, positions: np.ndarray) -> list[str]:
    """A readable key per failing row (e.g. 'F001/E000123'), from whatever key columns exist."""
    spec = TABLES[table]
    cols = [c for c in (spec.key or (spec.facility_column,)) if c and c in frame.columns]
    if table in ("procedures", "drug_orders"):
        cols = [c for c in ("facility_id", "encounter_id") if c in frame.columns]
    if not cols or len(positions) == 0:
        return [""] * len(positions)
    parts = [frame[c].iloc[positions].astype("object").where(lambda s: s.notna(), "").astype(str).to_numpy()
             for c in cols]
    out = parts[0]
    for p in parts[1:]:
        out = np.char.add(np.char.add(out.astype(str), "/"), p.astype(str))
    return list(out)


def make_failures(frame: pd.DataFrame, table: str, column: str | None, positions, rule: str,
                  zh: str, en: str, values=None) -> pd.DataFrame:
    """Failures at `positions` (0-based row positions of `frame`); `row` is reported 1-based."""
    positions = np.asarray(positions, dtype=np.int64)
    if len(positions) == 0:
        return empty_failures()
    if values is None:
        values = frame[column].iloc[positions].astype("object").to_numpy() if column in frame.columns else [None] * len(positions)
    return pd.DataFrame({
        "table": table,
        "column": column,
        "row": positions + 1,
        "key": row_keys(frame, table, positions),
        "value": [_text(v) for v in values],  # only failing rows: few
        "rule": rule,
        "message_zh": zh,
        "message_en": en,
    }, columns=FAILURE_COLUMNS)


def concat_failures(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_failures()
    return parts[0].reset_index(drop=True) if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def _text(v) -> str | None:
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(v).strftime("%Y-%m-%d")
    return str(v)
