"""docs/reference/tables.md: every input table and column, from the contract (schemas/contract.py)."""
from __future__ import annotations

from ..schemas.contract import DERIVED_COLUMNS, FACILITY_ATTRIBUTES, TABLES, TableSpec

HEADER = """# Input tables / 输入表

Generated from the contract (`qcindicators/schemas/contract.py`) by `python -m qcindicators.docgen`;
a test fails when this page and the contract disagree. 本页由表结构定义自动生成。

Each table is one file in the data folder, named after the table (`discharges.csv`, `住院病案首页.xlsx`
…, see [Input tables](../input-tables.md)). A column's Chinese name is also accepted as its header.
Columns marked **required** must be present; the others are read when an indicator needs them.
Coded columns accept the code or any of its labels. A definition may also name the **derived**
columns and, in tables with a facility column, the **facility attributes** listed at the end.

每张表一个文件；中文列名可直接作表头。**必需**列必须存在，其余列在指标需要时读取。编码列接受代码或其中文标签。
定义中还可使用**派生列**，以及（含机构列的表中）末尾列出的**机构属性**。

"""

KINDS = {"id": "id 标识（文本）", "str": "text 文本", "code": "code 编码", "int": "integer 整数", "float": "number 数值",
         "date": "date 日期", "bool": "yes/no 是/否", "period": "period 统计期 (YYYY, YYYY-MM)"}


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _codes(col) -> str:
    if not col.codes:
        return ""
    return "; ".join(f"`{code}` = {' / '.join(labels)}" if labels else f"`{code}`" for code, labels in col.codes.items())


def _range(col) -> str:
    lo = "" if col.min is None else f"≥ {col.min:g}"
    hi = "" if col.max is None else f"≤ {col.max:g}"
    return ", ".join(x for x in (lo, hi) if x)


def table_section(t: TableSpec) -> list[str]:
    key = ", ".join(f"`{k}`" for k in t.key) or "—"
    lines = [f"## `{t.name}` — {t.zh}", "",
             f"Key 主键: {key}" + (f" · facility column 机构列: `{t.facility_column}`" if t.facility_column else ""), "",
             "| column 列 | 中文名 | type 类型 | required 必需 | codes and labels 编码与标签 | range 范围 | note 说明 |",
             "|---|---|---|---|---|---|---|"]
    for c in t.columns:
        lines.append(f"| `{c.name}` | {c.zh} | {KINDS.get(c.kind, c.kind)} | {'**required 必需**' if c.required else ''} "
                     f"| {_cell(_codes(c))} | {_range(c)} | {_cell(c.note)} |")
    derived = DERIVED_COLUMNS.get(t.name, {})
    if derived:
        lines += ["", "Derived columns (computed by the library, usable in definitions) 派生列：", "",
                  "| column 列 | meaning 含义 |", "|---|---|"]
        lines += [f"| `{name}` | {_cell(text)} |" for name, text in derived.items()]
    return lines + [""]


def render() -> str:
    parts = [HEADER]
    for t in TABLES.values():
        parts.append("\n".join(table_section(t)))
    attrs = ", ".join(f"`{a}`" for a in FACILITY_ATTRIBUTES)
    parts.append("## Facility attributes / 机构属性\n\nIn every table with a facility column, a definition's `where` "
                 f"and a target's `when` may use the facility's {attrs} (from `facilities`).\n"
                 "含机构列的表中，定义的 `where` 与目标的 `when` 可直接使用上述机构属性（来自 `facilities` 表）。\n")
    return "\n".join(parts)
