"""规格 strings → active ingredient per smallest unit, e.g. '0.25g*24粒' → (0.25, 'g')."""
from __future__ import annotations

import re

_UNIT = r"(g|mg|μg|ug|mcg|万U|万单位|万IU|MU|百万单位|IU|U|单位)"
_NUM = r"(\d+(?:\.\d+)?)"
_UNIT_CANON = {"ug": "μg", "mcg": "μg", "万单位": "万U", "万IU": "万U", "百万单位": "MU", "IU": "U", "单位": "U"}


def _canon(u: str) -> str:
    return _UNIT_CANON.get(u, u)


def parse_spec(spec: str | None, combination: bool = False) -> tuple[float, str, str | None]:
    """(amount, unit, problem). For combinations the amount is the first (reference) ingredient.

    Forms: 0.25g*24粒, 0.25g×12片/盒, 1g/支, 0.5g:100ml, 100ml:0.5g, 2ml:0.1g, 250mg, 80万U,
    150万单位/瓶, 4.5g(4.0g:0.5g), 2.25g(8:1).
    """
    if not spec:
        return float("nan"), "", "no_strength"
    s = str(spec).replace("：", ":").replace("（", "(").replace("）", ")").replace(" ", "")
    m = re.search(rf"{_NUM}{_UNIT}?\({_NUM}{_UNIT}:{_NUM}{_UNIT}\)", s)       # 4.5g(4.0g:0.5g)
    if m:
        return float(m.group(3)), _canon(m.group(4)), None
    m = re.search(rf"{_NUM}{_UNIT}\({_NUM}:{_NUM}\)", s)                      # 2.25g(8:1)
    if m:
        total, a, b = float(m.group(1)), float(m.group(3)), float(m.group(4))
        return total * a / (a + b), _canon(m.group(2)), None
    m = re.search(rf"{_NUM}ml:{_NUM}{_UNIT}", s, re.I) or re.search(rf"{_NUM}{_UNIT}:{_NUM}ml", s, re.I)
    if m:   # volume:amount or amount:volume — the amount is the number next to the mass/unit
        if m.re.pattern.startswith(_NUM + "ml"):
            return float(m.group(2)), _canon(m.group(3)), None
        return float(m.group(1)), _canon(m.group(2)), None
    m = re.search(rf"{_NUM}{_UNIT}", s)
    if m:
        if combination:
            return float("nan"), "", "combination_split_unknown"
        return float(m.group(1)), _canon(m.group(2)), None
    return float("nan"), "", "unparseable_spec"


PACK_UNITS = ("盒", "袋", "板", "包")


_SMALLEST = "粒|片|支|瓶|袋|丸|枚|贴"


def pack_count(spec: str | None, unit: str | None = None) -> float:
    """Smallest units per dispensed pack: '0.25g*24粒' → 24, '0.25g×12片/盒' → 12, '10支/盒' → 10, and through
    every level of a nested pack: '0.25g*12粒*2板' → 24 a box (12 a board), '6片/板*2板/盒' → 12 a box.
    `unit` is the dispensing unit (盒, 板, …): a nested pack is counted down to it. NaN when not stated."""
    if not spec:
        return float("nan")
    s = str(spec).replace("×", "*").replace("x", "*").replace("X", "*").replace(" ", "")
    m = re.search(rf"\*(\d+)({_SMALLEST})", s) or re.search(rf"(\d+)({_SMALLEST})/({'|'.join(PACK_UNITS)})", s)
    if not m:
        return float("nan")
    count = float(m.group(1))
    inner = m.group(3) if m.re.groups == 3 else None        # what the smallest units come in: 6片/板 → 板
    if unit is not None and unit == inner:
        return count
    # the levels above: *2板, 2板/盒 — each multiplies, until the dispensing unit's own level
    for n, level in re.findall(rf"(?:\*|^|/)(\d+)({'|'.join(PACK_UNITS)})", s[m.end():]):
        if unit is not None and level == unit:
            break
        count *= float(n)
    return count
