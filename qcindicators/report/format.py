"""How the report writes numbers, 达标 and change: one place, so the HTML page and the workbook agree.

Values are formatted by their unit (percentages with one decimal, money with thousands separators,
counts without decimals); numerators and denominators are counts unless they carry decimals.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

MET, NOT_MET, NOT_JUDGED = "达标", "未达标", "不判定"
MARKS = {MET: "✓", NOT_MET: "✗", NOT_JUDGED: "–", "": ""}
MONEY_UNITS = {"yuan", "元"}


def value_format(unit: str, kind: str) -> tuple[int, bool]:
    """(decimals, thousands separators) for a value in `unit` of an indicator of `kind`.

    Examples:
        >>> value_format("%", "proportion"), value_format("yuan", "mean"), value_format("records", "count")
        ((1, False), (2, True), (0, True))
    """
    if unit == "%":
        return 1, False
    if unit in MONEY_UNITS:
        return 2, True
    if kind == "count":
        return 0, True
    return 2, True


def format_values(values: pd.Series, units: pd.Series, kinds: pd.Series) -> pd.Series:
    """Each value formatted by its own unit and kind; missing values are empty strings.

    Examples:
        >>> format_values(pd.Series([12.345, 3699.0, 553.0, float("nan")]), pd.Series(["%", "yuan", "yuan", "%"]),
        ...               pd.Series(["proportion", "mean", "mean", "proportion"])).tolist()
        ['12.3', '3,699.00', '553.00', '']
    """
    out = pd.Series("", index=values.index, dtype=object)
    v = pd.to_numeric(values, errors="coerce").astype("float64")
    pairs = units.astype(str).str.cat(kinds.astype(str), sep="\x1f")
    for pair in pairs.unique():                     # a handful of (unit, kind) pairs, each formatted at once
        rows = (pairs == pair) & v.notna()
        out[rows] = _fmt(v[rows], *value_format(*pair.split("\x1f")))
    return out


def format_counts(values: pd.Series, money: pd.Series | bool = False) -> pd.Series:
    """Numerators/denominators: whole numbers without decimals, else one decimal (money: two).

    Examples:
        >>> format_counts(pd.Series([1234.0, 56.25, None])).tolist()
        ['1,234', '56.2', '']
        >>> format_counts(pd.Series([32145009.4, 1798.0]), money=pd.Series([True, True])).tolist()
        ['32,145,009.40', '1,798']
    """
    v = pd.to_numeric(values, errors="coerce").astype("float64")
    money = pd.Series(money, index=values.index) if isinstance(money, bool) else money.astype(bool)
    out = pd.Series("", index=values.index, dtype=object)
    whole = v.notna() & (v == np.round(v))
    out[whole] = _fmt(v[whole], 0, True)
    for is_money, decimals in ((False, 1), (True, 2)):
        rest = v.notna() & ~whole & (money == is_money)
        out[rest] = _fmt(v[rest], decimals, True)
    return out


def _fmt(v: pd.Series, decimals: int, thousands: bool) -> pd.Series:
    spec = f"{{:{',' if thousands else ''}.{decimals}f}}"
    return v.map(spec.format).astype(object)


def met_labels(met: pd.Series, has_target: pd.Series) -> pd.Series:
    """达标 / 未达标 / 不判定 (a target, but no value or too small a denominator); empty without a target.

    Examples:
        >>> met_labels(pd.Series([True, False, None, None]), pd.Series([True, True, True, False])).tolist()
        ['达标', '未达标', '不判定', '']
    """
    m = met.astype("boolean")
    out = np.where(m.fillna(False), MET, np.where((~m).fillna(False), NOT_MET, NOT_JUDGED))
    return pd.Series(np.where(has_target.to_numpy(bool), out, ""), index=met.index, dtype=object)


def prior_year(period: pd.Series) -> pd.Series:
    """The same period one year earlier: '2024' → '2023', '2024Q3' → '2023Q3', '2024-05' → '2023-05'.

    Examples:
        >>> prior_year(pd.Series(["2024", "2024Q3", "2024-05"])).tolist()
        ['2023', '2023Q3', '2023-05']
    """
    p = period.astype(str)
    year = pd.to_numeric(p.str[:4], errors="coerce")
    return ((year - 1).astype("Int64").astype(str) + p.str[4:]).where(year.notna(), "").astype(object)


def arrows(value: pd.Series, before: pd.Series) -> pd.Series:
    """↑ ↓ → against the same period last year (→ within 0.5 % of it); empty when last year is missing.

    The arrow shows the change, not whether it is better (that depends on the indicator's direction):
    improvement is not coloured, 达标 is.

    Examples:
        >>> arrows(pd.Series([10.0, 8.0, 5.0, 5.0]), pd.Series([8.0, 10.0, 5.01, None])).tolist()
        ['↑', '↓', '→', '']
    """
    v, b = value.astype("float64"), pd.to_numeric(before, errors="coerce").astype("float64")
    flat = (v - b).abs() <= 0.005 * b.abs().clip(lower=1e-12)
    out = np.where(flat, "→", np.where(v > b, "↑", "↓"))
    return pd.Series(np.where(v.notna() & b.notna(), out, ""), index=value.index, dtype=object)
