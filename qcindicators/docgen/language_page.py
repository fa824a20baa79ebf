"""docs/reference/language.md: the definition language, from its JSON Schema and the expression grammar."""
from __future__ import annotations

import json

import pandas as pd

from ..engine.expr_eval import evaluate
from ..spec import expr
from ..spec.schema import definition_schema
from .functions import FUNCTION_DOCS, KEY_DOCS

HEADER = """# Definition language reference / 指标定义语言参考

Generated from the definition model's JSON Schema (`qcindicators/data/definition.schema.json`) and the
expression grammar (`qcindicators/spec/expr.py`) by `python -m qcindicators.docgen`; a test fails when
this page and the sources disagree. For a walk-through, see [Definitions](../definitions.md);
for the columns each table offers, [Input tables](tables.md).
本页由定义模型的 JSON Schema 与表达式语法自动生成；入门讲解见“指标定义”，各表的列见“输入表”。

"""


def _type(prop: dict) -> str:
    if "$ref" in prop:
        return f"[{prop['$ref'].rsplit('/', 1)[-1]}](#{prop['$ref'].rsplit('/', 1)[-1].lower()})"
    if "anyOf" in prop:
        return " or ".join(_type(p) for p in prop["anyOf"] if p.get("type") != "null")
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in prop["enum"])
    if prop.get("type") == "array":
        return f"list of {_type(prop.get('items', {}))}"
    if prop.get("type") == "object":
        return "mapping"
    return prop.get("type", "any")


def _props(schema: dict) -> list[str]:
    required = set(schema.get("required", ()))
    lines = ["| key 键 | type 类型 | required 必需 | default 默认 | meaning 说明 |", "|---|---|---|---|---|"]
    for name, prop in schema.get("properties", {}).items():
        default = "" if "default" not in prop or prop["default"] is None else f"`{json.dumps(prop['default'], ensure_ascii=False)}`"
        desc = (prop.get("description") or KEY_DOCS.get(name, "")).replace("|", "\\|")
        lines.append(f"| `{name}` | {_type(prop)} | {'**yes 是**' if name in required else ''} | {default} | {desc} |")
    return lines


def _schema_section() -> list[str]:
    schema = definition_schema()
    lines = ["## Keys of a definition / 定义的键", "", "An indicator file is one YAML mapping with these keys "
             "(unknown keys are errors). 一个指标文件是含以下键的 YAML 映射（未知键报错）。", ""] + _props(schema)
    for name, sub in schema.get("$defs", {}).items():
        doc = (sub.get("description") or "").strip()
        lines += ["", f"### {name}", "", doc, ""] + _props(sub)
    return lines + [""]


def _sample_result(text: str, rows: dict) -> str:
    frame = pd.DataFrame(rows)
    for c in frame.columns:
        if c.endswith("_date"):
            frame[c] = pd.to_datetime(frame[c])
    value = pd.Series(evaluate(expr.parse(text), lambda name: frame[name], len(frame)))
    shown = [_plain(v) for v in value.astype(object)]
    inputs = "; ".join(f"`{c}` = {v}" for c, v in rows.items())
    return f"{inputs} → {shown}".replace("|", "\\|")


def _plain(v):
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return None
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _function_section() -> list[str]:
    lines = ["## Functions / 函数", "",
             "Every function the grammar allows; each example is evaluated by the engine on the rows shown. "
             "所有允许的函数；每个例子都由计算引擎在所示数据上求值。", "",
             "| function 函数 | arguments 参数个数 | meaning 含义 | example 示例 | on rows 在这些行上 |", "|---|---|---|---|---|"]
    for name, (lo, hi) in expr.FUNCTIONS.items():
        zh, en, example, rows = FUNCTION_DOCS[name]
        arity = f"{lo}" if lo == hi else f"{lo}–{hi}" if hi else f"{lo} or more"
        shown = _sample_result(example, rows) if rows else "(needs the child table: see below)"
        lines.append(f"| `{name}` | {arity} | {zh}<br>{en} | `{example}` | {shown} |")
    return lines + [""]


def _grammar_section() -> list[str]:
    doc = expr.__doc__ or ""
    grammar = doc[doc.index("Grammar"):].split("\n", 1)[1] if "Grammar" in doc else ""
    return ["## Expressions / 表达式", "",
            "`where`, `sum`, `mean`, `count_distinct`, `max` and a target's `when` are expressions. They are parsed, "
            "checked against this grammar and never executed as code. Missing values follow SQL's three-valued "
            "logic; a filter keeps only rows where it is true; division by zero is missing. "
            "表达式经解析与白名单检查，从不作为代码执行；缺失值按 SQL 三值逻辑处理，除以零为缺失。", "",
            "```text", "\n".join(line[4:] if line.startswith("    ") else line for line in grammar.strip("\n").splitlines()),
            "```", "",
            f"Limits: at most {expr.MAX_LENGTH} characters and {expr.MAX_DEPTH} levels of nesting. "
            f"限制：最多 {expr.MAX_LENGTH} 个字符、{expr.MAX_DEPTH} 层嵌套。", ""]


def render() -> str:
    return HEADER + "\n".join(_grammar_section() + _function_section() + _schema_section())
