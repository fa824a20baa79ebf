"""Drug dictionary → DDDs: the ATC, route, strength and DDD behind every dispensing line.

`resolve_dictionary` works per dictionary row (a few thousand rows, never the
dispensing lines) and says, for each antibacterial, what it will use and why —
or why it cannot. `drug_line_attributes` then maps millions of lines onto those
rows by integer codes.
"""
from __future__ import annotations

import math
import unicodedata

import numpy as np
import pandas as pd

from ..codes import codes_against
from .names import candidate_atcs, china_only, kin_atcs
from .reference import G_TO_MU, MASS, MU_TO_G, UNITS, ddd_table, in_scope
from .spec_strings import PACK_UNITS, pack_count, parse_spec

ROUTE_TO_ADM = {"oral": "O", "parenteral": "P"}
PROBLEMS_ZH = {
    "no_atc": "无法确定 ATC 编码（字典无 ATC，通用名也查不到）",
    "ambiguous_atc": "通用名对应多个 ATC，且给药途径不能区分",
    "no_ddd": "该 ATC 与给药途径没有 WHO DDD，字典也未提供 ddd",
    "route_needed": "该药不同给药途径 DDD 不同，字典缺少给药途径",
    "no_strength": "缺少每单位含量（strength 与规格都没有）",
    "unparseable_spec": "规格无法解析",
    "combination_split_unknown": "复方制剂的规格未写明各成分含量，无法按参照成分计算",
    "unit_unconvertible": "含量单位与 DDD 单位不能换算",
    "pack_size_unknown": "按盒发药但规格中看不出每盒数量",
}


# WHO gives a second DDD for some forms of one substance and route; the Chinese name tells which.
FORM_NOTES = {"琥乙": "erythromycin ethylsuccinate tablets", "脂质体": "lipid formulations", "脂质": "lipid formulations",
              "马尿酸": "hippurate", "扁桃酸": "mandelate"}


def _ddd_lookup() -> dict[str, list[tuple[str, float, str, str]]]:
    out: dict[str, list[tuple[str, float, str, str]]] = {}
    for r in ddd_table().itertuples():
        out.setdefault(r.atc_code, []).append((r.adm_r, r.ddd, r.uom, r.note))
    return out


def _form_note(name) -> str:
    return next((note for word, note in FORM_NOTES.items() if isinstance(name, str) and word in name), "")


def _pick_ddd(atc: str, adm: str | None, table, name=None) -> tuple[float, str, str | None]:
    rows = table.get(atc, [])
    if not rows:
        return math.nan, "", "no_ddd"
    if adm is not None:
        hit = [r for r in rows if r[0] == adm]
        if len(hit) > 1:   # several forms: the one the name names, else the plain row (no note)
            note = _form_note(name)
            hit = [r for r in hit if r[3] == note] or [r for r in hit if not r[3] or "Refers" in r[3]] or hit[:1]
        return (hit[0][1], hit[0][2], None) if hit else (math.nan, "", "no_ddd")
    if len({(r[1], r[2]) for r in rows}) == 1:
        return rows[0][1], rows[0][2], None
    return math.nan, "", "route_needed"


def _atc_for(row, adm: str | None, table) -> tuple[str | None, str, str | None, list[str]]:
    """(atc, where it came from, problem, candidates the name matched)."""
    atc = row.get("atc_code")
    if isinstance(atc, str) and atc.strip():      # full-width Ｊ０１ＤＤ０４ from a Chinese input method is J01DD04
        return unicodedata.normalize("NFKC", atc).strip().upper(), "dictionary", None, []
    name = row.get("generic_name") or ""
    if china_only(name):
        return None, "", "no_atc", []
    cands = candidate_atcs(name)
    if len(cands) > 1 and adm is not None:
        cands = [c for c in cands if any(r[0] == adm for r in table.get(c, []))]
    if len(cands) == 1:
        return cands[0], "generic_name", None, cands
    return None, "", ("ambiguous_atc" if len(cands) > 1 else "no_atc"), cands


def _factor(from_unit: str, to_unit: str, atc: str | None) -> float:
    """Multiply an amount in from_unit by this to get the DDD's unit; NaN when not convertible."""
    for fam in (MASS, UNITS, {"UD": 1.0}):
        if from_unit in fam and to_unit in fam:
            return fam[from_unit] / fam[to_unit]
    if from_unit in UNITS and to_unit in MASS and atc in MU_TO_G:
        return UNITS[from_unit] / 1e6 * MU_TO_G[atc] / MASS[to_unit]
    if from_unit in MASS and to_unit in UNITS and atc in G_TO_MU:
        return MASS[from_unit] * G_TO_MU[atc] * 1e6 / UNITS[to_unit]
    return math.nan


