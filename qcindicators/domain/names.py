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
# Stereo-isomers and derivatives are other substances with other DDDs: 左奥硝唑 is not 奥硝唑, 去甲万古霉素 is not
# 万古霉素. A name found only after one of these is not that substance (左氧氟沙星 is matched whole, first).
_OTHER_SUBSTANCE = ("左", "右", "去甲", "消旋", "脱")
# Antibacterials used in China with no WHO ATC code or DDD (reference README, 《抗菌药物临床应用管理办法》 scope):
# known to be antibacterials, so their lines are reported without a DDD, never taken for other drugs.
CHINA_ONLY = ("依替米星", "头孢硫脒", "吗啉硝唑", "左奥硝唑", "去甲万古霉素", "安妥沙星", "可利霉素", "康替唑胺")


def normalise_name(name: str) -> str:
    text = str(name).translate(_VARIANTS).replace("左旋", "左").replace("右旋", "右")
    text = re.sub(r"[\d.]+\s*(%|mg|g|ml|万U|U)", "", text)
    for word in _DROP:
        text = text.replace(word, "")
    return re.sub(r"酯$", "", text)


def candidate_atcs(name: str) -> list[str]:
    """Every ATC whose Chinese name matches; the longest matching name wins (头孢哌酮舒巴坦 over 头孢哌酮)."""
    return _matched(name)[0]


def kin_atcs(name: str) -> list[str]:
    """ATCs of substances the name contains but is not (a 舒巴坦 combination without its own code, a 左- isomer):
    a drug named so is of that family — an antibacterial to report without a DDD, not a non-antibacterial."""
    return _matched(name)[1]


def china_only(name: str) -> bool:
    """An antibacterial with no WHO code (CHINA_ONLY), named as such."""
    norm = normalise_name(name)
    return any(n in norm for n in CHINA_ONLY)


@functools.lru_cache(maxsize=4096)
def _matched(name: str) -> tuple[list[str], list[str]]:
    """(the ATCs the name is, the ATCs of substances it only contains)."""
    norm = normalise_name(name)
    table, keys = _keys()
    exact = table[keys == norm]
    if len(exact):
        return sorted(set(exact["atc_code"])), []
    hit = keys.map(lambda k: k in norm)                 # a few hundred reference names, not data rows
    if not hit.any():
        return [], []
    longest = keys[hit].str.len().max()
    best = hit & (keys.str.len() == longest)
    found = sorted(set(table.loc[best, "atc_code"]))
    key = keys[best].iloc[0]
    before, _, rest = norm.partition(key)
    if before.endswith(_OTHER_SUBSTANCE) or any(p in rest for p in _PARTNERS if p != "银"):
        return [], found
    if "银" in rest:          # a topical silver salt (磺胺嘧啶银, D06): another product, not an antibacterial's kin
        return [], []
    return found, []


@functools.lru_cache(maxsize=1)
def _keys() -> tuple[pd.DataFrame, pd.Series]:
    """Reference names normalised exactly as a dictionary's names are."""
    table = names_zh()
    return table, table["name"].map(normalise_name)
