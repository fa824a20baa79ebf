"""Docs stay true: every python block in docs/ runs, and the catalog page matches the definitions."""
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCKS = [(p.name, i, code) for p in sorted(DOCS.glob("*.md"))
          for i, code in enumerate(re.findall(r"```python\n(.*?)```", p.read_text(encoding="utf-8"), re.S))]


@pytest.mark.parametrize("name,index,code", BLOCKS, ids=[f"{n}#{i}" for n, i, _ in BLOCKS])
def test_docs_example_runs(name, index, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"{name}#{index}", "exec"), {"__name__": "__docs__"})   # our own docs, not definitions


def test_catalog_page_is_current():
    from qcindicators.catalog_doc import render
    assert (DOCS / "catalog.md").read_text(encoding="utf-8") == render()


def test_readme_opens_with_the_two_commands():
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1).strip().splitlines()
    assert block == ['python -m pip install . && qci demo', 'python -m pip install ".[test]" && python -m pytest']
    ci = (DOCS.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert block[1] in ci.replace("--quiet ", "")
