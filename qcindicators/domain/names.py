"""Chinese generic names → ATC: strip salts, esters, vehicles and dosage forms, then look up."""
from __future__ import annotations

import re

from .reference import names_zh

# Order matters: vehicles and long forms before the short words they contain.
_DROP = [
    "氯化钠注射液", "葡萄糖注射液", "注射用", "注射液", "干混悬剂", "分散片", "缓释片", "缓释胶囊", "肠溶片",
    "肠溶胶囊", "胶囊", "颗粒", "混悬液", "口服液", "滴眼液", "眼膏", "软膏", "乳膏", "栓", "片", "针",
    "甲磺酸钠", "磷酸酯", "琥珀酸", "乳糖酸", "枸橼酸", "酒石酸", "氢溴酸", "盐酸", "硫酸", "磷酸", "甲磺酸",
    "水合物", "钠", "钾", "钙", "镁", "（", "）", "(", ")", " ", "复方",
]
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
    table = names_zh()
    keys = table["name"].map(lambda s: s.translate(_VARIANTS))   # ~100 reference rows, not data rows
    exact = table[keys == norm]
    if len(exact):
        return sorted(set(exact["atc_code"]))
    contained = table[[k in norm for k in keys]]
    if not len(contained):
        return []
    longest = contained["name"].str.len().max()
    return sorted(set(contained[contained["name"].str.len() == longest]["atc_code"]))
