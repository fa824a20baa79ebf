"""Can these tables feed these indicators? The plan's own answer, from headers alone, before any data is read."""
from __future__ import annotations

from typing import Sequence

from ..spec.load import Catalog
from .plan import compile_plan


def headers_of(tables) -> dict[str, list[str]]:
    """Canonical columns of every table supplied (headers only)."""
    return {n: tables.columns(n) for n in tables.names}


def missing_by_indicator(catalog: Catalog, ids: Sequence[str], tables) -> dict[str, list[str]]:
    """Per indicator, the reasons the tables cannot feed it (empty list: they can)."""
    return compile_plan(catalog, list(ids)).missing(headers_of(tables)) if ids else {}
