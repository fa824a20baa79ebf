"""Results into a database table: one run per run_id, replaced whole in one transaction.

A nightly job that runs twice writes one copy: the rows of the run id (results, diagnostics and the
runs-table row with the provenance as JSON) are deleted and written again inside one transaction.
Tables are created with proper SQL types when missing and checked when present.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid

import pandas as pd

from ..io.dburl import DatabaseError, db_errors, open_engine

RUNS_TABLE = "qci_runs"
LEDGER_TYPES = {"rows": "int64", "quantity": "float64", "amount": "float64", "share": "float64"}


def _sql_type(series: pd.Series):
    import sqlalchemy as sa
    if pd.api.types.is_bool_dtype(series.dtype):
        return sa.Boolean()
    if pd.api.types.is_integer_dtype(series.dtype):
        return sa.BigInteger()
    if pd.api.types.is_float_dtype(series.dtype):
        return sa.Float(53)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return sa.DateTime(timezone=True)
    return sa.Text()


def _prepared(frame: pd.DataFrame, run_id: str, computed_at: dt.datetime) -> pd.DataFrame:
    """run_id and computed_at first; 'met' boolean even when all missing; categoricals as text."""
    out = frame.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(object)
    if "met" in out:
        out["met"] = out["met"].astype("boolean")
    for c in ("flags", "target_op", "unit"):
        if c in out:
            out[c] = out[c].astype(object)
    out.insert(0, "computed_at", pd.Series([computed_at] * len(out), dtype="datetime64[us, UTC]"))
    out.insert(0, "run_id", run_id)
    return out


def _records(frame: pd.DataFrame) -> list[dict]:
    """Python values with None for every missing value (NaN, NA, NaT), as the drivers want them."""
    obj = frame.astype(object)
    return obj.where(frame.notna(), None).to_dict("records")


def _table(meta, name: str, frame: pd.DataFrame, schema, key: str | None = None):
    import sqlalchemy as sa
    cols = [sa.Column(c, _sql_type(frame[c]), primary_key=(c == key), nullable=(c != key)) for c in frame.columns]
    return sa.Table(name, meta, *cols, schema=schema)


def _check_existing(conn, table, schema) -> None:
    """A table already there must take every column with a compatible type; columns it has beyond ours must be nullable."""
    import sqlalchemy as sa
    from ..io.database import reflect_columns
    have = {c: t._type_affinity for c, t in reflect_columns(conn.engine, table.name, schema).items()}
    missing = [c.name for c in table.columns if c.name not in have]
    wrong = [f"{c.name} ({have[c.name].__name__} ≠ {c.type._type_affinity.__name__})" for c in table.columns
             if c.name in have and have[c.name] is not sa.types.NullType
             and not issubclass(have[c.name], c.type._type_affinity) and not issubclass(c.type._type_affinity, have[c.name])]
    if missing or wrong:
        raise DatabaseError(f"已有的表 {table.name} 与结果不符 / existing table {table.name!r} does not fit the result: "
                            + (f"missing columns {missing}" if missing else "") + ("; " if missing and wrong else "")
                            + (f"column types {wrong}" if wrong else "")
                            + "。请换一个表名（--out-table）/ use another table name (--out-table)")


def write_sql(result, url_or_engine, table: str = "qci_results", run_id: str | None = None, schema: str | None = None,
              diagnostics_table: str | None = None, runs_table: str = RUNS_TABLE) -> str:
    """Write `result` (and its ledger, if `diagnostics_table`) under `run_id`; the run id used."""
    import sqlalchemy as sa
    computed_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    run_id = run_id or computed_at.strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]
    frames = {table: _prepared(result.frame, run_id, computed_at)}
    if diagnostics_table:
        ledger = pd.DataFrame(result.diagnostics)
        numbers = {c: t for c, t in LEDGER_TYPES.items() if c in ledger}   # one schema, with or without rows
        frames[diagnostics_table] = _prepared(ledger.astype(numbers), run_id, computed_at)
    runs = pd.DataFrame({"run_id": [run_id], "computed_at": pd.Series([computed_at], dtype="datetime64[us, UTC]"),
                         "results_table": [table], "rows": [len(result.frame)],
                         "provenance": [json.dumps(result.provenance, ensure_ascii=False, default=str)]})
    frames[runs_table] = runs
    engine = open_engine(url_or_engine, read_only=False)
    meta = sa.MetaData()
    tables = {n: _table(meta, n, f, schema, key="run_id" if n == runs_table else None) for n, f in frames.items()}
    with db_errors(engine, f"write {table}"), engine.begin() as conn:
        present = set(sa.inspect(conn).get_table_names(schema=schema))
        for name, t in tables.items():
            _check_existing(conn, t, schema) if name in present else t.create(conn)
        for name, t in tables.items():
            conn.execute(t.delete().where(t.c.run_id == run_id))
            if len(frames[name]):
                conn.execute(t.insert(), _records(frames[name]))
    if engine is not url_or_engine:
        engine.dispose()
    return run_id
