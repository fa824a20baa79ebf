"""Chinese generic names → ATC: strip salts, esters, vehicles and dosage forms, then look up."""
from __future__ import annotations

import functools
import re

import pandas as pd

from .reference import names_zh

# Order matters: vehicles and long forms before the short words they contain.
_DROP = [
    "氯化钠注射液", "葡萄糖注射液", "注射用", "注射液", "干混悬剂", "分散片", "缓释片", "缓释胶囊", "肠溶片",
    "肠溶胶囊", "胶囊", "颗粒", "混悬液", "口服液", "滴眼液", "眼膏", "软膏", "乳膏", "栓", "片", "针",
    "甲磺酸钠", "磷酸酯", "琥珀酸", "乳糖酸", "枸橼酸", "酒石酸", "氢溴酸", "对甲苯磺酸", "甲苯磺酸", "富马酸",
    "马来酸", "盐酸", "硫酸", "磷酸", "甲磺酸", "水合物", "钠", "钾", "钙", "镁", "（", "）", "(", ")", " ",
]
# 复方 stays: 复方磺胺甲噁唑 (J01EE01) is not 磺胺甲噁唑 (J01EC01).
# A name that contains a known substance plus one of these is another product (a combination, a topical
# silver salt): the shorter name must not claim it.
_PARTNERS = ("巴坦", "克拉维酸", "西司他丁", "倍他米隆", "甲氧苄啶", "利托那韦", "银")
_VARIANTS = str.maketrans({"粘": "黏", "噁": "恶"})


def normalise_name(name: str) -> str:
    text = str(name).translate(_VARIANTS)
    text = re.sub(r"[\d.]+\s*(%|mg|g|ml|万U|U)", "", text)
    for word in _DROP:
        text = text.replace(word, "")
    return re.sub(r"酯$", "", text)


def candidate_atcs(name: str) -> list[str]:
    """Every ATC whose Chinese name matches; the longest matching name wins (头孢哌酮舒巴坦 over 头孢哌酮)."""
    norm = normalise_name(name)
    table, keys = _keys()
    exact = table[keys == norm]
    if len(exact):
        return sorted(set(exact["atc_code"]))
    hit = keys.map(lambda k: k in norm)                 # a few hundred reference names, not data rows
    if not hit.any():
        return []
    longest = keys[hit].str.len().max()
    best = hit & (keys.str.len() == longest)
    rest = norm.replace(keys[best].iloc[0], "", 1)
    if any(p in rest for p in _PARTNERS):
        return []
    return sorted(set(table.loc[best, "atc_code"]))


@functools.lru_cache(maxsize=1)
def _keys() -> tuple[pd.DataFrame, pd.Series]:
    """Reference names normalised exactly as a dictionary's names are."""
    table = names_zh()
    return table, table["name"].map(normalise_name)