def _is_combination(atc: str | None) -> bool:
    notes = ddd_table().set_index("atc_code")["note"]
    return bool(atc) and atc in notes.index and "Refers to" in " ".join(np.atleast_1d(notes.loc[atc]))


def resolve_row(row: dict, table, include_optional: bool = False) -> dict:
    route = row.get("route")
    adm = ROUTE_TO_ADM.get(route) if isinstance(route, str) else None
    atc, atc_source, problem, cands = _atc_for(row, adm, table)
    grade = row.get("antibacterial_class")
    grade = grade if isinstance(grade, str) else None
    # graded by the hospital (分级) or named like one: an antibacterial we must account for
    name = row.get("generic_name") or ""
    antibacterial = in_scope(atc, include_optional) or (atc is None and (
        grade is not None or china_only(name) or any(in_scope(c, include_optional) for c in [*cands, *kin_atcs(name)])))
    own_ddd, own_unit = row.get("ddd"), row.get("ddd_unit")
    if isinstance(own_unit, str) and own_ddd is not None and not pd.isna(own_ddd):
        ddd, ddd_unit, ddd_source = float(own_ddd), own_unit, "dictionary"
        problem = None
    elif atc is not None:
        ddd, ddd_unit, problem = _pick_ddd(atc, adm, table, row.get("generic_name"))
        ddd_source = "WHO"
    else:
        ddd, ddd_unit, ddd_source = math.nan, "", ""
    strength, unit = row.get("strength"), row.get("strength_unit")
    if ddd_unit == "UD":                 # WHO unit-dose DDD of a combination product: one unit is one dose
        strength, unit, strength_source, sproblem = 1.0, "UD", "unit dose", None
    elif strength is not None and not pd.isna(strength) and isinstance(unit, str):
        strength, strength_source, sproblem = float(strength), "dictionary", None
    else:
        strength, unit, sproblem = parse_spec(row.get("spec"), _is_combination(atc))
        strength_source = "spec"
    per_pack = 1.0
    if row.get("dispensing_unit") == "pack" or (isinstance(row.get("dispensing_unit"), str)
                                                 and row["dispensing_unit"].strip() in PACK_UNITS):
        dispensed = row["dispensing_unit"].strip()
        per_pack = pack_count(row.get("spec"), dispensed if dispensed in PACK_UNITS else None)
        if math.isnan(per_pack):
            sproblem = sproblem or "pack_size_unknown"
    problem = problem or sproblem
    factor = _factor(unit, ddd_unit, atc) if not problem else math.nan
    if not problem and math.isnan(factor):
        problem = "unit_unconvertible"
    per_unit = strength * per_pack * factor / ddd if not problem else math.nan
    return {"atc_code": atc, "atc_source": atc_source, "adm_r": adm, "ddd": ddd, "ddd_unit": ddd_unit,
            "ddd_source": ddd_source, "strength_used": strength, "strength_unit_used": unit,
            "strength_source": strength_source, "ddd_per_unit": per_unit, "is_antibacterial": antibacterial,
            "antibacterial_grade": grade, "problem": problem if antibacterial else None}


RESOLVED_COLUMNS = ["atc_code", "atc_source", "adm_r", "ddd", "ddd_unit", "ddd_source", "strength_used", "strength_unit_used",
                    "strength_source", "ddd_per_unit", "is_antibacterial", "antibacterial_grade", "problem"]


def resolve_dictionary(dictionary: pd.DataFrame, include_optional: bool = False) -> pd.DataFrame:
    """One row per dictionary entry: what the library will use for DDDs, and any problem."""
    table = _ddd_lookup()
    keep = [c for c in ("facility_id", "drug_code", "generic_name", "route", "spec", "essential_drug") if c in dictionary.columns]
    records = dictionary.to_dict("records")          # dictionary rows, not dispensing lines
    resolved = pd.DataFrame([resolve_row(r, table, include_optional) for r in records], index=dictionary.index,
                            columns=RESOLVED_COLUMNS)   # named even when every entry was set aside
    out = pd.concat([dictionary[keep].reset_index(drop=True), resolved.reset_index(drop=True)], axis=1)
    out["problem_zh"] = out["problem"].map(PROBLEMS_ZH)
    return out


