"""Per-column rules of the contract as pandera schemas, built from contract.py."""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from .contract import TABLES
from .failures import FAILURE_COLUMNS, concat_failures, empty_failures, row_keys


def build_schema(table: str, columns: list[str] | None = None, check_keys: bool = True) -> pa.DataFrameSchema:
    return _schema(table, None if columns is None else tuple(columns), check_keys)


@lru_cache(maxsize=256)
def _schema(table: str, columns: tuple[str, ...] | None, check_keys: bool) -> pa.DataFrameSchema:
    """A pandera schema for `table`, restricted to `columns` (None: every contract column).

    Types are already canonical (the readers coerce them), so the schema checks
    values: required columns present and non-null, ranges, and key uniqueness.
    """
    spec = TABLES[table]
    cols = {}
    for c in spec.columns:
        if columns is not None and c.name not in columns:
            continue
        checks = []
        if c.min is not None:
            checks.append(pa.Check.ge(c.min, ignore_na=True))
        if c.max is not None:
            checks.append(pa.Check.le(c.max, ignore_na=True))
        if checks or c.required or (check_keys and c.name in spec.key):   # a column no rule can fail is not inspected
            cols[c.name] = pa.Column(None, checks=checks, nullable=not c.required, required=c.required)
    unique = [k for k in spec.key if k in cols] if spec.key and check_keys else None
    if table == "drug_dictionary":
        unique = None  # facility_id is optional there; the key is checked in rules.py
    return pa.DataFrameSchema(cols, unique=unique or None, report_duplicates="all", strict=False)


def _messages(check: str, column: str | None, table: str) -> tuple[str, str, str]:
    """(rule, message_zh, message_en) for a pandera check name."""
    zh = TABLES[table].by_name.get(column or "", None)
    label = f"{zh.zh}（{column}）" if zh else str(column)
    if check == "not_nullable":
        return "required", f"{label}为必填项，不能为空", f"{column}: required value is missing"
    if check == "column_in_dataframe":
        return "required_column", f"缺少必填列 {label}", f"required column {column!r} is missing"
    if "uniqueness" in check:
        key = "+".join(TABLES[table].key)
        return "unique_key", f"键重复（{key} 应唯一）", f"duplicate key ({key} must be unique)"
    m = re.match(r"(greater|less)_than_or_equal_to\((.*)\)", check)
    if m:
        word = ("不能小于", "must be ≥") if m.group(1) == "greater" else ("不能大于", "must be ≤")
        return f"range:{'min' if m.group(1) == 'greater' else 'max'}", f"{label}{word[0]} {m.group(2)}", f"{column} {word[1]} {m.group(2)}"
    return check, f"{label}未通过检查 {check}", f"{column} failed check {check}"


def _surely_passes(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> bool:
    """True only where no rule of `schema` can fail on `frame`, read from the schema itself: every column present,
    no missing value where none is allowed, numbers within the ge/le bounds. Anything else (a key to check, a
    check of another kind, a column that is not plain numbers) is left to pandera, which then finds and words the
    failures. Most batches are clean, and pandera's own pass over a clean batch cost a twentieth of a run."""
    if schema.unique:
        return False
    for name, col in schema.columns.items():
        if name not in frame.columns:
            return False
        s = frame[name]
        if not col.nullable and s.isna().any():
            return False
        if not col.checks:
            continue
        if not (pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)):
            return False
        values = s.to_numpy(dtype=float, na_value=np.nan)
        for check in col.checks:
            bound = check.statistics
            if check.name == "greater_than_or_equal_to" and not (values < bound["min_value"]).any():
                continue
            if check.name == "less_than_or_equal_to" and not (values > bound["max_value"]).any():
                continue
            return False
    return True


def pandera_failures(frame: pd.DataFrame, table: str, columns: list[str] | None = None,
                     check_keys: bool = True) -> pd.DataFrame:
    """Run the table's pandera schema lazily and return every failure as tidy rows.

    Required columns outside `columns` are not demanded here (their presence is checked from
    the headers); keys are checked per batch only when `check_keys`.
    """
    schema = build_schema(table, columns, check_keys)
    if _surely_passes(schema, frame):
        return empty_failures()
    try:
        # inplace on a shallow copy: pandera's own copy of every batch was a twentieth of a run, and the schema
        # (no dtypes, no coercion) changes nothing; the shallow copy keeps even that promise for the caller's frame
        schema.validate(frame.copy(deep=False), lazy=True, inplace=True)
        return empty_failures()
    except SchemaErrors as err:
        fc = err.failure_cases
    out = []
    for (check, column), group in fc.groupby(["check", "column"], dropna=False, sort=False):
        column = None if pd.isna(column) else str(column)
        if str(check) == "column_in_dataframe":  # pandera names the missing column in failure_case
            for missing in group["failure_case"].astype(str):
                rule, zh, en = _messages("column_in_dataframe", missing, table)
                out.append(pd.DataFrame([{"table": table, "column": missing, "row": 0, "key": "", "value": None,
                                          "rule": rule, "message_zh": zh, "message_en": en}], columns=FAILURE_COLUMNS))
            continue
        rule, zh, en = _messages(str(check), column, table)
        idx = group["index"]
        if idx.isna().all():
            out.append(pd.DataFrame([{"table": table, "column": column, "row": 0, "key": "", "value": None,
                                      "rule": rule, "message_zh": zh, "message_en": en}], columns=FAILURE_COLUMNS))
            continue
        if rule == "unique_key":  # pandera reports one row per key column; one per row is enough
            group = group.drop_duplicates("index")
            column = "+".join(TABLES[table].key)
        pos = group["index"].astype("int64").to_numpy()
        values = group["failure_case"].astype("object").to_numpy()
        if rule == "unique_key":
            values = np.array(row_keys(frame, table, pos), dtype=object)
        out.append(pd.DataFrame({"table": table, "column": column, "row": pos + 1,
                                 "key": row_keys(frame, table, pos), "value": [None if pd.isna(v) else str(v) for v in values],
                                 "rule": rule, "message_zh": zh, "message_en": en}, columns=FAILURE_COLUMNS))
    return concat_failures(out)
