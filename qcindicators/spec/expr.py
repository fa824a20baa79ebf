"""The expression grammar of definitions: parsed, whitelisted, never executed.

Python's `ast` does the tokenising; every node type is then checked against a
whitelist and turned into a small immutable tree (`Col`, `Lit`, `Op`). The
engine compiles that tree to vectorised operations. Definition text never
reaches `eval`, `exec`, `DataFrame.eval` or `DataFrame.query`.

Grammar (informally):
    expr    := expr or expr | expr and expr | not expr | comparison
    comparison := arith (== != < <= > >=) arith | arith in [lit, ...] | arith not in [...]
    arith   := arith (+ - * /) arith | -arith | atom
    atom    := column | number | "string" | true | false | null | func(args) | (expr)
    func    := isnull notnull startswith between year month quarter day coalesce abs ceil floor
               greatest least if_else(condition, then, otherwise)
               | exists(child_table, condition)     a stay/visit with at least one matching child row
"""
from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass
from typing import Union

from ..errors import ExpressionError
from ..errors import did_you_mean

MAX_LENGTH = 2000
MAX_DEPTH = 40

Value = Union[int, float, str, bool, None]


@dataclass(frozen=True)
class Col:
    name: str


@dataclass(frozen=True)
class Lit:
    value: Value | tuple


@dataclass(frozen=True)
class Op:
    op: str
    args: tuple["Node", ...]


Node = Union[Col, Lit, Op]

_BIN = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div"}
_CMP = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge",
        ast.In: "in", ast.NotIn: "not_in"}
# function name -> (min args, max args); None = any number
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "isnull": (1, 1), "notnull": (1, 1), "startswith": (2, 2), "between": (3, 3),
    "year": (1, 1), "month": (1, 1), "quarter": (1, 1), "day": (1, 1),
    "coalesce": (2, None), "abs": (1, 1), "exists": (1, 2),
    "ceil": (1, 1), "floor": (1, 1), "greatest": (2, None), "least": (2, None), "if_else": (3, 3),
}
# exists(child, condition): the row (a stay or a visit) has at least one child row meeting the condition
LINKS = {("discharges", "procedures"), ("discharges", "drug_orders"), ("visits", "drug_orders")}
_CONSTANTS = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}


def parse(text: str) -> Node:
    """Parse an expression string into a tree, or raise `ExpressionError` saying why."""
    if not isinstance(text, str):
        if isinstance(text, bool) or isinstance(text, (int, float)):
            return Lit(text)
        raise ExpressionError(f"表达式应为字符串 / expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"表达式过长 / expression longer than {MAX_LENGTH} characters")
    try:
        with warnings.catch_warnings():       # Python's own SyntaxWarning ("invalid decimal literal") is not
            warnings.simplefilter("ignore", SyntaxWarning)   # for our users: the error below says it
            tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise ExpressionError(f"语法错误 / syntax error at column {err.offset}: {text!r}") from None
    except (ValueError, RecursionError, MemoryError):   # null bytes, absurd nesting
        raise ExpressionError(f"无法解析的表达式 / expression cannot be parsed: {text[:80]!r}") from None
    return _convert(tree.body, 0)


def _convert(node: ast.AST, depth: int) -> Node:
    if depth > MAX_DEPTH:
        raise ExpressionError("表达式嵌套过深 / expression nested too deeply")
    d = depth + 1
    if isinstance(node, ast.BoolOp):
        return Op("and" if isinstance(node.op, ast.And) else "or", tuple(_convert(v, d) for v in node.values))
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            return Op("not", (_convert(node.operand, d),))
        if isinstance(node.op, ast.USub):
            inner = _convert(node.operand, d)
            if isinstance(inner, Lit) and isinstance(inner.value, (int, float)) and not isinstance(inner.value, bool):
                return Lit(-inner.value)
            return Op("neg", (inner,))
        if isinstance(node.op, ast.UAdd):
            return _convert(node.operand, d)
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
        return Op(_BIN[type(node.op)], (_convert(node.left, d), _convert(node.right, d)))
    if isinstance(node, ast.Compare):
        return _compare(node, d)
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return Lit(_CONSTANTS[node.id])
        return Col(node.id)
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (int, float, str, bool))):
        return Lit(node.value)
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_convert(e, d) for e in node.elts]
        if not all(isinstance(i, Lit) and not isinstance(i.value, tuple) for i in items):
            raise ExpressionError("列表中只能有常量 / a list may hold only literal values")
        return Lit(tuple(i.value for i in items))
    if isinstance(node, ast.Call):
        return _call(node, d)
    raise ExpressionError(f"不支持的语法 / not allowed in expressions: {type(node).__name__}"
                          + (f" ({ast.unparse(node)[:60]!r})" if hasattr(ast, "unparse") else ""))


