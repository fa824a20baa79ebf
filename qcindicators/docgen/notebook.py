"""The tutorial notebook: executed on the synthetic sample, exported to a Markdown page for the site.

The notebook in git has no outputs; the tests execute it (a cell that fails fails the test) and the
site build (tools/mkdocs_hooks.py) executes and exports it, figures inlined as data URIs.
"""
from __future__ import annotations

import base64
import os
from pathlib import Path


def execute(path: str | Path, timeout: int = 600):
    """The notebook at `path`, executed in its own folder; raises on the first failing cell.

    The kernel imports the same qcindicators as the caller (this checkout, not an older install).
    """
    import nbclient
    import nbformat
    nb = nbformat.read(str(path), as_version=4)
    root = str(Path(__file__).resolve().parents[2])
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([root] + ([old] if old else []))
    try:
        nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    finally:
        os.environ.pop("PYTHONPATH") if old is None else os.environ.__setitem__("PYTHONPATH", old)
    return nb


def to_markdown(nb, download: str) -> str:
    """The executed notebook as Markdown; images inline, a link to download the notebook at the top."""
    from nbconvert import MarkdownExporter
    body, resources = MarkdownExporter().from_notebook_node(nb)
    for name, data in resources.get("outputs", {}).items():
        kind = "svg+xml" if name.endswith(".svg") else "png"
        body = body.replace(f"({name})", f"(data:image/{kind};base64,{base64.b64encode(data).decode('ascii')})")
    head = (f"<!-- generated from {download} at build time: edit the notebook, not this page -->\n\n"
            f"[下载笔记本 / download the notebook]({download})\n\n")
    return head + body


def export(notebook: str | Path, page: str | Path) -> Path:
    """Execute `notebook` and write it as the Markdown `page`."""
    page = Path(page)
    page.write_text(to_markdown(execute(notebook), Path(notebook).name), encoding="utf-8")
    return page
