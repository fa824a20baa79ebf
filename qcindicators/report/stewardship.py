"""The monthly stewardship pack a hospital pharmacy publishes (抗菌药物临床应用管理月报).

Its 药事管理与药物治疗学委员会 ranks departments by 抗菌药物使用强度, prescribers by their
antibacterial prescribing (the basis of 公示 and 约谈, 卫生部令第84号), lists the top ten
antibacterials by DDDs and by amount, special-grade use by department, and the drug codes the
dictionary cannot convert. Every figure is an ordinary `compute` result for units below the
facility, so it carries the same targets, flags and conventions as `qci report`.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..api import compute
from ..compile.feasibility import missing_by_indicator
from ..drugs import unmapped_drugs
from ..errors import QCIError, did_you_mean
from ..io.tables import read_tables
from ..spec.load import Catalog, builtin_catalog, load_definitions

AUD = "antibacterial_use_density_discharge_cohort"     # discharged patients' DDDs ÷ their patient-days: rolls up exactly
USE_RATE = "inpatient_antibacterial_use_rate"
SPECIAL_SHARE = "special_grade_antibacterial_ddd_share"
RX_RATE = "prescriber_antibacterial_prescription_rate"
DDDS = "inpatient_antibacterial_ddds"
AMOUNT = "antibacterial_amount"
OVERVIEW_IDS = [AUD, USE_RATE, SPECIAL_SHARE, "outpatient_antibacterial_prescription_rate", RX_RATE, DDDS, AMOUNT]
HOSPITAL = "全院 / hospital"
BLANK_UNIT = "（未填）/ (blank)"
PERIOD_RE = {"month": r"^\d{4}-\d{2}$", "quarter": r"^\d{4}Q[1-4]$", "year": r"^\d{4}$"}
TOP = 10
UNMAPPED_COLUMNS = ["drug_code", "generic_name", "spec", "atc_code", "reason", "lines", "quantity", "amount", "reason_zh",
                    "reason_en"]

SHEETS = {"overview": "概览 Overview", "departments": "科室排名 Departments", "prescribers": "医师排名 Prescribers",
          "top_ddds": "DDDs前十 Top 10 DDDs", "top_amount": "金额前十 Top 10 spending",
          "special": "特殊使用级 Special grade", "unmapped": "待修正编码 Codes to fix"}
HEADERS = {
    "name_zh": "指标 Indicator", "indicator": "指标代码 Id", "rank": "名次 Rank", "dept_code": "科室 Department",
    "prescriber_id": "医师 Prescriber", "drug_code": "药品编码 Drug code", "generic_name": "通用名 Generic name",
    "numerator": "分子 Numerator", "denominator": "分母 Denominator", "value": "值 Value", "unit": "单位 Unit",
    "target_text": "目标值 Target", "met": "达标 Met", "flags": "标记 Flags",
    "ddds": "DDD数 DDDs", "patient_days": "住院床日 Patient-days", "aud": "使用强度 AUD (DDDs/100 patient-days)",
    "use_rate": "住院使用率 Inpatient use rate %", "special_share": "特殊使用级 DDD 占比 Special-grade share %",
    "prescriptions": "门诊处方数 Outpatient prescriptions", "with_antibacterial": "含抗菌药物处方数 With an antibacterial",
    "rate": "抗菌药物处方比例 Rate %", "inpatient_ddds": "住院 DDD 数（开单） Inpatient DDDs ordered",
    "amount": "金额（元） Amount (yuan)", "share": "占全院 % Share of hospital", "special_ddds": "特殊使用级 DDD 数 Special-grade DDDs",
    "all_ddds": "抗菌药物 DDD 数 All antibacterial DDDs", "reason": "原因 Reason", "reason_zh": "说明", "reason_en": "Explanation",
    "lines": "行数 Lines", "quantity": "数量 Quantity", "spec": "规格 Spec", "atc_code": "ATC",
}


@dataclass
class Stewardship:
    """The pack's tables (canonical English columns; HEADERS gives the bilingual ones) and where they came from."""

    facility_id: str
    facility_name: str
    period: str
    tables: dict[str, pd.DataFrame]
    provenance: dict
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"抗菌药物临床应用管理月报 · Antibacterial stewardship · {self.facility_name} · {self.period}"


