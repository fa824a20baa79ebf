"""A database as a source of canonical tables: found by name, Chinese name or a mapping file; only the
columns asked for are selected, the caller's window pushed into WHERE, rows streamed in batches.

Values arrive as the driver gives them and go through the same canonicaliser and schema checks as a
file; a DECIMAL/NUMERIC column becomes its exact decimal text first, so it turns into a float once,
exactly as a CSV value does.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import did_you_mean
from ..schemas.contract import TABLES
from .aliases import header_map, normalise_header
from .dburl import DatabaseError, db_errors, mask_url, open_engine
from .pgcopy import copy_batches
from .tables_map import TablesMap, load_tables_map
from .window import OWN_DATE, STAY_CHILDREN, Window

BATCH_ROWS = 1 << 18


@dataclass(eq=False)
class DatabaseSource:
    """One table or view of a database, read a few columns at a time."""

    engine: object
    canonical: str
    table: str
    schema: str | None = None
    aliases: dict = field(default_factory=dict)
    window: Window | None = None
    parent: "DatabaseSource | None" = None        # discharges, for the lines of a stay
    _columns: dict | None = field(default=None, repr=False)
    _clause: object = field(default=None, repr=False)

    kind = "database"
    encoding = None
    columnar = True

    @property
    def path(self) -> str:
        where = self.pushed_down()
        return (f"{mask_url(self.engine)} · {self.schema + '.' if self.schema else ''}{self.table}"
                + (f" WHERE {where}" if where else ""))

    def column_types(self) -> dict:
        if self._columns is None:
            with db_errors(self.engine, self.table):
                self._columns = reflect_columns(self.engine, self.table, self.schema)
        return self._columns

    def headers(self) -> list[str]:
        return list(self.column_types())

    def sa_table(self):
        """One table clause for every statement, so a sub-query can correlate with it."""
        if self._clause is None:
            import sqlalchemy as sa
            self._clause = sa.table(self.table, *[sa.column(h) for h in self.headers()], schema=self.schema)
        return self._clause

    def read(self, headers: list[str] | None = None, dictionary=()) -> pd.DataFrame:
        headers = self.headers() if headers is None else list(headers)
        parts = list(self.iter_batches(headers, dictionary, BATCH_ROWS))
        if not parts:
            return pd.DataFrame({h: pd.Series(dtype=object) for h in headers})
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)

    def iter_batches(self, headers, dictionary=(), rows: int = BATCH_ROWS):
        """Frames of at most `rows` rows from a server-side cursor: memory stays bounded whatever the table."""
        import sqlalchemy as sa
        headers, encode = list(headers), set(dictionary)
        t = self.sa_table()
        stmt = sa.select(*[t.c[h] for h in headers]).where(*self._where())
        with db_errors(self.engine, self.table), self.engine.connect() as conn:
            if self.engine.dialect.driver == "psycopg":
                conn.exec_driver_sql("SELECT 1")     # opens the (read-only) transaction COPY then runs in
                yield from copy_batches(conn, stmt, headers, encode, rows)
                return
            result = conn.execution_options(stream_results=True, yield_per=rows).execute(stmt)
            for part in result.partitions(rows):
                yield rows_to_frame(part, headers, encode)

    def n_rows(self) -> int:
        import sqlalchemy as sa
        stmt = sa.select(sa.func.count()).select_from(self.sa_table()).where(*self._where())
        with db_errors(self.engine, self.table), self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    # -- the window, pushed down ------------------------------------------------------------
    def _db_column(self, canonical: str) -> str | None:
        back = {v: k for k, v in header_map(self.canonical, self.headers(), self.aliases).items()}
        return back.get(canonical)

    def _typed_date(self, canonical: str, table=None):
        """The column, where the database knows it is a date (text dates are not compared as text)."""
        import sqlalchemy as sa
        db = self._db_column(canonical)
        if db is None or self.engine.dialect.name == "sqlite":
            return None
        return (table if table is not None else self.sa_table()).c[db] if isinstance(self.column_types()[db], (sa.Date, sa.DateTime)) else None

    def _date_clause(self, canonical: str, table=None):
        col = self._typed_date(canonical, table)
        lo, hi = self.window.bounds
        if col is None or (lo is None and hi is None):
            return None
        import sqlalchemy as sa
        parts = ([col >= lo.item()] if lo is not None else []) + ([col < hi.item()] if hi is not None else [])
        return sa.and_(*parts)

    def _stay_ids(self):
        """EXISTS a stay of this row's facility and encounter_id discharged inside the window (ids repeat across
        facilities), or None where the database cannot say it exactly."""
        import sqlalchemy as sa
        if self.parent is None:
            return None
        pairs = [(self.parent._db_column(c), self._db_column(c)) for c in ("encounter_id", "facility_id")]
        stays = self.parent.sa_table().alias("stay")
        when = self.parent._date_clause("discharge_date", stays)
        if when is None or None in pairs[0]:
            return None
        pairs = [p for p in pairs if None not in p]
        if any(self.parent.column_types()[a]._type_affinity is not self.column_types()[b]._type_affinity for a, b in pairs):
            return None
        mine = self.sa_table()
        return sa.exists().where(*[stays.c[a] == mine.c[b] for a, b in pairs], when)

    def _period_clause(self):
        """Rows of a stay follow their stay's discharge date; other rows their own date; else nothing is pushed."""
        import sqlalchemy as sa
        own = self._date_clause(OWN_DATE[self.canonical]) if self.canonical in OWN_DATE else None
        if self.canonical not in STAY_CHILDREN:
            return own
        stay = self._stay_ids()
        if self.canonical == "procedures":
            return stay
        if stay is None:
            return own if self.parent is None else None
        return stay if own is None else sa.or_(own, stay)

    def _facility_clause(self):
        import sqlalchemy as sa
        spec = TABLES[self.canonical]
        if not self.window.facilities or not spec.facility_column or self.canonical == "facilities":
            return None
        names = ["from_facility_id", "to_facility_id"] if self.canonical == "referrals" else [spec.facility_column]
        tests = []
        for name in names:
            db = self._db_column(name)
            if db is None:
                return None
            col = self.sa_table().c[db]
            col = col if isinstance(self.column_types()[db], sa.String) else sa.cast(col, sa.String)
            tests.append(col.in_(self.window.facilities))
        if self.canonical == "drug_dictionary":
            tests.append(self.sa_table().c[self._db_column("facility_id")].is_(None))
        return sa.or_(*tests)

    def _where(self) -> list:
        if self.window is None:
            return []
        return [c for c in (self._period_clause(), self._facility_clause()) if c is not None]

    def pushed_down(self) -> str:
        """The WHERE clause as text with its values, for provenance (never executed as text)."""
        clauses = self._where()
        if not clauses:
            return ""
        import sqlalchemy as sa
        text = sa.and_(*clauses).compile(dialect=self.engine.dialect, compile_kwargs={"literal_binds": True})
        return " ".join(str(text).split())