def _compare(node: ast.Compare, d: int) -> Node:
    parts, left = [], _convert(node.left, d)
    for op, comp in zip(node.ops, node.comparators):
        if type(op) not in _CMP:
            raise ExpressionError(f"不支持的比较 / comparison not allowed: {type(op).__name__}")
        right = _convert(comp, d)
        name = _CMP[type(op)]
        if name in ("in", "not_in") and not (isinstance(right, Lit) and isinstance(right.value, tuple)):
            raise ExpressionError("in 后面应为列表，如 x in [\"a\", \"b\"] / `in` needs a list, e.g. x in [\"a\", \"b\"]")
        parts.append(Op(name, (left, right)))
        left = right
    return parts[0] if len(parts) == 1 else Op("and", tuple(parts))


def _call(node: ast.Call, d: int) -> Node:
    if node.keywords:
        raise ExpressionError("函数不接受关键字参数 / functions take no keyword arguments")
    if isinstance(node.func, ast.Attribute) and node.func.attr == "startswith" and isinstance(node.func.value, ast.Name):
        func, args = "startswith", [node.func.value] + list(node.args)   # dx.startswith("O") as sugar
    elif isinstance(node.func, ast.Name):
        func, args = node.func.id, list(node.args)
    else:
        raise ExpressionError("只能调用白名单函数 / only whitelisted functions may be called: " + ", ".join(FUNCTIONS))
    if func not in FUNCTIONS:
        raise ExpressionError(f"未知函数 / unknown function {func!r}." + did_you_mean(func, FUNCTIONS))
    lo, hi = FUNCTIONS[func]
    if len(args) < lo or (hi is not None and len(args) > hi):
        raise ExpressionError(f"函数 {func} 参数个数不对 / {func}() takes {lo}{'' if hi == lo else '+'} argument(s), got {len(args)}")
    if func == "exists":
        if not isinstance(args[0], ast.Name):
            raise ExpressionError("exists 的第一个参数应为表名 / exists() takes a table name first, e.g. exists(procedures, is_surgery)")
        inner = tuple(_convert(a, d) for a in args[1:])
        if inner and links(inner[0]):
            raise ExpressionError("exists 不能嵌套 / exists() cannot be nested")
        return Op("exists", (Lit(args[0].id),) + inner)
    conv = tuple(_convert(a, d) for a in args)
    if func == "startswith" and not (isinstance(conv[1], Lit) and isinstance(conv[1].value, (str, tuple))):
        raise ExpressionError("startswith 的第二个参数应为字符串或字符串列表 / startswith needs a string or list of strings")
    return Op(func, conv)


def columns(node: Node) -> set[str]:
    """Every column name an expression reads from its own table (not inside exists())."""
    if isinstance(node, Col):
        return {node.name}
    if isinstance(node, Op) and node.op == "exists":
        return set()
    if isinstance(node, Op):
        out: set[str] = set()
        for a in node.args:
            out |= columns(a)
        return out
    return set()


def links(node: Node) -> list[tuple[str, "Node | None"]]:
    """(child table, condition) of every exists() in an expression."""
    if not isinstance(node, Op):
        return []
    if node.op == "exists":
        return [(node.args[0].value, node.args[1] if len(node.args) > 1 else None)]
    return [link for a in node.args for link in links(a)]


def to_text(node: Node) -> str:
    """A canonical text form (used for plan keys and explain output)."""
    if isinstance(node, Col):
        return node.name
    if isinstance(node, Lit):
        if isinstance(node.value, tuple):
            return "[" + ", ".join(to_text(Lit(v)) for v in node.value) + "]"
        if isinstance(node.value, str):
            return '"' + node.value.replace('"', '\\"') + '"'
        return {True: "true", False: "false", None: "null"}.get(node.value, repr(node.value)) if isinstance(node.value, (bool, type(None))) else repr(node.value)
    sym = {"add": "+", "sub": "-", "mul": "*", "div": "/", "eq": "==", "ne": "!=", "lt": "<", "le": "<=",
           "gt": ">", "ge": ">=", "in": "in", "not_in": "not in"}
    if node.op in sym:
        return f"({to_text(node.args[0])} {sym[node.op]} {to_text(node.args[1])})"
    if node.op in ("and", "or"):
        return "(" + f" {node.op} ".join(to_text(a) for a in node.args) + ")"
    if node.op == "not":
        return f"(not {to_text(node.args[0])})"
    if node.op == "neg":
        return f"(-{to_text(node.args[0])})"
    if node.op == "exists":
        return f"exists({node.args[0].value}" + (f", {to_text(node.args[1])})" if len(node.args) > 1 else ")")
    return f"{node.op}(" + ", ".join(to_text(a) for a in node.args) + ")"
