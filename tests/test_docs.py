"""Docs stay true: every python block in docs/ runs, and the catalog page matches the definitions."""
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = [p for p in sorted(DOCS.rglob("*.md")) if p.name != "tutorial.md"]     # tutorial.md: exported at build time
BLOCKS = [(str(p.relative_to(DOCS)), i, code) for p in PAGES
          for i, code in enumerate(re.findall(r"```python\n(.*?)```", p.read_text(encoding="utf-8"), re.S))]


@pytest.mark.parametrize("name,index,code", BLOCKS, ids=[f"{n}#{i}" for n, i, _ in BLOCKS])
def test_docs_example_runs(name, index, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"{name}#{index}", "exec"), {"__name__": "__docs__"})   # our own docs, not definitions


@pytest.mark.parametrize("page", ["reference/tables.md", "reference/language.md", "reference/cli.md", "catalog.md"])
def test_generated_page_is_current(page):
    """Regenerate and compare: after a merge adds a column, function, indicator or option, run
    `python -m qcindicators.docgen` and commit the pages."""
    from qcindicators.docgen import PAGES
    assert set(PAGES) == {"reference/tables.md", "reference/language.md", "reference/cli.md", "catalog.md"}
    assert (DOCS / page).read_text(encoding="utf-8") == PAGES[page](), f"{page} is stale: python -m qcindicators.docgen"


def test_every_grammar_function_is_documented_with_an_example():
    from qcindicators.docgen.functions import FUNCTION_DOCS
    from qcindicators.spec import expr
    assert set(FUNCTION_DOCS) == set(expr.FUNCTIONS)
    for name, (zh, en, example, _rows) in FUNCTION_DOCS.items():
        assert zh and en and example.startswith(name + "(")
        expr.parse(example)
    page = (DOCS / "reference" / "language.md").read_text(encoding="utf-8")
    assert "`exists(drug_orders, is_antibacterial and quantity > 0)`" in page
    assert "`between(age, 0, 14)` | `age` = [3, 14, 15] → [True, True, False]" in page   # evaluated, by hand: 15 > 14


def test_every_table_and_column_is_on_the_tables_page():
    from qcindicators.schemas.contract import TABLES
    page = (DOCS / "reference" / "tables.md").read_text(encoding="utf-8")
    for t in TABLES.values():
        assert f"## `{t.name}` — {t.zh}" in page
        for c in t.columns:
            assert f"| `{c.name}` | {c.zh} |" in page


def test_every_key_of_a_definition_has_a_meaning():
    page = (DOCS / "reference" / "language.md").read_text(encoding="utf-8")
    rows = [line for line in page.splitlines() if line.startswith("| `") and line.count("|") == 6]
    assert rows and all(line.split("|")[-2].strip() for line in rows), [r for r in rows if not r.split("|")[-2].strip()]


def test_readme_opens_with_the_two_commands():
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1).strip().splitlines()
    assert block == ['python -m pip install . && qci demo', 'python -m pip install ".[test]" && python -m pytest']
    ci = (DOCS.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert block[1] in ci.replace("--quiet ", "")


def test_tutorial_notebook_runs_on_the_sample(tmp_path):
    """The tutorial executes top to bottom (as the site build does) and shows what it promises."""
    pytest.importorskip("nbclient")
    from qcindicators.docgen.notebook import to_markdown, execute
    nb = execute(DOCS / "tutorial.ipynb")
    page = to_markdown(nb, "tutorial.ipynb")
    assert "全部通过 / all checks passed" in page                      # validate
    assert page.count("data:image/png;base64,") == 2                   # funnel and ranking drawn
    assert "unknown column 'agee' in table discharges" in page and "Did you mean: age" in page
    assert "exists(procedures, is_surgery)" in page