def audit(dictionary: pd.DataFrame, everything: bool = False) -> pd.DataFrame:
    """A pharmacist's view of the mapping of a canonical dictionary (see `qcindicators.drugs.audit`, which
    also takes raw labels such as 口服 or 静滴)."""
    r = resolve_dictionary(dictionary)
    if not everything:
        r = r[r["is_antibacterial"]]
    cols = ["facility_id", "drug_code", "generic_name", "spec", "atc_code", "atc_source", "adm_r", "ddd", "ddd_unit",
            "ddd_source", "strength_used", "strength_unit_used", "strength_source", "ddd_per_unit", "antibacterial_grade",
            "problem", "problem_zh"]
    return r[[c for c in cols if c in r.columns]].reset_index(drop=True)


class DrugLookup:
    """A resolved dictionary laid out for lines: built once per run, then each batch of lines is integer takes.

    A dense (facility × drug code) table of dictionary rows: a facility's own entry wins over a shared one
    (facility_id empty), the first entry over a duplicate; every per-entry attribute has a last slot for
    lines the dictionary does not know (row −1).
    """

    def __init__(self, resolved: pd.DataFrame, dict_fac: np.ndarray, n_facilities: int):
        self.resolved = resolved
        self.index = pd.Index(pd.unique(resolved["drug_code"].astype("str")))
        n_fac = int(max(n_facilities - 1, dict_fac.max(initial=-1))) + 2     # slot 0: shared entries / unknown facility
        table = np.full((n_fac, len(self.index) + 1), -1, np.int64)        # column 0: code not in the dictionary
        code_of_entry = self.index.get_indexer(resolved["drug_code"].astype("str")) + 1
        rows = np.arange(len(resolved))
        shared = dict_fac < 0
        table[:, code_of_entry[shared][::-1]] = rows[shared][::-1]     # first entry wins on duplicates
        own = ~shared
        table[dict_fac[own][::-1] + 1, code_of_entry[own][::-1]] = rows[own][::-1]
        table[:, 0] = -1
        self.table = table
        self.per_unit = np.append(resolved["ddd_per_unit"].to_numpy(dtype=float), np.nan)
        self.abx = np.append(resolved["is_antibacterial"].to_numpy(dtype=bool), False)
        self.grade = pd.Categorical(resolved["antibacterial_grade"], categories=["unrestricted", "restricted", "special"])
        self.atc = pd.Categorical(resolved["atc_code"])
        self.essential = _essential(resolved)
        problem_codes, self.problems = pd.factorize(resolved["problem"], use_na_sentinel=True)
        self.problem = np.append(problem_codes, -1)      # per entry (+ unmapped): code of its problem, −1 none

    def rows(self, codes: pd.Series, line_fac: np.ndarray) -> np.ndarray:
        """Dictionary row of each line (−1 = not in the dictionary)."""
        at = np.where(line_fac >= 0, line_fac + 1, 0) * self.table.shape[1] + codes_against(codes, self.index) + 1
        return self.table.ravel().take(at)      # one flat take (twice as fast as by two arrays); a facility the
        # lookup was not built for lands past the table's end and raises


def drug_line_attributes(lines: pd.DataFrame, lookup: DrugLookup, line_fac: np.ndarray) -> dict[str, np.ndarray]:
    """Per drug line: dictionary row (−1 = unmapped), ddd_count, is_antibacterial, grade, atc, essential_drug."""
    row = lookup.rows(lines["drug_code"], line_fac)
    qty = lines["quantity"].to_numpy(dtype=float)
    return {
        "row": row,
        "ddd_count": qty * lookup.per_unit[row],
        "is_antibacterial": lookup.abx[row],
        "antibacterial_grade": pd.Categorical.from_codes(np.append(lookup.grade.codes, -1)[row], categories=lookup.grade.categories),
        "atc_code": pd.Categorical.from_codes(np.append(lookup.atc.codes, -1)[row], categories=lookup.atc.categories),
        "essential_drug": pd.arrays.BooleanArray(lookup.essential[0][row], lookup.essential[1][row]),
    }


def _essential(resolved: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """基本药物 per dictionary entry (+ a last slot for unmapped lines) as (values, missing): lines then take
    both and make a nullable boolean column without a per-value conversion."""
    if "essential_drug" not in resolved.columns:
        return np.zeros(len(resolved) + 1, bool), np.ones(len(resolved) + 1, bool)
    flags = resolved["essential_drug"].astype("boolean")
    return (np.append(flags.to_numpy(dtype=bool, na_value=False), False),
            np.append(flags.isna().to_numpy(), True))
