"""The reference tables the package ships (WHO ATC/DDD subset, Chinese generic names)."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pandas as pd

# Chinese 抗菌药物 scope (《抗菌药物临床应用管理办法》2012): antibacterials and antifungals for
# systemic use, plus the nitroimidazoles; not anti-TB (J04), antivirals (J05) or other antiparasitics.
SCOPE_PREFIXES = ("J01", "J02", "P01AB")
OPTIONAL_SCOPE_PREFIXES = ("A07AA",)   # oral vancomycin / fidaxomicin when given for infection

MASS = {"g": 1.0, "mg": 1e-3, "μg": 1e-6}
UNITS = {"U": 1.0, "万U": 1e4, "MU": 1e6}
# Across the two families only where a factor is known: grams of the DDD's substance per MU,
# or MU per gram of what hospitals dispense.
MU_TO_G = {"J01CE01": 0.6, "J01CE08": 0.6, "J01XB02": 0.1}   # benzylpenicillin sodium 1 MU ≈ 0.6 g; polymyxin B 1 mg = 10 000 U
G_TO_MU = {"J01XB01": 12.5}                                   # colistimethate sodium: 1 MU ≈ 80 mg


def _read(name: str) -> pd.DataFrame:
    with resources.files("qcindicators.data").joinpath(name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


@lru_cache(maxsize=1)
def ddd_table() -> pd.DataFrame:
    """Rows with a DDD: atc_code, atc_name, ddd (float), uom, adm_r, note, edition."""
    t = _read("ddd_antimicrobials.csv")
    t = t[t["ddd"] != ""].copy()
    t["ddd"] = t["ddd"].astype(float)
    return t.reset_index(drop=True)


@lru_cache(maxsize=1)
def ddd_edition() -> str:
    return "WHO ATC/DDD Index " + ddd_table()["edition"].iloc[0]


@lru_cache(maxsize=1)
def names_zh() -> pd.DataFrame:
    """name → atc_code, one row per Chinese name or alias."""
    t = _read("antimicrobial_names_zh.csv")
    rows = [(r.name_zh, r.atc_code) for r in t.itertuples()]
    rows += [(a, r.atc_code) for r in t.itertuples() for a in r.aliases.split("|") if a]
    return pd.DataFrame(rows, columns=["name", "atc_code"])


def in_scope(atc: str | None, include_optional: bool = False) -> bool:
    if not atc:
        return False
    prefixes = SCOPE_PREFIXES + (OPTIONAL_SCOPE_PREFIXES if include_optional else ())
    return atc.startswith(prefixes)
