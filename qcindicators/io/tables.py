"""`Tables`: the set of canonical input tables, loaded lazily and only the columns asked for."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from ..schemas.contract import TABLES
from ..errors import InputDataError, MissingTableError, UnknownTableError, did_you_mean
from .aliases import AliasMap, header_map, load_aliases
from .coerce import canonicalise
from .dataset import ParquetPieces
from .readers import FileSource, FrameSource, find_table_files, table_name_for, unreadable_as_input_error
from .dburl import is_database_url
from .window import Window
from ..schemas.failures import concat_failures, empty_failures
import pyarrow.parquet as pq

# Parquet tables up to this many rows are kept in memory once loaded (facilities, dictionaries, the key
# columns of a region's discharges); longer ones are read again when needed and streamed by row group,
# so a 20-million-row visits table is never held whole for the rest of a run or of a notebook session.
CACHE_ROWS = 1_000_000


class Tables:
    """Canonical tables by name. `tables["discharges"]` is a canonical DataFrame.

    Examples:
        >>> import pandas as pd, qcindicators as qci
        >>> t = qci.read_tables({"facilities": pd.DataFrame({"机构代码": ["001"], "医院级别": ["二级"],
        ...     "机构类别": ["综合"], "所有制": ["公立"]})})
        >>> t["facilities"].loc[0, "level"], t["facilities"].loc[0, "facility_id"]
        (np.int64(2), '001')
    """

    def __init__(self, sources: Mapping[str, FileSource | FrameSource], aliases: AliasMap | None = None,
                 window: Window | None = None):
        self._sources = dict(sources)
        self._aliases = load_aliases(aliases)
        self.window = window    # what a database read left out; compute trims its result to it
        self._cache: dict[str, tuple[frozenset[str] | None, pd.DataFrame, pd.DataFrame]] = {}

    # -- what is here ---------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [n for n in TABLES if n in self._sources]

    def __contains__(self, name: object) -> bool:
        return name in self._sources

    def __repr__(self) -> str:
        return "Tables(" + ", ".join(self.names) + ")"

    def source_info(self) -> dict[str, dict]:
        return {n: {"kind": s.kind, "path": str(s.path) if s.path else None, "encoding": s.encoding}
                for n, s in self._sources.items()}

    def columns(self, name: str) -> list[str]:
        """Canonical columns available in a table without loading it (unknown headers kept as-is)."""
        src = self._source(name)
        headers = src.headers()
        mapping = header_map(name, headers, self._aliases.get(name))
        return [mapping.get(h, h) for h in headers]

    def source(self, name: str):
        """Where a table comes from (a file, a frame, a database table, a partition's share of a file)."""
        return self._source(name)

    def with_sources(self, sources: Mapping) -> "Tables":
        """The same tables with some sources replaced, e.g. by one partition's share of each."""
        out = Tables({**self._sources, **sources}, None, self.window)
        out._aliases = self._aliases
        return out

    # -- loading --------------------------------------------------------------
    def _source(self, name: str):
        if name not in TABLES:
            raise UnknownTableError(f"未知的表名 / unknown table {name!r}." + did_you_mean(name, TABLES))
        if name not in self._sources:
            raise MissingTableError(
                f"缺少输入表 {name}（{TABLES[name].zh}）/ table {name!r} was not supplied; "
                f"supplied: {', '.join(self.names) or 'none'}")
        return self._sources[name]

    def load(self, name: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """The canonical frame, with at least `columns` (all columns when None)."""
        return self._load(name, columns)[0]

    def read_failures(self, name: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """Values that could not be parsed while loading (dates, numbers, codes)."""
        return self._load(name, columns)[1]

    def _load(self, name: str, columns: Iterable[str] | None):
        want = None if columns is None else frozenset(columns)
        cached = self._cache.get(name)
        if cached is not None and (cached[0] is None or (want is not None and want <= cached[0])):
            return cached[1], cached[2]
        src = self._source(name)
        if want is None or not src.columnar:
            raw = src.read(None, self._headers_for(name, ())[1])
            want = None
        else:
            need, dictionary = self._headers_for(name, want | set(TABLES[name].key) | {TABLES[name].facility_column or ""})
            raw = src.read(need, dictionary)
        if len(raw) == 0 and src.kind != "frame" and getattr(src, "window", None) is None and not getattr(src, "may_be_empty", False):
            # a window, or a partition's share of a table, may leave none
            raise InputDataError(f"表 {name} 没有数据行 / table {name} has no data rows ({src.path})")
        frame, failures = canonicalise(raw, name, self._aliases.get(name))
        if not src.columnar or len(frame) <= CACHE_ROWS:
            self._cache[name] = (want, frame, failures)
        return frame, failures

    def _headers_for(self, name: str, columns) -> tuple[list[str], list[str]]:
        """(file headers holding `columns`, headers to read dictionary-encoded).

        A canonical column is found under its mapped header; a column outside the contract
        (a definition's extra_columns) under its own name.
        """
        headers = self._source(name).headers()
        back = {v: k for k, v in header_map(name, headers, self._aliases.get(name)).items()}
        own = set(headers)
        need = sorted({back.get(c, c) for c in columns if c in back or c in own})
        dictionary = [back[c.name] for c in TABLES[name].columns if c.categorical and c.name in back]
        return need, dictionary

    def batches(self, name: str, columns: Iterable[str], rows: int = 1 << 20):
        """Yield (first row number, canonical frame, read failures) for `columns`, a batch at a time.

        Parquet is streamed by row groups, so a 60-million-row table never sits in memory whole;
        other sources are read once and sliced.
        """
        src = self._source(name)
        cached = self._cache.get(name)
        covered = cached is not None and (cached[0] is None or set(columns) <= cached[0])
        # a table that will be kept anyway is read once, whole: later reads of it then cost nothing
        small = src.kind == "parquet" and (self.known_rows(name) or 0) <= CACHE_ROWS
        if not src.columnar or covered or small:
            frame, failures = self._load(name, columns)
            for start in range(0, max(len(frame), 1), rows):
                part = frame.iloc[start:start + rows]
                f = failures[(failures["row"] > start) & (failures["row"] <= start + rows)]
                yield start, part.reset_index(drop=True), f.assign(row=f["row"] - start)
            return
        need, dictionary = self._headers_for(name, set(columns))
        start = 0
        with unreadable_as_input_error(src.path):
            for raw in src.iter_batches(need, dictionary, rows):
                frame, failures = canonicalise(raw, name, self._aliases.get(name))
                yield start, frame, failures
                start += len(frame)

    def known_rows(self, name: str) -> int | None:
        """The row count where it costs nothing (Parquet metadata), else None: never reads a table for it."""
        src = self._source(name)
        if src.kind == "parquet":
            with unreadable_as_input_error(src.path):
                return pq.ParquetFile(src.path).metadata.num_rows
        if src.kind == "dataset":
            return src.n_rows()
        return None

    def n_rows(self, name: str) -> int | None:
        src = self._source(name)
        if src.kind in ("database", "dataset"):
            return src.n_rows()
        if src.kind == "parquet":
            return self.known_rows(name)
        return len(self.load(name))

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.load(name)

    def all_read_failures(self) -> pd.DataFrame:
        return concat_failures([self.read_failures(n) for n in self.names]) if self.names else empty_failures()

    def replace(self, frames: Mapping[str, pd.DataFrame]) -> "Tables":
        """A new Tables with some tables replaced by (canonical) frames, e.g. after quarantine."""
        out = Tables({**self._sources, **{n: FrameSource(f) for n, f in frames.items()}}, None, self.window)
        out._aliases = self._aliases
        for n, f in frames.items():
            out._cache[n] = (None, f, empty_failures())
        for n, v in self._cache.items():
            out._cache.setdefault(n, v)
        return out


def read_tables(source: str | Path | Mapping[str, pd.DataFrame] | Tables, aliases: AliasMap | str | Path | None = None,
                schema: str | None = None, tables_map=None, window: Window | None = None) -> Tables:
    """Read the input tables from a directory (one file per table), a dict of DataFrames or a database URL.

    Files are `NAME.parquet`, `NAME.csv` or `NAME.xlsx`, NAME being the table name
    (discharges, drug_orders, ...) or its Chinese name (住院病案首页, ...). CSV
    encodings UTF-8, UTF-8-SIG, GBK and GB18030 are detected. Chinese headers map to
    canonical columns; `aliases` ({table: {header: column}} or a YAML file) adds more.

    A database URL (postgresql://user@host/db, duckdb:///file.duckdb, sqlite:///file.db, or an SQLAlchemy
    Engine) reads tables of `schema` named like files, or as a `tables_map` (YAML or dict) says; `window`
    (a `Window` of months and facilities) is pushed into the WHERE clause. See docs/pipelines.md.

    Examples:
        >>> import qcindicators as qci, pandas as pd
        >>> t = qci.read_tables({"discharges": pd.DataFrame({"住院流水号": ["0012"]})})
        >>> t["discharges"]["encounter_id"].tolist()
        ['0012']
    """
    if isinstance(source, Tables):
        return source
    if is_database_url(source):
        from .database import database_sources
        sources, mapped = database_sources(source, schema, tables_map, window)
        user = load_aliases(aliases)
        return Tables(sources, {t: {**mapped.get(t, {}), **user.get(t, {})} for t in {*mapped, *user}}, window)
    if schema is not None or tables_map is not None or window is not None:
        raise InputDataError("schema、tables_map 与 window 只用于数据库 / schema, tables_map and window apply to a "
                             "database URL only")
    if isinstance(source, Mapping):
        sources = {}
        for key, frame in source.items():
            name = table_name_for(str(key))
            if not isinstance(frame, pd.DataFrame):
                raise InputDataError(f"表 {name} 应为 DataFrame / table {name} must be a pandas DataFrame, got {type(frame).__name__}")
            sources[name] = FrameSource(frame)
        return Tables(sources, aliases)
    path = Path(source)
    if path.is_file():
        return Tables({table_name_for(path.stem): FileSource(path)}, aliases)
    return Tables({n: FileSource(p) if p.is_file() else ParquetPieces.of(p) for n, p in find_table_files(path).items()}, aliases)
