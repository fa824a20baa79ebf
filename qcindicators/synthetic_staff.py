"""Synthetic departments and physicians: who ordered each drug line and who saw each visit.

Stable per facility (the same departments and physician ids every year), drawn on their own random
stream so that adding them changed no other synthetic value.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

# inpatient departments by hospital level (基层 … 三级); the generic draw 内科/外科/… is refined into these
DEPTS = {0: {"内科": ["内科"], "外科": ["外科"]},
         1: {"内科": ["内科"], "外科": ["外科"]},
         2: {"内科": ["呼吸内科", "心血管内科", "消化内科"], "外科": ["普外科", "泌尿外科"]},
         3: {"内科": ["呼吸内科", "心血管内科", "消化内科", "神经内科", "肾内科"],
             "外科": ["普外科", "泌尿外科", "神经外科", "胸外科"]}}
ICU = "重症医学科"

def departments(level: int) -> list[str]:
    """Every department a hospital of this level has: stable per facility, so prescribers are too."""
    split = DEPTS[level]
    rest = ["妇产科", "儿科", "骨科"] + ([ICU] if level >= 2 else [])
    return split["内科"] + split["外科"] + rest


def refine_departments(org, generic: np.ndarray, level: int) -> np.ndarray:
    """The generic draw → a real department of this hospital (内科/外科 split into specialties, internal
    medicine the largest); a few stays end in the ICU."""
    moved = np.isin(generic, ["妇产科", "儿科", "骨科"]) & (org.random(len(generic)) < 0.4)
    generic = np.where(moved, "内科", generic)          # internal medicine: ~45 % of discharges
    out = generic.astype(object).copy()
    for word, subs in DEPTS[level].items():
        hit = generic == word
        out[hit] = np.asarray(subs, dtype=object)[org.integers(0, len(subs), int(hit.sum()))]
    if level >= 2:
        out[org.random(len(out)) < 0.03] = ICU
    return out


def prescribers(level: int) -> dict[str, np.ndarray]:
    """Physician ids (医师工号) per department: Y + department number + serial, unique within the facility."""
    per = [3, 3, 5, 8][level]
    return {d: np.array([f"Y{i + 1:02d}{k + 1:02d}" for k in range(per)], dtype=object)
            for i, d in enumerate(departments(level))}


def pick(staff: dict[str, np.ndarray], dept: np.ndarray, salt: np.ndarray) -> np.ndarray:
    """A physician of each row's department, chosen by an integer salt (same salt → same physician)."""
    out = np.empty(len(dept), dtype=object)
    for d, ids in staff.items():
        hit = dept == d
        out[hit] = ids[salt[hit] % len(ids)]
    return out


def ordering(org, lines: pd.DataFrame, parent_ids: np.ndarray, parent_dept: np.ndarray, parent_start: np.ndarray,
             level: int, transfer_share: float) -> pd.DataFrame:
    """Who ordered each line: its stay's (or visit's) department and a physician of it.

    A transferred stay's lines before the transfer date were ordered by the department it came from;
    a return line (same stay, date and drug) gets the department and physician of what it returns.
    """
    staff = prescribers(level)
    pos = pd.Index(parent_ids).get_indexer(lines["encounter_id"])
    known = pos >= 0
    n = len(parent_ids)
    came_from = np.asarray(departments(level), dtype=object)[org.integers(0, len(staff), n)]
    moved = (org.random(n) < transfer_share) & (came_from != parent_dept)
    moved_on = parent_start + org.integers(1, 4, n).astype("timedelta64[D]")
    p = np.where(known, pos, 0)
    before = known & moved[p] & (lines["order_date"].to_numpy() < moved_on[p])
    dept = np.where(before, came_from[p], parent_dept[p])
    dept = np.where(known, dept, np.asarray(departments(level), dtype=object)[org.integers(0, len(staff), len(lines))])
    salt = np.where(known, p * 7 + before, org.integers(0, 1 << 20, len(lines)))
    return lines.assign(dept_code=dept, prescriber_id=pick(staff, dept, salt))


def local_codes(org, lines: pd.DataFrame) -> pd.DataFrame:
    """A few lines of hospital-local codes the dictionary lacks (院内制剂, new purchases): the codes to fix."""
    extra = lines.iloc[np.flatnonzero(org.random(len(lines)) < 0.004)]
    code = np.array(["L0001", "L0002", "L0003"], dtype=object)[org.integers(0, 3, len(extra))]
    return pd.concat([lines, extra.assign(drug_code=code)], ignore_index=True)


def seen_by(org, vi: pd.DataFrame, level: int) -> pd.DataFrame:
    """A visit's department (急诊科 for emergencies) and doctor."""
    depts = np.asarray(departments(level), dtype=object)
    dept = np.where(vi["setting"].to_numpy() == "急诊", "急诊科", depts[org.integers(0, len(depts), len(vi))])
    staff = prescribers(level) | {"急诊科": np.array(["Y9901", "Y9902"], dtype=object)}
    return vi.assign(dept_code=dept, doctor_id=pick(staff, dept, org.integers(0, 1 << 20, len(vi))))
