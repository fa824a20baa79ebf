"""The `--tables-map` file: which database table or view is which canonical table, and which column is which."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import did_you_mean
from ..schemas.contract import TABLES
from .dburl import DatabaseError


@dataclass(frozen=True)
class TablesMap:
    """A `--tables-map` file: canonical table → database table or view; canonical column → database column."""

    schema: str | None = None
    tables: dict = field(default_factory=dict)      # canonical table → "name" or "schema.name"
    columns: dict = field(default_factory=dict)     # canonical table → {canonical column: database column}

    def aliases(self) -> dict[str, dict[str, str]]:
        """The column mapping the other way round, as the header aliases every source understands."""
        return {t: {db: canonical for canonical, db in cols.items()} for t, cols in self.columns.items()}


def load_tables_map(source) -> TablesMap:
    """Read and check a mapping: `{schema: s, tables: {discharges: v_basy | {table: v_basy, columns: {…}}}}`."""
    if source is None or isinstance(source, TablesMap):
        return source or TablesMap()
    if isinstance(source, (str, Path)):
        with open(source, encoding="utf-8") as fh:
            source = yaml.safe_load(fh) or {}
    unknown = set(source) - {"schema", "tables"}
    if unknown:
        raise DatabaseError(f"映射文件只接受 schema 与 tables / the tables map takes only 'schema' and 'tables', "
                            f"not {sorted(unknown)}")
    tables, columns = {}, {}
    for name, entry in dict(source.get("tables") or {}).items():
        if name not in TABLES:
            raise DatabaseError(f"映射文件中的表名未知 / unknown table in the tables map: {name!r}." + did_you_mean(name, TABLES))
        entry = {"table": entry} if isinstance(entry, str) else dict(entry or {})
        if entry.get("table"):
            tables[name] = str(entry["table"])
        cols = {str(k): str(v) for k, v in dict(entry.get("columns") or {}).items()}
        for canonical in cols:
            if canonical not in TABLES[name].by_name:
                raise DatabaseError(f"映射文件中 {name} 的列名未知 / unknown column {name}.{canonical} in the tables map."
                                    + did_you_mean(canonical, TABLES[name].by_name))
        columns[name] = cols
    return TablesMap(source.get("schema"), tables, columns)
