"""Expression trees → vectorised pandas operations (Kleene logic for missing values).

One small function per node kind; the tree was whitelisted at parse time, so
anything unexpected here is a bug, not user input.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from ..spec.expr import Col, Lit, Node

Getter = Callable[[str], pd.Series]


def evaluate(node: Node, get: Getter, n: int):
    """A Series (or scalar for a literal) for `node` over a frame of `n` rows.

    Where the getter keeps a `memo` (one batch's ColumnProvider), each distinct subexpression is evaluated
    once for all the measures of the batch (`setting == "inpatient"` is in dozens of filters). Keyed by
    repr, which tells Lit(True) from Lit(1); results are never modified in place by their users."""
    if isinstance(node, Col):
        return get(node.name)
    if isinstance(node, Lit):
        return node.value
    memo = getattr(get, "memo", None)
    if memo is None:
        return _OPS[node.op](node, get, n)
    key = repr(node)
    if key not in memo:
        memo[key] = _OPS[node.op](node, get, n)
    return memo[key]


def as_mask(value, n: int) -> np.ndarray:
    """A filter result → plain bool array; missing counts as False."""
    if isinstance(value, (bool, np.bool_)) or value is None:
        return np.full(n, bool(value))
    s = value if isinstance(value, pd.Series) else pd.Series(value)
    if s.dtype == bool:
        return s.to_numpy()
    if s.dtype == "boolean":      # one pass, not a cast, a fill and a conversion
        return s.to_numpy(dtype=bool, na_value=False)
    return s.astype("boolean").fillna(False).to_numpy(dtype=bool)


def as_values(value, n: int) -> np.ndarray:
    """A value expression → float64 array (missing → NaN)."""
    if not isinstance(value, pd.Series):
        return np.full(n, np.nan if value is None else float(value))
    if isinstance(value.dtype, pd.CategoricalDtype) or value.dtype == object:
        value = pd.to_numeric(value.astype("object"), errors="coerce")
    return value.astype("float64").to_numpy(na_value=np.nan) if hasattr(value, "to_numpy") else np.asarray(value, float)


def _bool(v, n):
    if isinstance(v, pd.Series):
        return v if v.dtype == "boolean" else v.astype("boolean")
    return pd.Series(pd.array(np.full(n, bool(v)), dtype="boolean")) if v is not None else pd.Series(pd.array([pd.NA] * n, dtype="boolean"))


def _args(node, get, n):
    return [evaluate(a, get, n) for a in node.args]


def _plain_bool(v) -> bool:
    return isinstance(v, pd.Series) and v.dtype == bool


def _logic(node, get, n):
    args = _args(node, get, n)
    if all(_plain_bool(a) for a in args):        # nothing missing: numpy booleans, no Kleene bookkeeping
        out = args[0].to_numpy()
        for a in args[1:]:
            out = (out & a.to_numpy()) if node.op == "and" else (out | a.to_numpy())
        return pd.Series(out)
    # Kleene logic on (value, missing) arrays: a known False decides an `and`, a known True an `or`
    true, false = _known(args[0], n)
    for a in args[1:]:
        t, f = _known(a, n)
        true, false = ((true & t), (false | f)) if node.op == "and" else ((true | t), (false & f))
    return pd.Series(pd.arrays.BooleanArray(true, ~(true | false)))


def _known(value, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(known True, known False) of a filter's operand."""
    if _plain_bool(value):
        v = value.to_numpy()
        return v, ~v
    values = _bool(value, n).array
    return values.to_numpy(dtype=bool, na_value=False), ~values.to_numpy(dtype=bool, na_value=True)


def _not(node, get, n):
    v = evaluate(node.args[0], get, n)
    return pd.Series(~v.to_numpy()) if _plain_bool(v) else ~_bool(v, n)


def _numeric(v):
    if isinstance(v, pd.Series) and v.dtype == "Int64":
        return v.astype("float64")
    return v


def _arith(node, get, n):
    a, b = (_numeric(x) for x in _args(node, get, n))
    if node.op == "div":
        if isinstance(b, pd.Series):
            b = b.where(b != 0)     # x / 0 is missing, never inf
        elif b == 0:
            return pd.Series(np.full(n, np.nan))
    return {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b, "div": lambda: a / b}[node.op]()


def _compare(node, get, n):
    a, b = _args(node, get, n)
    if not isinstance(a, pd.Series) and isinstance(b, pd.Series):
        flip = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}
        a, b, op = b, a, flip.get(node.op, node.op)
    else:
        op = node.op
    if not isinstance(a, pd.Series):
        a = pd.Series([a] * n)
    if b is None:
        return pd.Series(pd.array([pd.NA] * n, dtype="boolean"))
    if isinstance(b, pd.Series):        # column against column: compare values, missing stays missing
        missing = (a.isna() | b.isna()).to_numpy()
        av = a.astype(object).to_numpy() if isinstance(a.dtype, pd.CategoricalDtype) else _numeric(a).to_numpy()
        bv = b.astype(object).to_numpy() if isinstance(b.dtype, pd.CategoricalDtype) else _numeric(b).to_numpy()
        res = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
               "ge": np.greater_equal}[op](np.where(missing, 0, av), np.where(missing, 0, bv)).astype(bool)
        return pd.Series(res).astype("boolean").mask(pd.Series(missing)) if missing.any() else pd.Series(res)
    if isinstance(a.dtype, pd.CategoricalDtype) and op in ("eq", "ne"):
        codes = np.asarray(a.cat.codes)
        hit = a.cat.categories.get_indexer([b])[0] if isinstance(b, str) else -2
        res = (codes == hit) if op == "eq" else (codes != hit)
        missing = codes == -1
        if missing.any():                       # missing values stay missing (Kleene logic)
            return pd.Series(pd.arrays.BooleanArray(res, missing))
        return pd.Series(res)
    if isinstance(a.dtype, pd.CategoricalDtype):
        a = a.astype("object")
    a = _numeric(a)
    res = {"eq": a.__eq__, "ne": a.__ne__, "lt": a.__lt__, "le": a.__le__, "gt": a.__gt__, "ge": a.__ge__}[op](b)
    return pd.Series(res).astype("boolean").mask(a.isna())