def build_stewardship(tables, facility: str, period: str, targets=None, definitions=None, pseudonymise: bool = False,
                      salt: str | None = None, on_invalid: str = "raise") -> Stewardship:
    """Compute the pack for one facility and one period (`2024-06`; `2024Q2` and `2024` work too)."""
    tables = read_tables(tables)
    grain = next((g for g, rx in PERIOD_RE.items() if re.match(rx, str(period))), None)
    if grain is None:
        raise QCIError(f"统计期应写成 2024-06、2024Q2 或 2024 / period must look like 2024-06, 2024Q2 or 2024; got {period!r}")
    if pseudonymise and not salt:
        raise QCIError("化名需要一个保密的盐值（--salt 或环境变量 QCI_SALT）/ pseudonymising needs a secret salt "
                       "(--salt or QCI_SALT): without it anyone could hash every physician id and reverse the names")
    fac = tables.load("facilities")
    ids = fac["facility_id"].astype(str)
    if str(facility) not in set(ids):
        raise QCIError(f"机构不存在 / no facility {facility!r} in the facilities table." + did_you_mean(facility, ids))
    name = fac.loc[ids == str(facility), "facility_name"].astype(str).iloc[0] if "facility_name" in fac else str(facility)
    kw = dict(period=grain, targets=targets, definitions=definitions, on_invalid=on_invalid)
    pick, notes = _Picker(str(facility), str(period), tables, definitions), []
    hospital = pick(compute(tables, pick.feedable(OVERVIEW_IDS, notes), by=["facility_id"], **kw))
    out = {"overview": _overview(hospital, pick.specs)}
    depts = pick(compute(tables, pick.feedable([AUD, USE_RATE, SPECIAL_SHARE]), by=["facility_id", "dept_code"], **kw))
    out["departments"] = _departments(depts, hospital)
    out["special"] = _special(depts, hospital)
    if "prescriber_id" in tables.columns("drug_orders"):
        people = pick(compute(tables, pick.feedable([RX_RATE, DDDS]), by=["facility_id", "prescriber_id"], **kw))
        out["prescribers"] = _prescribers(people, str(facility), salt if pseudonymise else None)
    else:
        out["prescribers"] = pd.DataFrame(columns=["rank", "prescriber_id"])
        notes.append("用药明细没有开单医师列 prescriber_id，无医师排名 / drug_orders has no prescriber_id: no prescriber ranking")
    drugs = pick(compute(tables, pick.feedable([DDDS, AMOUNT]), by=["facility_id", "drug_code"], **kw))
    names = _drug_names(tables, str(facility))
    out["top_ddds"] = _top(drugs, DDDS, "ddds", names)
    out["top_amount"] = _top(drugs, AMOUNT, "amount", names)
    codes = unmapped_drugs(tables, period=grain, on_invalid=on_invalid, facility=str(facility), within=str(period))
    out["unmapped"] = codes[UNMAPPED_COLUMNS]
    return Stewardship(str(facility), name, str(period), {k: out[k] for k in SHEETS}, pick.provenance, notes)


