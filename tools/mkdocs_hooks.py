"""mkdocs hook (mkdocs.yml: hooks): before the build, execute the tutorial notebook and export it as a page.

The i18n plugin builds once per language; the notebook runs once per `mkdocs build`.
"""
from pathlib import Path

from qcindicators.docgen.notebook import export

_done: set[str] = set()


def on_pre_build(config, **kwargs):
    docs = Path(config["docs_dir"])
    if str(docs) not in _done:
        export(docs / "tutorial.ipynb", docs / "tutorial.md")
        _done.add(str(docs))
