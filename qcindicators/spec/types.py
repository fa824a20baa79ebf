"""Type-checking of definition expressions against the column types of the contract.

Run when definitions are loaded, so `year(age)`, `sex + 1 > 0`, `where: 'abc'`, `sum: primary_dx` or
`greatest(primary_dx, 1)` are a DefinitionError with file and line, never a TypeError or a silently
wrong sum at compute time (a code compared with a number, `sex == 1`, is false on every row).
"""
from __future__ import annotations

from ..schemas.contract import DERIVED_COLUMNS, FACILITY_ATTRIBUTES, TABLES
from .expr import Col, Lit, Node, Op

NUM, TEXT, DATE, BOOL, ANY = "number", "text", "date", "boolean", "any"
_KIND = {"int": NUM, "float": NUM, "id": TEXT, "str": TEXT, "code": TEXT, "period": TEXT, "date": DATE, "bool": BOOL}
_DERIVED = {"ddd_count": NUM, "is_antibacterial": BOOL, "antibacterial_grade": TEXT, "atc_code": TEXT}
_ZH = {NUM: "数值", TEXT: "文本/代码", DATE: "日期", BOOL: "是/否", ANY: "任意"}


class TypeIssue(Exception):
    """One type error in an expression (collected by the caller into a DefinitionError)."""


def column_types(table: str, extra: set[str] = frozenset()) -> dict[str, str]:
    """Type of every column a definition may name on `table`."""
    out = {c.name: _KIND[c.kind] for c in TABLES["facilities"].columns if c.name in FACILITY_ATTRIBUTES}
    out.update({c: _DERIVED.get(c, ANY) for c in DERIVED_COLUMNS.get(table, {})})
    out.update({c.name: _KIND[c.kind] for c in TABLES[table].columns})
    out.update({c: ANY for c in extra})
    return out


def type_of(node: Node, types: dict[str, str]) -> str:
    """The type of `node`, or TypeIssue saying what does not fit."""
    if isinstance(node, Col):
        return types.get(node.name, ANY)
    if isinstance(node, Lit):
        return _literal(node.value)
    rule = _RULES.get(node.op)
    return rule(node, types) if rule else ANY


def check_role(node: Node, types: dict[str, str], role: str) -> None:
    """`role`: "condition" (a where) must be boolean; "sum"/"mean"/"max" values must be numbers."""
    got = type_of(node, types)
    want = BOOL if role == "condition" else NUM
    if got not in (want, ANY) and not (want == NUM and got == BOOL):
        raise TypeIssue(f"{role} 应为{_ZH[want]}，此处为{_ZH[got]} / {role} needs a {want}, this is a {got}")


def _literal(v) -> str:
    if v is None:
        return ANY
    if isinstance(v, bool):
        return BOOL
    if isinstance(v, (int, float)):
        return NUM
    if isinstance(v, tuple):
        kinds = {_literal(x) for x in v} - {ANY}
        return kinds.pop() if len(kinds) == 1 else ANY
    return TEXT


def _need(node: Op, types, want: str, args=None) -> list[str]:
    got = [type_of(a, types) for a in (node.args if args is None else args)]
    for g in got:
        if g not in (want, ANY):
            raise TypeIssue(f"{node.op}() 需要{_ZH[want]}，得到{_ZH[g]} / {node.op} needs a {want}, got a {g}")
    return got


def _same(node: Op, types, args) -> str:
    got = {type_of(a, types) for a in args} - {ANY}
    if DATE in got and TEXT in got and all(isinstance(a, Lit) for a in args if type_of(a, types) == TEXT):
        got.discard(TEXT)        # a date against "2024-01-01"
    if len(got) > 1:
        raise TypeIssue(f"{node.op} 的两边类型不同（{'、'.join(_ZH[g] for g in sorted(got))}）/ {node.op} compares "
                        f"different types: {', '.join(sorted(got))}")
    return got.pop() if got else ANY


def _compare(node: Op, types) -> str:
    kind = _same(node, types, node.args)
    if node.op in ("lt", "le", "gt", "ge") and kind in (BOOL,):
        raise TypeIssue(f"是/否值不能比较大小 / a boolean cannot be ordered ({node.op})")
    return BOOL


def _arith(node: Op, types) -> str:
    _need(node, types, NUM)
    return NUM


def _logic(node: Op, types) -> str:
    _need(node, types, BOOL)
    return BOOL


def _if_else(node: Op, types) -> str:
    _need(node, types, BOOL, node.args[:1])
    return _same(node, types, node.args[1:])


_RULES = {
    **{op: _arith for op in ("add", "sub", "mul", "div", "neg")},
    **{op: _compare for op in ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in")},
    "and": _logic, "or": _logic, "not": _logic,
    "isnull": lambda n, t: BOOL, "notnull": lambda n, t: BOOL, "exists": lambda n, t: BOOL,
    "startswith": lambda n, t: (_need(n, t, TEXT, n.args[:1]), BOOL)[1],
    "between": lambda n, t: (_same(n, t, n.args), BOOL)[1],
    **{op: (lambda n, t: (_need(n, t, DATE), NUM)[1]) for op in ("year", "month", "quarter", "day")},
    **{op: (lambda n, t: (_need(n, t, NUM), NUM)[1]) for op in ("abs", "ceil", "floor", "greatest", "least")},
    "coalesce": lambda n, t: _same(n, t, n.args),
    "if_else": _if_else,
}