def reflect_columns(engine, table: str, schema: str | None) -> dict:
    """{column: SQLAlchemy type}; where a dialect's reflection fails (duckdb-engine on DuckDB 2), the
    standard information_schema answers, its type names mapped to the few kinds the window needs."""
    import sqlalchemy as sa
    try:
        return {c["name"]: c["type"] for c in sa.inspect(engine).get_columns(table, schema=schema)}
    except sa.exc.SQLAlchemyError:
        pass
    info = sa.table("columns", sa.column("column_name"), sa.column("data_type"), sa.column("table_name"),
                    sa.column("table_schema"), sa.column("ordinal_position"), schema="information_schema")
    stmt = sa.select(info.c.column_name, info.c.data_type).where(info.c.table_name == table)
    stmt = stmt.where(info.c.table_schema == schema) if schema else stmt
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(info.c.ordinal_position)).all()
    kinds = (("TIMESTAMP", sa.DateTime), ("DATE", sa.Date), ("CHAR", sa.String), ("TEXT", sa.String),
             ("DECIMAL", sa.Numeric), ("NUMERIC", sa.Numeric), ("INT", sa.Integer), ("DOUBLE", sa.Float), ("BOOL", sa.Boolean))
    return {name: next((k() for word, k in kinds if word in str(kind).upper()), sa.types.NullType())
            for name, kind in rows}