class _Picker:
    """One facility's rows of one period from each result; keeps the definitions and the first provenance."""

    def __init__(self, facility: str, period: str, tables, definitions):
        self.facility, self.period, self.specs, self.provenance = facility, period, {}, {}
        self.tables, self.catalog = tables, builtin_catalog()
        if definitions is not None:
            user = definitions if isinstance(definitions, Catalog) else load_definitions(
                *([definitions] if isinstance(definitions, (str, Path)) else definitions))
            self.catalog = self.catalog.merged(user)

    def feedable(self, ids: list[str], notes: list[str] | None = None) -> list[str]:
        """The indicators the tables can feed; the others are named in `notes` (a missing amount column …)."""
        reasons = missing_by_indicator(self.catalog, ids, self.tables)
        for i, why in reasons.items():
            if why and notes is not None:
                notes.append(f"无法计算 / not computable: {i} — {';'.join(why)}")
        return [i for i in ids if not reasons[i]]

    def __call__(self, result) -> pd.DataFrame:
        self.specs.update(result.specs)
        self.provenance = self.provenance or result.provenance
        f = result.frame
        f = f[(f["facility_id"].astype(str) == self.facility) & (f["period"].astype(str) == self.period)]
        f = f.assign(target_text=target_text(f))
        return f.reset_index(drop=True)


def target_text(f: pd.DataFrame) -> pd.Series:
    """`<= 40` from target_op and target; empty where there is none."""
    number = f["target"].round(6).astype(str).str.replace(r"\.0$", "", regex=True)
    op = f["target_op"].astype(str)
    return pd.Series(np.where((op != "") & f["target"].notna(), op + " " + number, ""), index=f.index, dtype=object)


def _of(frame: pd.DataFrame, indicator: str) -> pd.DataFrame:
    return frame[frame["indicator"] == indicator]


def _overview(hospital: pd.DataFrame, specs: dict) -> pd.DataFrame:
    f = hospital.assign(name_zh=hospital["indicator"].map({i: s.name.zh for i, s in specs.items()}))
    order = {i: k for k, i in enumerate(OVERVIEW_IDS)}
    f = f.assign(_o=f["indicator"].map(order)).sort_values("_o")
    return f[["name_zh", "indicator", "numerator", "denominator", "value", "unit", "target_text", "met", "flags"]]


def _unit_label(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), BLANK_UNIT)


def _ranked(f: pd.DataFrame, by: str) -> pd.DataFrame:
    """Highest first. A unit below the indicator's minimum denominator is listed after the ranked ones,
    unranked: a prescriber with one prescription at 100 % is noise, not the worst prescriber."""
    small = f["flags"].astype(str).str.contains("small_denominator") if "flags" in f else pd.Series(False, index=f.index)
    group = np.where(f[by].isna(), 2, small.to_numpy().astype(int))      # ranked, then too small, then no value
    f = f.assign(_small=group).sort_values(["_small", by], ascending=[True, False], kind="stable")
    rank = f[by].where(f["_small"] == 0).rank(method="min", ascending=False)
    return f.assign(rank=rank.astype("Int64")).drop(columns="_small").reset_index(drop=True)


def _departments(depts: pd.DataFrame, hospital: pd.DataFrame) -> pd.DataFrame:
    """AUD per discharge department, the hospital's value first, with targets and the inpatient use rate."""
    cols = ["rank", "dept_code", "ddds", "patient_days", "aud", "target_text", "met", "use_rate", "special_share", "flags"]
    rows = []
    for unit, frame in (("dept", depts), ("hospital", hospital)):
        aud = _of(frame, AUD).set_index("dept_code" if unit == "dept" else "facility_id")
        part = pd.DataFrame({"ddds": aud["numerator"], "patient_days": aud["denominator"], "aud": aud["value"],
                             "target_text": aud["target_text"], "met": aud["met"], "flags": aud["flags"]})
        for ident, col in ((USE_RATE, "use_rate"), (SPECIAL_SHARE, "special_share")):
            part[col] = _of(frame, ident).set_index(aud.index.name)["value"].reindex(part.index)
        rows.append(part.rename_axis("dept_code").reset_index())
    units = _ranked(rows[0].assign(dept_code=_unit_label(rows[0]["dept_code"])), "aud")
    top = rows[1].assign(dept_code=HOSPITAL, rank=pd.array([pd.NA] * len(rows[1]), dtype="Int64"))
    return pd.concat([top, units], ignore_index=True)[cols]


