"""Seeded, vectorised synthetic data for every canonical table.

Shapes are meant to look like a Chinese prefecture: a few tertiary and
secondary hospitals, township health centres, two years of stays, drug lines
with returns, visits, operations and referrals. Large sizes are written
facility by facility, so memory stays bounded whatever the size.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .synthetic_staff import local_codes, ordering, refine_departments, seen_by
import pyarrow as pa
import pyarrow.parquet as pq

# (code, generic name, atc, route, strength, unit, spec, class); None atc = not in WHO index
DRUGS = [
    ("D0001", "注射用头孢曲松钠", "J01DD04", "注射", 1.0, "g", "1g/支", "限制使用级"),
    ("D0002", "头孢呋辛酯片", "J01DC02", "口服", 0.25, "g", "0.25g*12片", "非限制使用级"),
    ("D0003", "盐酸左氧氟沙星片", "J01MA12", "口服", 0.5, "g", "0.5g*4片", "限制使用级"),
    ("D0004", "左氧氟沙星氯化钠注射液", "J01MA12", "注射", 0.5, "g", "100ml:0.5g", "限制使用级"),
    ("D0005", "阿莫西林胶囊", "J01CA04", "口服", 0.25, "g", "0.25g*24粒", "非限制使用级"),
    ("D0006", "注射用哌拉西林钠他唑巴坦钠", "J01CR05", "注射", 4.0, "g", "4.5g(4.0g:0.5g)", "限制使用级"),
    ("D0007", "注射用美罗培南", "J01DH02", "注射", 0.5, "g", "0.5g/支", "特殊使用级"),
    ("D0008", "注射用青霉素钠", "J01CE01", "注射", 80.0, "万U", "80万U/支", "非限制使用级"),
    ("D0009", "阿奇霉素片", "J01FA10", "口服", 0.25, "g", "0.25g*6片", "非限制使用级"),
    ("D0010", "注射用盐酸万古霉素", "J01XA01", "注射", 0.5, "g", "0.5g/支", "特殊使用级"),
    ("D0011", "甲硝唑片", "P01AB01", "口服", 0.2, "g", "0.2g*21片", "非限制使用级"),
    ("D0012", "甲硝唑氯化钠注射液", "J01XD01", "注射", 0.5, "g", "100ml:0.5g", "非限制使用级"),
    ("D0013", "氟康唑胶囊", "J02AC01", "口服", 150.0, "mg", "150mg*1粒", "限制使用级"),
    ("D0014", "注射用头孢唑林钠", "J01DB04", "注射", 1.0, "g", "1g/支", "非限制使用级"),
    ("D0015", "硫酸依替米星氯化钠注射液", None, "注射", 0.1, "g", "100ml:0.1g", "限制使用级"),
    ("D0016", "奥司他韦胶囊", "J05AH02", "口服", 75.0, "mg", "75mg*10粒", None),
    ("D0017", "异烟肼片", "J04AC01", "口服", 0.1, "g", "0.1g*100片", None),
    ("D0018", "奥美拉唑肠溶胶囊", "A02BC01", "口服", 20.0, "mg", "20mg*14粒", None),
    ("D0019", "0.9%氯化钠注射液", "B05XA03", "注射", 0.9, "g", "100ml", None),
    ("D0020", "阿托伐他汀钙片", "C10AA05", "口服", 20.0, "mg", "20mg*7片", None),
    ("D0021", "硝苯地平控释片", "C08CA05", "口服", 30.0, "mg", "30mg*7片", None),
    ("D0022", "二甲双胍片", "A10BA02", "口服", 0.5, "g", "0.5g*20片", None),
    ("D0023", "注射用泮托拉唑钠", "A02BC02", "注射", 40.0, "mg", "40mg/支", None),
    ("D0024", "布洛芬缓释胶囊", "M01AE01", "口服", 0.3, "g", "0.3g*20粒", None),
]
ANTIBACTERIAL_IDX = [i for i, d in enumerate(DRUGS) if d[7] is not None]
OTHER_IDX = [i for i, d in enumerate(DRUGS) if d[7] is None]
DX = ["I10", "J18.9", "E11.9", "I63.9", "K80.1", "N18.5", "C34.9", "S72.0", "O80.0", "P07.3", "K35.8", "I21.9"]
PATHWAYS = ["CP-肺炎", "CP-脑梗死", "CP-阑尾炎", "CP-胆囊结石", "CP-股骨骨折", "CP-剖宫产", "CP-慢阻肺", "CP-冠心病"]


@dataclass(frozen=True)
class Size:
    n_facilities: int = 12
    years: tuple[int, ...] = (2023, 2024)
    discharges_per_bed: float = 3.0    # per year
    drug_lines_per_stay: float = 4.0
    visits_per_bed: float = 12.0       # per year; primary facilities get more


SAMPLE = Size(discharges_per_bed=1.5, visits_per_bed=4.0)
# ≈ 1.5 M discharges, 40 M inpatient drug lines, 20 M visits over two years (60 facilities, ~23 000 beds)
BENCHMARK = Size(n_facilities=60, discharges_per_bed=33.0, drug_lines_per_stay=27.0, visits_per_bed=400.0)


def facilities(rng: np.random.Generator, n: int) -> pd.DataFrame:
    counties = ["海州区", "连云区", "赣榆区", "东海县", "灌云县"]
    level = np.array([3, 3, 2, 2, 2, 2, 1, 2, 0, 0, 0, 0])[np.arange(n) % 12]
    ftype = np.where(level == 0, "基层", np.where(np.arange(n) % 7 == 5, "中医", np.where(np.arange(n) % 11 == 7, "妇幼", "综合")))
    return pd.DataFrame({
        "facility_id": [f"32070{i:04d}" for i in range(n)],
        "facility_name": [f"{counties[i % 5][:2]}{'人民医院' if level[i] >= 2 else '卫生院'}{i:02d}" for i in range(n)],
        "level": level,
        "grade": np.where(level >= 2, np.where(np.arange(n) % 3 == 0, "乙", "甲"), None),
        "facility_type": ftype,
        "ownership": np.where(np.arange(n) % 6 == 4, "非公立", "公立"),
        "county": [counties[i % 5] for i in range(n)],
        "city": "连云港市",
        # the county's 县人民医院: its first public general hospital of level 2 or more
        "county_hospital": np.where(_first_in_county(counties, level, ftype, n), "是", "否"),
    })


def _first_in_county(counties: list[str], level: np.ndarray, ftype: np.ndarray, n: int) -> np.ndarray:
    county = np.array([counties[i % 5] for i in range(n)])
    eligible = (level >= 2) & (ftype == "综合") & (np.arange(n) % 6 != 4)
    first = pd.Series(np.arange(n)[eligible]).groupby(county[eligible]).min()
    return np.isin(np.arange(n), first.to_numpy())


def beds_for(level: np.ndarray, rng) -> np.ndarray:
    lo = np.array([20, 60, 200, 800])[level]
    hi = np.array([60, 150, 600, 1500])[level]
    return np.round(rng.uniform(lo, hi)).astype(float)


def facility_periods(rng, fac: pd.DataFrame, years, beds: np.ndarray) -> pd.DataFrame:
    n, rows = len(fac), []
    for k, year in enumerate(years):
        grow = 1.0 + 0.05 * k
        b = np.round(beds * (1 + 0.02 * k))
        rev = b * rng.uniform(0.5e6, 1.2e6, n) * grow
        wards = np.maximum(1, np.round(b / 45))
        rows.append(pd.DataFrame({
            "facility_id": fac["facility_id"], "period": str(year), "open_beds": b,
            "approved_beds": np.round(b * 0.9), "ic_staff": np.maximum(0, np.round(b / 250 + rng.normal(0.3, 0.8, n))),
            "physicians": np.round(b * rng.uniform(0.25, 0.4, n)), "registered_nurses": np.round(b * rng.uniform(0.4, 0.7, n)),
            "medical_revenue": rev, "drug_revenue": rev * rng.uniform(0.25, 0.35, n),
            "service_revenue": rev * rng.uniform(0.25, 0.35, n), "energy_cost": rev * rng.uniform(0.008, 0.015, n),
            "emr_level": np.minimum(8, fac["level"].to_numpy() + rng.integers(0, 3, n) + k),
            "total_revenue": rev * 1.1, "wards": wards, "quality_nursing_wards": np.round(wards * rng.uniform(0.3, 1.0, n)),
            "liability_insured": np.where(rng.random(n) < 0.85, "是", "否"),
            "rational_drug_use_assessed": np.where(rng.random(n) < 0.6, "是", "否"),
            "teleconsultations": np.round(b * rng.uniform(0.5, 2, n) * (1 + 0.3 * k)),
        }))
    reported = np.random.default_rng(len(years) * 7919 + n)   # its own stream: the other tables do not change
    rows = [r.assign(**reported_figures(reported, fac, r["open_beds"].to_numpy())) for r in rows]
    return pd.concat(rows, ignore_index=True)


def reported_figures(rng, fac: pd.DataFrame, b: np.ndarray) -> dict[str, np.ndarray]:
    """The optional reported columns (contract.REPORTED_COLUMNS) a commission collects, plausible by level."""
    n, lv = len(fac), fac["level"].to_numpy()
    hosp, prim = lv >= 2, fac["facility_type"].to_numpy() == "基层"
    yes = lambda p: np.where(rng.random(n) < p, "是", "否")   # noqa: E731
    count = lambda lo, hi: rng.integers(lo, hi, n).astype(float)   # noqa: E731
    items, waste, hygiene = count(2, 20), np.round(b * rng.uniform(0.5, 1.0, n), 1), count(200, 600)
    blood = np.where(lv >= 1, np.round(b * rng.uniform(1, 3, n)), 0.0)
    unified = np.where(lv == 0, count(300, 600), np.nan)
    paths = np.where(fac["facility_type"].to_numpy() == "中医", count(10, 40), np.nan)
    return {
        "rectification_items": items, "rectified_items": np.round(items * rng.uniform(0.85, 1.0, n)),
        "quality_inspected": yes(np.where(hosp, 0.95, 0.8)), "joint_clinic_sessions": np.where(hosp, count(50, 300), 0.0),
        "tertiary_capability": np.where(lv == 2, yes(0.4), "否"), "secondary_capability": np.where(prim, yes(0.5), "否"),
        "tcm_nondrug_therapies": np.where(prim, count(3, 10), count(5, 12)), "teleconsult_connected": yes(np.where(hosp, 0.9, 0.5)),
        "remote_imaging_connected": yes(0.8), "remote_ecg_connected": yes(0.75),
        "mutual_recognition_items": np.where(hosp, count(90, 130), count(20, 60)),
        "mutual_recognition_results": np.round(b * rng.uniform(20, 60, n)), "repeat_test_cost_saved": np.round(b * rng.uniform(0.05, 0.2, n), 1),
        "regional_lab_connected": yes(0.9), "regional_imaging_connected": yes(0.85), "emr_functions_complete": yes(0.85),
        "internet_services": yes(np.where(hosp, 0.9, 0.3)), "bedside_settlements": np.round(b * rng.uniform(0.6, 1.4, n)),
        "self_service_terminals": yes(0.9), "security_protection_level": np.where(hosp, count(2, 4), count(1, 3)),
        "security_incidents": rng.poisson(0.05, n).astype(float), "fever_clinic": yes(0.9),
        "model_fever_clinic": np.where(hosp, yes(0.5), "否"), "infectious_disease_beds": np.where(hosp, np.round(b * rng.uniform(0.05, 0.15, n)), 0.0),
        "convertible_beds": np.where(hosp, np.round(b * rng.uniform(0.05, 0.2, n)), 0.0), "internet_hospital": np.where(lv == 2, yes(0.7), "否"),
        "hai_surveillance_online": yes(0.95), "medical_waste_online": yes(0.9), "medical_waste_system": yes(0.97), "lab_eqa": yes(0.9),
        "outpatient_emr": yes(0.9), "major_disputes": rng.poisson(0.02, n).astype(float),
        "recyclables_total": waste, "recyclables_recovered": np.round(waste * rng.uniform(0.65, 0.85, n), 1),
        "transfusion_units": blood, "donated_blood_units": np.round(blood * rng.choice([1.0, 0.99], n, p=[0.9, 0.1])),
        "autologous_transfusion_units": np.round(blood * rng.uniform(0.02, 0.1, n)), "blood_incidents": rng.poisson(0.01, n).astype(float),
        "clinical_pharmacists": np.where(lv == 3, count(3, 9), np.where(lv == 2, count(1, 5), 0.0)),
        "hand_hygiene_opportunities": hygiene, "hand_hygiene_compliant": np.round(hygiene * rng.uniform(0.6, 0.9, n)),
        "unified_drugs_ordered": unified, "unified_drugs_delivered": np.round(unified * rng.uniform(0.85, 1.0, n)),
        "unified_drug_amount": np.where(lv == 0, np.round(b * rng.uniform(5e3, 9e3, n)), np.nan),
        "drug_purchase_amount": np.where(lv == 0, np.round(b * 9.5e3), np.nan),
        "tcm_pathway_diseases": np.round(paths * rng.uniform(0.4, 0.8, n)), "pathway_diseases": paths,
        "smart_service_level": np.where(hosp, np.clip(lv - 1 + rng.integers(0, 3, n), 0, 5), np.nan),
        "smart_management_level": np.where(hosp, np.clip(lv - 2 + rng.integers(0, 3, n), 0, 5), np.nan),
    }


def _dates(rng, year: int, n: int) -> np.ndarray:
    start = np.datetime64(f"{year}-01-01")
    days = 366 if year % 4 == 0 else 365
    return start + rng.integers(0, days, n).astype("timedelta64[D]")


def stays(rng, fac_row, beds: float, years, size: Size, counties) -> pd.DataFrame:
    level = int(fac_row.level)
    parts = []
    for k, year in enumerate(years):
        n = int(beds * size.discharges_per_bed * rng.uniform(0.9, 1.1))
        # an extract is by discharge date (出院日期), so stays may start in the year before
        discharge = _dates(rng, year, n)
        gap = np.minimum(rng.lognormal(np.log(6 + level), 0.6, n).astype(int), 120)
        admit = discharge - gap.astype("timedelta64[D]")
        cost = rng.lognormal(np.log([2500, 4000, 8000, 14000][level]), 0.7, n) * (1.04 ** k)
        eligible = rng.random(n) < 0.55
        entered = eligible & (rng.random(n) < 0.75)
        own = fac_row.county
        pc = np.where(rng.random(n) < 0.88, own, rng.choice(counties + ["外省"], n))
        age = np.where(rng.random(n) < 0.03, rng.uniform(0, 0.07, n), rng.uniform(1, 95, n)).round(2)
        low = rng.random(n) < 0.08
        parts.append(pd.DataFrame({
            "encounter_id": [f"Z{year}{i:07d}" for i in range(n)],
            "facility_id": fac_row.facility_id, "patient_id": rng.integers(1, 10 ** 8, n).astype(str),
            "admit_date": admit, "discharge_date": discharge,
            "dept_code": rng.choice(["内科", "外科", "妇产科", "儿科", "骨科"], n),
            "discharge_disposition": rng.choice(["1", "2", "3", "4", "5", "9"], n, p=[0.9, 0.03, 0.02, 0.03, 0.01, 0.01]),
            "primary_dx": rng.choice(DX, n), "age": age, "sex": rng.choice(["1", "2"], n),
            "total_cost": cost.round(2), "drug_cost": (cost * rng.uniform(0.15, 0.4, n)).round(2),
            "self_pay": (cost * rng.uniform(0.1, 0.4, n)).round(2),
            "pathway_eligible": eligible, "pathway_entered": entered,
            "pathway_completed": entered & (rng.random(n) < 0.82),
            "pathway_id": np.where(entered, rng.choice(PATHWAYS[: 3 + 2 * level], n), None),
            "record_grade": rng.choice(["甲", "乙", "丙"], n, p=[0.965, 0.03, 0.005]),
            "patient_county": pc, "low_income": low,
            "self_pay_in_policy": np.where(low, cost * rng.uniform(0.03, 0.12, n), np.nan).round(2),
            "self_pay_out_policy": np.where(low, cost * rng.uniform(0.02, 0.1, n), np.nan).round(2),
        }))
    out = pd.concat(parts, ignore_index=True)
    gap = (out["discharge_date"] - out["admit_date"]).dt.days.to_numpy()
    out.insert(5, "los_days", np.maximum(gap, 1).astype(float))
    return out


def procedures(rng, st: pd.DataFrame, level: int) -> pd.DataFrame:
    has = rng.random(len(st)) < [0.1, 0.2, 0.3, 0.4][level]
    idx = np.repeat(np.flatnonzero(has), rng.integers(1, 3, int(has.sum())))
    n = len(idx)
    los = st["los_days"].to_numpy()[idx]
    surg = rng.random(n) < 0.8
    elective = surg & (rng.random(n) < 0.7)
    inc = rng.choice(["0", "I", "II", "III"], n, p=[0.2, 0.35, 0.35, 0.1])
    return pd.DataFrame({
        "encounter_id": st["encounter_id"].to_numpy()[idx], "facility_id": st["facility_id"].to_numpy()[idx],
        "op_code": rng.choice(["47.0901", "51.2301", "81.5101", "36.0601", "74.1x01", "03.3101"], n),
        "op_date": st["admit_date"].to_numpy()[idx] + (rng.random(n) * np.minimum(los, 3)).astype("timedelta64[D]"),
        "is_surgery": surg, "elective": elective, "day_surgery": elective & (los <= 1) & (rng.random(n) < 0.8),
        "op_level": np.minimum(4, rng.integers(1, 3 + level, n)).clip(1, 4), "incision_class": inc,
        "healing": np.where(rng.random(n) < 0.006, "丙", rng.choice(["甲", "乙", "其他"], n, p=[0.9, 0.08, 0.02])),
        "minimally_invasive": surg & (rng.random(n) < 0.3), "prophylactic_antibacterial": (inc == "I") & (rng.random(n) < 0.3),
        "ssi": rng.random(n) < 0.004, "complication": elective & (rng.random(n) < 0.02),
    })


def drug_lines(rng, ids: np.ndarray, fac_id: str, start: np.ndarray, days: np.ndarray, setting,
               mean_lines: float, abx_share: float) -> pd.DataFrame:
    k = rng.poisson(mean_lines, len(ids))
    idx = np.repeat(np.arange(len(ids)), k)
    n = len(idx)
    abx = rng.random(n) < abx_share
    drug = np.where(abx, rng.choice(ANTIBACTERIAL_IDX, n), rng.choice(OTHER_IDX, n))
    qty = rng.integers(1, 6, n).astype(float)
    ret = rng.random(n) < 0.03          # a return line for part of what was dispensed
    ridx = np.flatnonzero(ret)
    order = start[idx] + (rng.random(n) * days[idx]).astype("timedelta64[D]")
    codes = np.array([d[0] for d in DRUGS])
    setting = np.broadcast_to(np.asarray(setting, dtype=object), len(ids))[idx]
    frame = pd.DataFrame({"encounter_id": ids[idx], "facility_id": fac_id, "setting": setting, "order_date": order,
                          "drug_code": codes[drug], "quantity": qty, "amount": (qty * rng.uniform(2, 80, n)).round(2)})
    returns = frame.iloc[ridx].assign(quantity=-np.minimum(qty[ridx], rng.integers(1, 3, len(ridx))))
    returns["amount"] = -returns["amount"].abs() * 0.5
    return pd.concat([frame, returns], ignore_index=True)


def drug_dictionary() -> pd.DataFrame:
    d = pd.DataFrame(DRUGS, columns=["drug_code", "generic_name", "atc_code", "route", "strength", "strength_unit", "spec",
                                     "antibacterial_class"])
    d["essential_drug"] = np.where(np.arange(len(d)) % 3 == 0, "否", "是")
    # 依替米星 has no WHO DDD: the hospital supplies one (the usual 0.3 g parenteral)
    d["ddd"] = np.where(d["generic_name"].str.contains("依替米星"), 0.3, np.nan)
    d["ddd_unit"] = np.where(d["generic_name"].str.contains("依替米星"), "g", None)
    return d


def visits(rng, fac_row, beds: float, years, size: Size, counties) -> pd.DataFrame:
    parts = []
    mult = 3.0 if fac_row.level == 0 else 1.0
    for k, year in enumerate(years):
        n = int(beds * size.visits_per_bed * mult * rng.uniform(0.9, 1.1))
        setting = np.where(rng.random(n) < 0.9, "门诊", "急诊")
        cost = rng.lognormal(np.log([90, 150, 260, 380][int(fac_row.level)]), 0.8, n) * (1.03 ** k)
        parts.append(pd.DataFrame({
            "visit_id": [f"V{year}{i:08d}" for i in range(n)], "facility_id": fac_row.facility_id,
            "patient_id": rng.integers(1, 10 ** 8, n).astype(str), "visit_date": _dates(rng, year, n),
            "setting": setting, "total_cost": cost.round(2), "drug_cost": (cost * rng.uniform(0.2, 0.6, n)).round(2),
            "self_pay": (cost * rng.uniform(0.2, 0.6, n)).round(2),
            "appointment_channel": rng.choice(["线上", "现场", "未预约"], n, p=[0.55, 0.25, 0.2]),
            "patient_county": np.where(rng.random(n) < 0.92, fac_row.county, rng.choice(counties + ["外省"], n)),
        }))
    return pd.concat(parts, ignore_index=True)


def referrals(rng, fac: pd.DataFrame, years) -> pd.DataFrame:
    primary = fac.loc[fac["level"] <= 1, "facility_id"].to_numpy()
    higher = fac.loc[fac["level"] >= 2, "facility_id"].to_numpy()
    if not len(primary) or not len(higher):
        return pd.DataFrame(columns=["referral_id", "from_facility_id", "to_facility_id", "referral_date", "direction"])
    n = 300 * len(fac) * len(years) // 12
    up = rng.random(n) < 0.75
    a, b = rng.choice(primary, n), rng.choice(higher, n)
    date = np.concatenate([_dates(rng, y, n // len(years) + 1) for y in years])[:n]
    return pd.DataFrame({"referral_id": [f"R{i:07d}" for i in range(n)], "from_facility_id": np.where(up, a, b),
                         "to_facility_id": np.where(up, b, a), "referral_date": date,
                         "direction": np.where(rng.random(n) < 0.8, np.where(up, "上转", "下转"), None)})


def surveys(rng, fac: pd.DataFrame, years) -> pd.DataFrame:
    parts = []
    for year in years:
        for who in ("住院患者", "门诊患者", "医务人员"):
            n = 60 * len(fac)
            f = np.repeat(fac["facility_id"].to_numpy(), 60)
            parts.append(pd.DataFrame({"facility_id": f, "survey_date": _dates(rng, year, n), "respondent": who,
                                       "satisfied": rng.random(n) < 0.92, "score": rng.uniform(70, 100, n).round(1)}))
    return pd.concat(parts, ignore_index=True)


def generate(size: Size = SAMPLE, seed: int = 20240101):
    """Yield (table, frame) pairs; per-facility tables come one facility at a time."""
    rng = np.random.default_rng(seed)
    org = np.random.default_rng([seed, 14])     # departments and physicians: their own stream, the rest unchanged
    fac = facilities(rng, size.n_facilities)
    beds = beds_for(fac["level"].to_numpy(), rng)
    counties = sorted(fac["county"].unique())
    yield "facilities", fac.assign(level=fac["level"].map({0: "基层", 1: "一级", 2: "二级", 3: "三级"}))
    yield "facility_periods", facility_periods(rng, fac, size.years, beds)
    yield "drug_dictionary", drug_dictionary()
    yield "referrals", referrals(rng, fac, size.years)
    yield "satisfaction_surveys", surveys(rng, fac, size.years)
    for row, b in zip(fac.itertuples(index=False), beds):  # one facility per chunk: bounded memory
        st = stays(rng, row, b, size.years, size, counties)
        level = int(row.level)
        st["dept_code"] = refine_departments(org, st["dept_code"].to_numpy(), level)
        yield "discharges", st
        yield "procedures", procedures(rng, st, int(row.level))
        days = st["los_days"].to_numpy()
        inpatient = drug_lines(rng, st["encounter_id"].to_numpy(), row.facility_id, st["admit_date"].to_numpy(),
                               days, "住院", size.drug_lines_per_stay, 0.35)
        # patients still in hospital when the extract was taken: lines without a discharge yet
        open_ids = np.array([f"Z{size.years[-1] + 1}{i:07d}" for i in range(max(1, len(st) // 200))])
        still = drug_lines(rng, open_ids, row.facility_id, np.full(len(open_ids), np.datetime64(f"{size.years[-1]}-12-28")),
                           np.full(len(open_ids), 3.0), "住院", 2.0, 0.35)
        vi = visits(rng, row, b, size.years, size, counties)
        rx = vi.sample(frac=0.6, random_state=int(rng.integers(1 << 30)))
        outpatient = drug_lines(rng, rx["visit_id"].to_numpy(), row.facility_id, rx["visit_date"].to_numpy(),
                                np.ones(len(rx)), rx["setting"].to_numpy(), 2.0, 0.12)
        vi = seen_by(org, vi, level)
        inpatient = ordering(org, pd.concat([inpatient, still], ignore_index=True), st["encounter_id"].to_numpy(),
                             st["dept_code"].to_numpy(), st["admit_date"].to_numpy(), level, 0.08)
        at = pd.Index(vi["visit_id"]).get_indexer(outpatient["encounter_id"])
        outpatient = outpatient.assign(dept_code=vi["dept_code"].to_numpy()[at], prescriber_id=vi["doctor_id"].to_numpy()[at])
        yield "drug_orders", local_codes(org, pd.concat([inpatient, outpatient], ignore_index=True))
        yield "visits", vi


def generate_tables(size: Size = SAMPLE, seed: int = 20240101) -> dict[str, pd.DataFrame]:
    """All tables in memory (fine for the sample and tests)."""
    parts: dict[str, list[pd.DataFrame]] = {}
    for name, frame in generate(size, seed):
        parts.setdefault(name, []).append(frame)
    return {n: pd.concat(p, ignore_index=True) for n, p in parts.items()}


def write_tables(directory: str | Path, size: Size = SAMPLE, seed: int = 20240101, fmt: str = "parquet") -> Path:
    """Write every table to `directory` as Parquet (streamed by facility) or CSV."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        for name, frame in generate_tables(size, seed).items():
            frame.to_csv(directory / f"{name}.csv", index=False, encoding="utf-8")
        return directory
    writers: dict[str, pq.ParquetWriter] = {}
    try:
        for name, frame in generate(size, seed):
            table = pa.Table.from_pandas(_for_parquet(frame), preserve_index=False)
            if name not in writers:
                writers[name] = pq.ParquetWriter(directory / f"{name}.parquet", table.schema, compression="zstd")
            writers[name].write_table(table.cast(writers[name].schema))
    finally:
        for w in writers.values():
            w.close()
    return directory


def _for_parquet(frame: pd.DataFrame) -> pd.DataFrame:
    """Stable Arrow types across chunks: text as string, booleans as nullable, dates as date32."""
    out = {}
    for c in frame.columns:
        s = frame[c]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            out[c] = s.dt.date
        elif s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            out[c] = s.astype("string")
        else:
            out[c] = s
    return pd.DataFrame(out)
