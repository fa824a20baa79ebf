"""PostgreSQL's fast path: `COPY (SELECT …) TO STDOUT` as CSV, parsed by Arrow's streaming CSV reader.

Row objects cost ~30 µs a row in Python; COPY streams text that Arrow parses in C. Every column is read
as text, exactly as a CSV file would be, so the canonicaliser parses numbers (NUMERIC's exact decimal
text included) and dates once, the same way. Memory stays bounded: Arrow reads the stream block by block.
"""
from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

BLOCK_BYTES = 8 << 20


class _CopyStream(io.RawIOBase):
    """A read-only file over the chunks of a COPY, for Arrow's reader."""

    def __init__(self, chunks):
        self._chunks, self._rest = iter(chunks), b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._rest:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._rest = bytes(chunk)
        n = min(len(buffer), len(self._rest))
        buffer[:n], self._rest = self._rest[:n], self._rest[n:]
        return n


def _frame(batches: list[pa.RecordBatch], dictionary: set[str]) -> pd.DataFrame:
    table = pa.Table.from_batches(batches)
    columns = [c.dictionary_encode() if name in dictionary else c for name, c in zip(table.column_names, table.columns)]
    return pa.table(columns, names=table.column_names).to_pandas(ignore_metadata=True)


def copy_batches(conn, stmt, headers: list[str], dictionary: set[str], rows: int):
    """Frames of about `rows` rows from `stmt` on an SQLAlchemy connection to PostgreSQL (psycopg 3)."""
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    sql = f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv)"
    cursor = conn.connection.driver_connection.cursor()
    with cursor, cursor.copy(sql, compiled.params) as copy:
        reader = pacsv.open_csv(
            io.BufferedReader(_CopyStream(copy), buffer_size=BLOCK_BYTES),
            read_options=pacsv.ReadOptions(column_names=headers, block_size=BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in headers}, null_values=[""],
                                                 strings_can_be_null=True, quoted_strings_can_be_null=False))
        pending, count = [], 0
        for batch in reader:
            pending.append(batch)
            count += batch.num_rows
            if count >= rows:
                yield _frame(pending, dictionary)
                pending, count = [], 0
        if count:
            yield _frame(pending, dictionary)
