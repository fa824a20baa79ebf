"""Rules across columns and across tables: each a small function returning failing row positions."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from ..codes import codes_against
from .contract import TABLES


@dataclass(frozen=True)
class RowRule:
    table: str
    name: str
    columns: tuple[str, ...]   # all must be present for the rule to run
    blame: str                 # the column a failure is reported against
    test: Callable[[pd.DataFrame], np.ndarray]   # True where the row FAILS
    zh: str
    en: str


def _gt(a: str, b: str):
    return lambda f: (f[a] > f[b]).fillna(False).to_numpy(dtype=bool)


ROW_RULES: tuple[RowRule, ...] = (
    RowRule("discharges", "discharge_after_admit", ("admit_date", "discharge_date"), "discharge_date",
            _gt("admit_date", "discharge_date"), "出院日期早于入院日期", "discharge_date is before admit_date"),
    RowRule("discharges", "drug_cost_within_total", ("drug_cost", "total_cost"), "drug_cost",
            _gt("drug_cost", "total_cost"), "药品费大于住院总费用", "drug_cost exceeds total_cost"),
    RowRule("discharges", "completed_only_if_entered", ("pathway_completed", "pathway_entered"), "pathway_completed",
            lambda f: (f["pathway_completed"].fillna(False) & ~f["pathway_entered"].fillna(False)).to_numpy(dtype=bool),
            "未进入临床路径却标记为完成路径", "pathway_completed is true but pathway_entered is not"),
    RowRule("visits", "drug_cost_within_total", ("drug_cost", "total_cost"), "drug_cost",
            _gt("drug_cost", "total_cost"), "药品费大于总费用", "drug_cost exceeds total_cost"),
    RowRule("facility_periods", "quality_wards_within_wards", ("quality_nursing_wards", "wards"), "quality_nursing_wards",
            _gt("quality_nursing_wards", "wards"), "优质护理示范病房数大于病房数", "quality_nursing_wards exceeds wards"),
    RowRule("drug_dictionary", "unique_drug_code", ("drug_code",), "drug_code",
            lambda f: f.duplicated([c for c in ("facility_id", "drug_code") if c in f.columns], keep=False).to_numpy(),
            "药品编码重复（同一机构内应唯一）", "duplicate drug_code (must be unique per facility)"),
)


def facility_codes(facility_ids: pd.Series, facilities: pd.DataFrame) -> np.ndarray:
    """Integer code of each row's facility in `facilities` (−1 where unknown)."""
    ids = facilities["facility_id"].astype("str")
    # a facility listed twice is a key failure of its own; references to it still resolve
    return codes_against(facility_ids, pd.Index(ids.unique() if ids.duplicated().any() else ids))


def encounter_keys(fac_codes: np.ndarray, ids: pd.Series, uniques: pd.Index) -> np.ndarray:
    """int64 key (facility, encounter) through one shared factorisation, no string merge."""
    return fac_codes.astype(np.int64) * (len(uniques) + 1) + uniques.get_indexer(ids)


def missing_parent(child_fac: np.ndarray, child_ids: pd.Series, parent_fac: np.ndarray, parent_ids: pd.Series) -> np.ndarray:
    """True where a child row's (facility, encounter) is not among the parent's."""
    uniques = pd.Index(pd.unique(parent_ids.astype("str")))
    parent = encounter_keys(parent_fac, parent_ids.astype("str"), uniques)
    child_pos = uniques.get_indexer(child_ids.astype("str"))
    child = child_fac.astype(np.int64) * (len(uniques) + 1) + child_pos
    return (child_pos < 0) | ~np.isin(child, parent)


FACILITY_REF_COLUMNS = {t: ([TABLES[t].facility_column] if t != "referrals" else ["from_facility_id", "to_facility_id"])
                        for t in TABLES if t not in ("facilities",) and TABLES[t].facility_column}