def _in(node, get, n):
    a = evaluate(node.args[0], get, n)
    values = list(node.args[1].value)
    if not isinstance(a, pd.Series):
        return pd.Series(np.full(n, a in values))
    res = a.isin(values)
    return ~res if node.op == "not_in" else res


def _isnull(node, get, n):
    a = evaluate(node.args[0], get, n)
    res = a.isna() if isinstance(a, pd.Series) else pd.Series(np.full(n, a is None))
    return ~res if node.op == "notnull" else res


def _startswith(node, get, n):
    a = evaluate(node.args[0], get, n)
    prefixes = node.args[1].value
    prefixes = (prefixes,) if isinstance(prefixes, str) else tuple(prefixes)
    if isinstance(a.dtype, pd.CategoricalDtype):     # test the few categories, then take by code
        cats = pd.Series(a.cat.categories.astype("str")).str.startswith(prefixes).to_numpy()
        codes = np.asarray(a.cat.codes)
        out = np.append(cats, False)[codes]
        return pd.Series(pd.arrays.BooleanArray(out, codes == -1))
    return a.astype("str").str.startswith(prefixes).astype("boolean").mask(a.isna().to_numpy())


def _between(node, get, n):
    a, lo, hi = _args(node, get, n)
    a = _numeric(a)
    return ((a >= lo) & (a <= hi)).astype("boolean")


def _datepart(node, get, n):
    a = evaluate(node.args[0], get, n)
    part = {"year": a.dt.year, "month": a.dt.month, "day": a.dt.day, "quarter": a.dt.quarter}[node.op]
    return part.astype("float64")


def _coalesce(node, get, n):
    vals = _args(node, get, n)
    out = vals[0] if isinstance(vals[0], pd.Series) else pd.Series(np.full(n, vals[0]))
    for v in vals[1:]:
        out = out.fillna(v)
    return out


def _exists(node, get, n):
    return get.exists(node.args[0].value, node.args[1] if len(node.args) > 1 else None)


def _numeric_series(v, n):
    return _numeric(v) if isinstance(v, pd.Series) else pd.Series(np.full(n, np.nan if v is None else float(v)))


def _rounding(node, get, n):
    v = _numeric_series(evaluate(node.args[0], get, n), n)
    return pd.Series((np.ceil if node.op == "ceil" else np.floor)(v.astype("float64").to_numpy()))


def _extreme(node, get, n):
    frame = pd.concat([_numeric_series(a, n).astype("float64").rename(i) for i, a in enumerate(_args(node, get, n))], axis=1)
    return frame.max(axis=1) if node.op == "greatest" else frame.min(axis=1)


def _if_else(node, get, n):
    cond, yes, no = _args(node, get, n)
    mask = as_mask(cond, n)
    return pd.Series(np.where(mask, _numeric_series(yes, n).astype("float64").to_numpy(),
                              _numeric_series(no, n).astype("float64").to_numpy()))


_OPS = {
    "ceil": _rounding, "floor": _rounding, "greatest": _extreme, "least": _extreme, "if_else": _if_else,
    "exists": _exists,
    "and": _logic, "or": _logic, "not": _not, "neg": lambda nd, g, n: -_numeric(evaluate(nd.args[0], g, n)),
    "add": _arith, "sub": _arith, "mul": _arith, "div": _arith,
    "eq": _compare, "ne": _compare, "lt": _compare, "le": _compare, "gt": _compare, "ge": _compare,
    "in": _in, "not_in": _in, "isnull": _isnull, "notnull": _isnull, "startswith": _startswith,
    "between": _between, "year": _datepart, "month": _datepart, "day": _datepart, "quarter": _datepart,
    "coalesce": _coalesce, "abs": lambda nd, g, n: _numeric(evaluate(nd.args[0], g, n)).abs(),
}
