"""Load a folder of Parquet tables into a database: for trying the database path, tests and benchmarks.

A reporting copy of the HIS is loaded by its own ETL; this exists so that a user can put the sample in a
local PostgreSQL, DuckDB or SQLite file in one call. PostgreSQL is fed with COPY (psycopg 3), the others
through pandas' `to_sql`. Dates become DATE, floats NUMERIC on PostgreSQL (the exact-decimal path that
reporting databases use), text stays text.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow.parquet as pq

from .dburl import db_errors, open_engine
import pyarrow as pa

LOAD_ROWS = 200_000


def _copy(table, conn, keys, data_iter) -> None:
    """pandas `to_sql` method for PostgreSQL: one COPY per chunk instead of row-by-row INSERTs."""
    buf = io.StringIO()
    csv.writer(buf).writerows(data_iter)
    name = f'"{table.schema}"."{table.name}"' if table.schema else f'"{table.name}"'
    columns = ", ".join(f'"{k}"' for k in keys)
    with conn.connection.driver_connection.cursor() as cur, cur.copy(f"COPY {name} ({columns}) FROM STDIN WITH (FORMAT csv)") as cp:
        cp.write(buf.getvalue())


def _types(schema, dialect: str) -> dict:
    import sqlalchemy as sa
    out = {}
    for f in schema:
        if pa.types.is_date(f.type) or pa.types.is_timestamp(f.type):
            out[f.name] = sa.Date()
        elif pa.types.is_floating(f.type) and dialect == "postgresql":
            out[f.name] = sa.Numeric()
        elif pa.types.is_string(f.type) or pa.types.is_large_string(f.type) or pa.types.is_dictionary(f.type):
            out[f.name] = sa.Text()
    return out


def _duckdb_from_parquet(engine, path: Path, schema: str | None) -> None:
    """CREATE TABLE … AS SELECT * FROM read_parquet(…): the same column types as the to_sql path (DATE, DOUBLE,
    VARCHAR, BOOLEAN), thousands of times faster."""
    name = ".".join(f'"{part}"' for part in filter(None, [schema, path.stem]))
    source = str(path.resolve()).replace("'", "''")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_parquet('{source}')")


def load_parquet_folder(directory: str | Path, url, schema: str | None = None) -> list[str]:
    """Write every `NAME.parquet` of `directory` to table NAME (replacing it), batch by batch; the table names."""
    engine = open_engine(url, read_only=False)
    dialect = engine.dialect.name
    names = []
    with db_errors(engine, "load"):
        if schema and dialect != "sqlite":
            import sqlalchemy as sa
            with engine.begin() as conn:
                conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
        for path in sorted(Path(directory).glob("*.parquet")):
            if dialect == "duckdb":       # DuckDB reads Parquet itself: no row-by-row INSERTs through the driver
                _duckdb_from_parquet(engine, path, schema)
                names.append(path.stem)
                continue
            file = pq.ParquetFile(path)
            types = _types(file.schema_arrow, dialect)
            for i, batch in enumerate(file.iter_batches(batch_size=LOAD_ROWS)):
                frame = batch.to_pandas(date_as_object=False, ignore_metadata=True)
                frame.to_sql(path.stem, engine, schema=schema, if_exists="replace" if i == 0 else "append", index=False,
                             dtype=types, method=_copy if dialect == "postgresql" else None, chunksize=LOAD_ROWS)
            names.append(path.stem)
    engine.dispose()
    return names
