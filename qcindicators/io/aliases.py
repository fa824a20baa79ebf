"""Header aliases: a user's column names (Chinese headers, HQMS codes) → canonical names.

The default alias of each column is its `zh` name in the contract; users add
their own with a mapping {table: {their_header: canonical}} or a YAML file of
the same shape.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

import yaml

from ..schemas.contract import TABLES
from ..errors import InputDataError, did_you_mean
from ..spec.yaml_lines import load_file, yaml_error_text

AliasMap = Mapping[str, Mapping[str, str]]

_FULLWIDTH = str.maketrans({"（": "(", "）": ")", "　": " ", "：": ":", "／": "/"})


def normalise_header(name: object) -> str:
    """Compare headers without case, spaces or full-width punctuation."""
    return re.sub(r"\s+", "", str(name).translate(_FULLWIDTH)).lower()


def load_aliases(aliases: AliasMap | str | Path | None) -> dict[str, dict[str, str]]:
    """Accept a mapping or a YAML file path; check every target is a canonical column."""
    if aliases is None:
        return {}
    where = "aliases"
    if isinstance(aliases, (str, Path)):
        where = str(aliases)
        try:
            aliases = load_file(aliases)[0] or {}
        except yaml.YAMLError as err:
            raise InputDataError(yaml_error_text(aliases, err)) from None
    shape = isinstance(aliases, Mapping) and all(isinstance(m, Mapping) for m in aliases.values())
    if not shape:
        raise InputDataError(f"{where}: 别名应为 {{表名: {{原列名: 标准列名}}}} / aliases must be a mapping "
                             "{table: {your_header: canonical_column}}")
    out: dict[str, dict[str, str]] = {}
    for table, mapping in dict(aliases).items():
        if table not in TABLES:
            raise InputDataError(f"别名表中的表名未知 / unknown table in aliases: {table!r}.{did_you_mean(table, TABLES)}")
        cols = TABLES[table].by_name
        for header, canonical in dict(mapping).items():
            if not isinstance(canonical, str) or canonical not in cols:
                raise InputDataError(
                    f"别名 {header!r} 指向未知列 / alias {header!r} maps to unknown column {table}.{canonical}."
                    + did_you_mean(str(canonical), cols))
        out[table] = {str(k): str(v) for k, v in mapping.items()}
    return out


def header_map(table: str, headers: list[str], user: Mapping[str, str] | None = None) -> dict[str, str]:
    """source header -> canonical column, for the headers that match anything.

    Two source headers that map to one canonical column is an error: picking
    one would silently lose the other.
    """
    lookup: dict[str, str] = {}
    for col in TABLES[table].columns:
        lookup[normalise_header(col.name)] = col.name
        lookup[normalise_header(col.zh)] = col.name
    for header, canonical in (user or {}).items():
        lookup[normalise_header(header)] = canonical
    mapping: dict[str, str] = {}
    seen: dict[str, str] = {}
    for h in headers:
        canonical = lookup.get(normalise_header(h))
        if canonical is None:
            continue
        if canonical in seen:
            raise InputDataError(
                f"表 {table} 中 {seen[canonical]!r} 与 {h!r} 都对应列 {canonical} / "
                f"in {table}, headers {seen[canonical]!r} and {h!r} both map to {canonical}")
        seen[canonical] = h
        mapping[h] = canonical
    return mapping