def _special(depts: pd.DataFrame, hospital: pd.DataFrame) -> pd.DataFrame:
    """Special-grade DDDs and their share of all antibacterial DDDs, per discharge department."""
    cols = ["rank", "dept_code", "special_ddds", "all_ddds", "special_share", "flags"]
    d = _of(depts, SPECIAL_SHARE)
    h = _of(hospital, SPECIAL_SHARE)
    units = pd.DataFrame({"dept_code": _unit_label(d["dept_code"]), "special_ddds": d["numerator"],
                          "all_ddds": d["denominator"], "special_share": d["value"], "flags": d["flags"]})
    units = _ranked(units[units["special_ddds"].fillna(0) != 0], "special_ddds")
    top = pd.DataFrame({"dept_code": HOSPITAL, "special_ddds": h["numerator"], "all_ddds": h["denominator"],
                        "special_share": h["value"], "flags": h["flags"], "rank": pd.array([pd.NA] * len(h), dtype="Int64")})
    return pd.concat([top, units], ignore_index=True)[cols]


def _prescribers(people: pd.DataFrame, facility: str, salt: str | None) -> pd.DataFrame:
    """Prescribers by antibacterial prescription rate, with the inpatient DDDs they ordered."""
    rx = _of(people, RX_RATE).set_index("prescriber_id")
    ddd = _of(people, DDDS).set_index("prescriber_id")["value"]
    f = pd.DataFrame({"prescriptions": rx["denominator"], "with_antibacterial": rx["numerator"], "rate": rx["value"],
                      "target_text": rx["target_text"], "met": rx["met"], "flags": rx["flags"]})
    f = f.reindex(f.index.union(ddd.index))
    f["inpatient_ddds"] = ddd.reindex(f.index)
    f = f.rename_axis("prescriber_id").reset_index()
    f["prescriber_id"] = _unit_label(f["prescriber_id"])
    if salt:
        f["prescriber_id"] = pseudonyms(f["prescriber_id"], facility, salt)
    f = _ranked(f, "rate")
    return f[["rank", "prescriber_id", "prescriptions", "with_antibacterial", "rate", "target_text", "met",
              "inpatient_ddds", "flags"]]


def pseudonyms(ids: pd.Series, facility: str, salt: str) -> pd.Series:
    """A stable salted hash per physician: the same id, facility and salt give the same name every month."""
    uniques = pd.unique(ids.astype(str))
    names = {u: "医师-" + hashlib.sha256(f"{salt}\x1f{facility}\x1f{u}".encode()).hexdigest()[:10] for u in uniques}
    return ids.astype(str).map(names)


def _drug_names(tables, facility: str) -> pd.DataFrame:
    """Generic name and spec per drug code: the facility's own dictionary entry, else the shared one."""
    d = tables.load("drug_dictionary")
    cols = [c for c in ("drug_code", "generic_name", "spec") if c in d]
    own = d["facility_id"].astype(str) == facility if "facility_id" in d else pd.Series(False, index=d.index)
    shared = d["facility_id"].isna() if "facility_id" in d else pd.Series(True, index=d.index)
    d = pd.concat([d[own], d[shared]])[cols].astype(object)
    d["drug_code"] = d["drug_code"].astype(str)
    return d.drop_duplicates("drug_code").set_index("drug_code")


def _top(drugs: pd.DataFrame, indicator: str, col: str, names: pd.DataFrame) -> pd.DataFrame:
    """The ten drugs with the most `col`, with names and their share of the facility's total."""
    f = _of(drugs, indicator)
    f = pd.DataFrame({"drug_code": f["drug_code"].astype(str), col: f["value"]})
    total = f[col].sum()
    # drugs with lines but none of the measure (a count is 0 where a drug has rows): not among the top ten
    f = _ranked(f[f[col].notna() & (f[col] != 0)], col).head(TOP)
    f["share"] = f[col] / total * 100 if total else np.nan
    f = f.join(names, on="drug_code")
    return f.reindex(columns=["rank", "drug_code", "generic_name", "spec", col, "share"])