def rows_to_frame(rows, headers: list[str], dictionary: set[str]) -> pd.DataFrame:
    """Driver rows → columns via Arrow; decimals as their exact text, low-cardinality text dictionary-encoded."""
    columns = list(zip(*rows)) if rows else [()] * len(headers)
    out = {}
    for name, values in zip(headers, columns):
        try:
            arr = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            out[name] = pd.Series(values, dtype=object)   # mixed types (SQLite): the canonicaliser judges each value
            continue
        if pa.types.is_decimal(arr.type):
            arr = pc.cast(arr, pa.string())
        if name in dictionary and (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            arr = arr.dictionary_encode()
        out[name] = arr.to_pandas(date_as_object=False)
    return pd.DataFrame(out, columns=headers)


def _find(names: list[str], canonical: str) -> list[str]:
    wanted = {normalise_header(canonical), normalise_header(TABLES[canonical].zh)}
    return [n for n in names if normalise_header(n) in wanted]


def database_sources(url, schema: str | None = None, tables_map=None, window: Window | None = None):
    """({canonical table: DatabaseSource}, header aliases from the map) for the tables the database holds."""
    import sqlalchemy as sa
    mapping = load_tables_map(tables_map)
    schema = schema or mapping.schema
    engine = open_engine(url)
    with db_errors(engine, "connect"):
        insp = sa.inspect(engine)
        present = {schema: insp.get_table_names(schema=schema) + insp.get_view_names(schema=schema)}
    aliases = mapping.aliases()
    sources: dict[str, DatabaseSource] = {}
    for name in TABLES:
        where, table = schema, mapping.tables.get(name)
        if table and "." in table:
            where, table = table.rsplit(".", 1)
            if where not in present:
                with db_errors(engine, "inspect"):
                    present[where] = insp.get_table_names(schema=where) + insp.get_view_names(schema=where)
        found = ([table] if table in present[where] else []) if table else _find(present[where], name)
        if table and not found:
            raise DatabaseError(f"数据库中没有表或视图 {table}（映射自 {name}）/ table or view {table!r} (mapped from {name}) "
                                f"not found in {where or 'the default schema'} of {mask_url(engine)}."
                                + did_you_mean(table, present[where]))
        if len(found) > 1:
            raise DatabaseError(f"表 {name} 在数据库中有多个候选 / several database tables could be {name}: {found}; "
                                "name one in the tables map (--tables-map)")
        if found:
            sources[name] = DatabaseSource(engine, name, found[0], where, aliases.get(name, {}), window)
    if "discharges" in sources:
        for child in STAY_CHILDREN:
            if child in sources:
                sources[child].parent = sources["discharges"]
    if not sources:
        raise DatabaseError(f"数据库中没有可识别的表 / no table of the contract found in {schema or 'the default schema'} "
                            f"of {mask_url(engine)}: expected names such as {', '.join(TABLES)}, their Chinese names, "
                            "or a tables map (--tables-map)")
    _check_mapped_columns(sources, mapping)
    return sources, aliases


def _check_mapped_columns(sources: dict, mapping: TablesMap) -> None:
    """A mapped column that the database table lacks is an error now, not a missing column later."""
    for name, cols in mapping.columns.items():
        if name not in sources:
            continue
        have = sources[name].headers()
        missing = [db for db in cols.values() if db not in have]
        if missing:
            raise DatabaseError(f"表 {sources[name].table} 中没有映射的列 / mapped column(s) {missing} not in "
                                f"{sources[name].table} ({name})." + did_you_mean(missing[0], have))
