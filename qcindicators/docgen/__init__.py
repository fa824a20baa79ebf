"""Reference pages generated from the live sources, never hand-copied.

`python -m qcindicators.docgen` rewrites them under docs/; a test regenerates them in memory and fails
when a committed page differs (after a merge adds a column, a function, an indicator or an option,
run the command and commit the pages).
"""
from __future__ import annotations

from pathlib import Path

from ..catalog_doc import render as catalog_page
from .cli_page import render as cli_page
from .language_page import render as language_page
from .tables_page import render as tables_page

PAGES = {"reference/tables.md": tables_page, "reference/language.md": language_page,
         "reference/cli.md": cli_page, "catalog.md": catalog_page}


def write_pages(docs: str | Path) -> list[Path]:
    """Write every generated page under `docs`; returns the paths written.

    Examples:
        >>> import tempfile
        >>> sorted(p.name for p in write_pages(tempfile.mkdtemp()))
        ['catalog.md', 'cli.md', 'language.md', 'tables.md']
    """
    out = []
    for rel, render in PAGES.items():
        path = Path(docs) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(), encoding="utf-8")
        out.append(path)
    return out
