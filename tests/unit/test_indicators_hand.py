"""Hand-computed cases for the headline indicators. Every expected number is worked out in the comments."""
import math

import numpy as np
import pandas as pd
import pytest

import qcindicators as qci
from tests.conftest import facilities


def dictionary():
    return pd.DataFrame([
        # ceftriaxone 1 g, DDD 2 g P -> 0.5 DDD per vial
        {"drug_code": "D1", "generic_name": "注射用头孢曲松钠", "atc_code": "J01DD04", "route": "注射", "strength": 1, "strength_unit": "g"},
        # levofloxacin 0.5 g tablet, DDD 0.5 g O -> 1 DDD per tablet
        {"drug_code": "D2", "generic_name": "盐酸左氧氟沙星片", "atc_code": "J01MA12", "route": "口服", "strength": 0.5, "strength_unit": "g"},
        # benzylpenicillin 80万U = 0.8 MU = 0.48 g; DDD 3.6 g P -> 0.1333 DDD per vial
        {"drug_code": "D3", "generic_name": "注射用青霉素钠", "atc_code": "J01CE01", "route": "注射", "strength": 80, "strength_unit": "万U"},
        # oseltamivir: antiviral (J05), outside the 抗菌药物 scope
        {"drug_code": "D4", "generic_name": "奥司他韦胶囊", "atc_code": "J05AH02", "route": "口服", "strength": 75, "strength_unit": "mg"},
        # etimicin: no WHO DDD; the hospital's own 0.3 g; 0.1 g per bag -> 1/3 DDD
        {"drug_code": "D6", "generic_name": "硫酸依替米星氯化钠注射液", "route": "注射", "strength": 0.1, "strength_unit": "g",
         "antibacterial_class": "限制使用级", "ddd": 0.3, "ddd_unit": "g"},
    ])


def aud_tables():
    discharges = pd.DataFrame([
        {"encounter_id": "E1", "facility_id": "F1", "admit_date": "2024-01-01", "discharge_date": "2024-01-05", "total_cost": 1},  # 4 days
        {"encounter_id": "E2", "facility_id": "F1", "admit_date": "2024-01-10", "discharge_date": "2024-01-10", "total_cost": 1},  # same day: 1
        {"encounter_id": "E3", "facility_id": "F1", "admit_date": "2024-01-20", "discharge_date": "2024-02-03", "total_cost": 1},  # 14 days
        {"encounter_id": "E4", "facility_id": "F2", "admit_date": "2024-02-25", "discharge_date": "2024-03-10", "total_cost": 1},  # 14 days
    ])
    lines = pd.DataFrame([
        ("E1", "F1", "inpatient", "2024-01-02", "D1", 4),     # 2 DDD
        ("E1", "F1", "inpatient", "2024-01-03", "D1", -1),    # return: -0.5
        ("E1", "F1", "inpatient", "2024-01-03", "D2", 3),     # 3
        ("E1", "F1", "inpatient", "2024-01-03", "D4", 10),    # antiviral: not counted
        ("V9", "F1", "outpatient", "2024-01-03", "D2", 5),    # outpatient: not counted
        ("E2", "F1", "inpatient", "2024-01-10", "D3", 6),     # 0.8
        ("E3", "F1", "inpatient", "2024-01-25", "D6", 3),     # 1 (January)
        ("E3", "F1", "inpatient", "2024-02-01", "D1", 2),     # 1 (February)
        ("E4", "F2", "inpatient", "2024-02-26", "D2", 2),     # 2 in February, a month F2 discharged nobody
    ], columns=["encounter_id", "facility_id", "setting", "order_date", "drug_code", "quantity"])
    return {"facilities": facilities(), "discharges": discharges, "drug_orders": lines, "drug_dictionary": dictionary()}


def rows(result, **keys):
    f = result.to_frame()
    for k, v in keys.items():
        f = f[f[k] == v]
    return f.set_index("period")


def test_antibacterial_use_density_by_facility_month():
    r = qci.compute(aud_tables(), ["antibacterial_use_density"], period="month")
    f1 = rows(r, facility_id="F1")
    # January: 2 - 0.5 + 3 + 0.8 + 1 = 6.3 DDD over 4 + 1 = 5 patient-days
    assert f1.loc["2024-01", "numerator"] == pytest.approx(6.3)
    assert f1.loc["2024-01", "denominator"] == 5
    assert f1.loc["2024-01", "value"] == pytest.approx(126.0)
    # February: 1 DDD over 14 patient-days
    assert f1.loc["2024-02", "value"] == pytest.approx(100 / 14)
    # fewer than 100 patient-days: flagged, and still judged (withhold_small=True leaves it blank)
    assert "small_denominator" in f1.loc["2024-01", "flags"] and f1.loc["2024-01", "met"] == (f1.loc["2024-01", "value"] <= 40)
    assert f1.loc["2024-01", "target"] == 40 and f1.loc["2024-01", "target_op"] == "<="
    f2 = rows(r, facility_id="F2")
    # F2 dispensed in February but discharged nobody: zero denominator, NaN, flagged
    assert f2.loc["2024-02", "numerator"] == pytest.approx(2)
    assert math.isnan(f2.loc["2024-02", "value"]) and "zero_denominator" in f2.loc["2024-02", "flags"]
    assert f2.loc["2024-03", "value"] == 0 and f2.loc["2024-03", "denominator"] == 14


def test_antibacterial_use_density_discharge_cohort_and_region():
    r = qci.compute(aud_tables(), ["antibacterial_use_density_discharge_cohort"], by=[], period="month")
    region = r.to_frame().set_index("period")
    # lines follow their stay's discharge month: Jan = E1 4.5 + E2 0.8; Feb = E3 2; Mar = E4 2
    assert region.loc["2024-01", "numerator"] == pytest.approx(5.3)
    assert region.loc["2024-02", "value"] == pytest.approx(200 / 14)
    assert region.loc["2024-03", "value"] == pytest.approx(200 / 14)


def test_region_rollup_sums_numerators_and_denominators():
    r = qci.compute(aud_tables(), ["antibacterial_use_density"], by=[], period="quarter")
    q1 = r.to_frame().set_index("period").loc["2024Q1"]
    # all of Q1: 6.3 + 1 + 2 = 9.3 DDD over 5 + 14 + 14 = 33 days; never the mean of ratios
    assert q1["numerator"] == pytest.approx(9.3) and q1["denominator"] == 33
    assert q1["value"] == pytest.approx(930 / 33)


def test_unmapped_drug_code_is_reported_not_dropped():
    t = aud_tables()
    t["drug_orders"] = pd.concat([t["drug_orders"], pd.DataFrame([("E1", "F1", "inpatient", "2024-01-02", "NOPE", 7)],
                                 columns=t["drug_orders"].columns)], ignore_index=True)
    r = qci.compute(t, ["antibacterial_use_density"], period="month")
    d = r.diagnostics
    hit = d[d["check"] == "unmapped_drug_code"]
    assert hit["rows"].sum() == 1 and hit["quantity"].sum() == 7 and hit["facility_id"].tolist() == ["F1"]


def cost_tables():
    d = pd.DataFrame([
        ("A1", "F1", "2023-03-01", "2023-03-05", 1000.0, 300.0),
        ("A2", "F1", "2023-06-01", "2023-06-02", 3000.0, 500.0),
        ("B1", "F1", "2024-03-01", "2024-03-05", 1500.0, 400.0),
        ("B2", "F1", "2024-06-01", "2024-06-03", 2500.0, np.nan),   # drug cost missing: out of that mean, reported
        ("B3", "F1", "2024-09-01", "2024-09-09", 2300.0, 500.0),
        ("C1", "F2", "2024-05-01", "2024-05-04", 800.0, 100.0),     # F2 has no prior year
    ], columns=["encounter_id", "facility_id", "admit_date", "discharge_date", "total_cost", "drug_cost"])
    v = pd.DataFrame([
        ("V1", "F1", "2023-02-01", "outpatient", 100.0, 40.0), ("V2", "F1", "2023-02-02", "emergency", 300.0, 60.0),
        ("V3", "F1", "2024-02-01", "outpatient", 250.0, 100.0), ("V4", "F1", "2024-02-01", "outpatient", 150.0, 20.0),
    ], columns=["visit_id", "facility_id", "visit_date", "setting", "total_cost", "drug_cost"])
    return {"facilities": facilities(), "discharges": d, "visits": v}


def test_cost_growth_year_over_year():
    ids = ["inpatient_cost_per_discharge_growth", "inpatient_drug_cost_per_discharge_growth",
           "outpatient_cost_per_visit_growth", "outpatient_drug_cost_per_visit_growth"]
    r = qci.compute(cost_tables(), ids, period="year")
    f = r.to_frame().set_index(["indicator", "facility_id", "period"])
    # inpatient: 2023 mean (1000+3000)/2 = 2000; 2024 (1500+2500+2300)/3 = 2100 -> +5 %
    g = f.loc[("inpatient_cost_per_discharge_growth", "F1", "2024")]
    assert (g["numerator"], g["denominator"], g["value"]) == (pytest.approx(2100), pytest.approx(2000), pytest.approx(5.0))
    # drug cost: 2023 (300+500)/2 = 400; 2024 (400+500)/2 = 450 (B2 has none) -> +12.5 %
    assert f.loc[("inpatient_drug_cost_per_discharge_growth", "F1", "2024"), "value"] == pytest.approx(12.5)
    # outpatient (门急诊 visits): 2023 (100+300)/2 = 200; 2024 (250+150)/2 = 200 -> 0 %; drug 50 -> 60 = +20 %
    assert f.loc[("outpatient_cost_per_visit_growth", "F1", "2024"), "value"] == pytest.approx(0.0)
    assert f.loc[("outpatient_drug_cost_per_visit_growth", "F1", "2024"), "value"] == pytest.approx(20.0)
    # the first year and a facility without a prior year: NaN with no_prior_period
    first = f.loc[("inpatient_cost_per_discharge_growth", "F1", "2023")]
    assert math.isnan(first["value"]) and first["flags"] == "no_prior_period;partial_period"
    f2 = f.loc[("inpatient_cost_per_discharge_growth", "F2", "2024")]
    assert math.isnan(f2["value"]) and "no_prior_period" in f2["flags"]
    null = r.diagnostics[r.diagnostics["check"] == "null_value"]
    assert null["rows"].sum() == 1 and null["period"].tolist() == ["2024"]


def test_cost_growth_quarter_on_quarter_definition(tmp_path):
    (tmp_path / "inpatient_cost_qoq.yaml").write_text("""
id: inpatient_cost_qoq
name: {zh: 住院次均费用环比增幅, en: "Inpatient cost per discharge, quarter on quarter"}
unit: "%"
direction: lower_is_better
kind: growth
of: inpatient_cost_per_discharge
compare: pop
source: {document: test}
""", encoding="utf-8")
    r = qci.compute(cost_tables(), ["inpatient_cost_qoq"], period="quarter", definitions=tmp_path)
    f = r.to_frame()
    f = f[f["facility_id"] == "F1"].set_index("period")
    # 2023Q2 (3000) vs 2023Q1 (1000): +200 %; 2024Q1 vs 2023Q4 (no discharges): no prior
    assert f.loc["2023Q2", "value"] == pytest.approx(200.0)
    assert f.loc["2024Q1", "flags"] == "no_prior_period"


def staffing_tables():
    fp = pd.DataFrame([
        {"facility_id": "F1", "period": "2024", "ic_staff": 3, "open_beds": 600, "approved_beds": 1000},  # 3*250/600 = 1.25
        {"facility_id": "F2", "period": "2024", "ic_staff": 0, "open_beds": 0},                           # zero beds
        {"facility_id": "F3", "period": "2024", "ic_staff": 1, "open_beds": 50},                          # level 0: no target
    ])
    return {"facilities": facilities(), "facility_periods": fp}


def test_ic_staff_per_250_beds():
    r = qci.compute(staffing_tables(), ["ic_staff_per_250_beds"], period="year")
    f = r.to_frame().set_index("facility_id")
    assert f.loc["F1", "value"] == pytest.approx(1.25) and bool(f.loc["F1", "met"]) is True
    assert f.loc["F1", "denominator"] == 600   # open beds, not approved beds
    assert math.isnan(f.loc["F2", "value"]) and f.loc["F2", "flags"] == "zero_denominator" and pd.isna(f.loc["F2", "met"])
    assert math.isnan(f.loc["F3", "target"]) and pd.isna(f.loc["F3", "met"])
    county = qci.compute(staffing_tables(), ["ic_staff_per_250_beds"], by=["county"], period="year").to_frame().set_index("county")
    # county A: (3 + 0) * 250 / (600 + 0) = 1.25; both level >= 2 -> target 1 applies
    assert county.loc["A", "value"] == pytest.approx(1.25) and county.loc["A", "target"] == 1


def test_annual_report_asked_by_month_is_reported():
    r = qci.compute(staffing_tables(), ["ic_staff_per_250_beds"], period="month")
    assert len(r.to_frame()) == 0
    d = r.diagnostics
    assert d[d["check"] == "period_too_coarse"]["rows"].sum() == 3 * 2   # 3 rows, seen by both measures


def test_a_year_reported_whole_and_by_month_is_counted_once_from_its_annual_row():
    """F1 reports 2024 as a whole (1e8) and January, February besides (1e7 each): the year is 1e8, not 1.2e8."""
    fp = pd.DataFrame({"facility_id": "F1", "period": ["2023", "2024", "2024-01", "2024-02"],
                       "medical_revenue": [1e8, 1e8, 1e7, 1e7]})
    r = qci.compute({"facilities": facilities(), "facility_periods": fp}, ["medical_revenue_growth"], period="year")
    row = r.to_frame().set_index("period").loc["2024"]
    assert (row["numerator"], row["denominator"], row["value"]) == (1e8, 1e8, 0.0)
    d = r.diagnostics
    assert d.loc[d["check"] == "superseded_by_annual", "rows"].sum() == 2
    # by month, the annual rows are the ones set aside, the monthly ones count
    m = qci.compute({"facilities": facilities(), "facility_periods": fp}, ["medical_revenue_growth"], period="month")
    assert m.diagnostics.loc[m.diagnostics["check"] == "period_too_coarse", "rows"].sum() == 2


def test_unit_share_of_facilities_meeting_target():
    t = staffing_tables()
    t["facility_periods"].loc[1, "open_beds"] = 500   # F2: 0 staff for 500 beds -> 0 < 1, not met
    r = qci.compute(t, ["ic_staff_compliance_share"], by=[], period="year")
    row = r.to_frame().iloc[0]
    # level >= 2 hospitals: F1 met, F2 not met; F3 (level 0) not counted -> 1 / 2 = 50 %
    assert (row["numerator"], row["denominator"], row["value"]) == (1, 2, 50.0)


def test_float_noise_never_decides_met():
    from qcindicators.result.targets import UnitTargets, judge
    t = UnitTargets(np.array([40.0, 40.0]), np.array([0, 1]), np.zeros(2, bool))     # <= 40, >= 40
    v = np.array([[40.000000000001, 40.1], [39.999999999999, 39.9]])
    assert judge(v, t).tolist() == [[1.0, 0.0], [1.0, 0.0]]


def test_a_groups_growth_over_members_not_in_both_years_is_flagged():
    """County C1: F1 in 2023 and 2024 (1000 each), F2 only in 2024 (5000). The county's cost per discharge goes
    1000 → 3000 (+200 %) only because F2 joined: flagged members_changed. County C2 (F3, both years) is not."""
    fac = facilities()[["facility_id", "level", "facility_type", "ownership"]].assign(county=["C1", "C1", "C2"])
    dis = pd.DataFrame({"encounter_id": ["A1", "A2", "B1", "C1", "C2"], "facility_id": ["F1", "F1", "F2", "F3", "F3"],
                        "admit_date": ["2023-03-01", "2024-03-01", "2024-03-01", "2023-03-01", "2024-03-01"],
                        "discharge_date": ["2023-03-05", "2024-03-05", "2024-03-05", "2023-03-05", "2024-03-05"],
                        "total_cost": [1000.0, 1000.0, 5000.0, 800.0, 1000.0]})
    r = qci.compute({"facilities": fac, "discharges": dis}, ["inpatient_cost_per_discharge_growth"], period="year",
                    by=[["county"]]).to_frame().set_index(["county", "period"])
    assert r.loc[("C1", "2024"), "value"] == pytest.approx(200.0) and r.loc[("C1", "2024"), "flags"] == "members_changed;partial_period"
    assert r.loc[("C2", "2024"), "value"] == pytest.approx(25.0) and r.loc[("C2", "2024"), "flags"] == "partial_period"


def test_a_period_the_data_covers_in_part_is_flagged_partial_period():
    """Referrals from 2023-01 to 2024-02: 2023 is whole, 2024 holds two months — its 2 referrals are not a year's,
    nor is its −50 % a year's growth. By month, every month is whole."""
    fac = facilities()[["facility_id", "level", "facility_type", "ownership"]]
    ref = pd.DataFrame({"referral_id": [f"R{i}" for i in range(7)], "from_facility_id": "F1", "to_facility_id": "F2",
                        "direction": "down",
                        "referral_date": ["2023-01-10", "2023-05-01", "2023-08-01", "2023-11-01", "2023-12-20",
                                          "2024-01-15", "2024-02-15"]})
    r = qci.compute({"facilities": fac, "referrals": ref}, ["downward_referrals", "downward_referrals_growth"],
                    period="year").to_frame().set_index(["indicator", "period"])
    assert r.loc[("downward_referrals", "2023"), "flags"] == ""
    assert r.loc[("downward_referrals", "2024"), ["value", "flags"]].tolist() == [2.0, "partial_period"]
    assert r.loc[("downward_referrals_growth", "2024"), ["value", "flags"]].tolist() == [-60.0, "partial_period"]
    monthly = qci.compute({"facilities": fac, "referrals": ref}, ["downward_referrals"], period="month").to_frame()
    assert (monthly["flags"] == "").all()


def test_a_ratio_whose_numerator_table_ends_early_is_partial_in_the_months_after():
    """Stays in June and July, drug lines exported up to June only: July's AUD of 0 is not a number to believe."""
    dd = pd.DataFrame([{"drug_code": "D1", "generic_name": "注射用头孢曲松钠", "route": "注射", "spec": "1g/支"}])
    dis = pd.DataFrame({"encounter_id": ["E1", "E2"], "facility_id": "F1", "admit_date": ["2024-06-01", "2024-07-01"],
                        "discharge_date": ["2024-06-11", "2024-07-11"], "total_cost": 1000.0})
    do = pd.DataFrame({"encounter_id": ["E1"], "facility_id": "F1", "setting": "inpatient", "order_date": "2024-06-02",
                       "drug_code": "D1", "quantity": 4.0})
    r = qci.compute({"facilities": facilities(), "discharges": dis, "drug_orders": do, "drug_dictionary": dd},
                    ["antibacterial_use_density"], period="month").to_frame().set_index("period")
    assert r.loc["2024-06", "value"] == pytest.approx(4 * 1 / 2 / 10 * 100) and "partial_period" not in r.loc["2024-06", "flags"]
    assert r.loc["2024-07", "value"] == 0.0 and "partial_period" in r.loc["2024-07", "flags"].split(";")


def test_a_given_length_of_stay_of_zero_counts_one_day_like_a_derived_one():
    """Two same-day stays (los_days 0 as some exports write it) and two of 6 and 8 days: ALOS (1+1+6+8)/4 = 4,
    not 14/4 = 3.5; the two are in the ledger."""
    dis = pd.DataFrame({"encounter_id": ["E1", "E2", "E3", "E4"], "facility_id": "F1",
                        "admit_date": ["2024-06-01", "2024-06-02", "2024-06-01", "2024-06-01"],
                        "discharge_date": ["2024-06-01", "2024-06-02", "2024-06-07", "2024-06-09"],
                        "los_days": [0.0, 0.0, 6.0, 8.0], "total_cost": 1000.0})
    r = qci.compute({"facilities": facilities(), "discharges": dis}, ["average_length_of_stay"], period="month")
    assert r.to_frame()["value"].tolist() == [4.0]
    d = r.diagnostics
    assert d.loc[d["check"] == "los_days_zero_as_one", "rows"].sum() == 2


def test_the_facilities_without_a_county_are_a_flagged_group_not_a_second_region_row():
    fac = facilities()[["facility_id", "level", "facility_type", "ownership"]].assign(county=["A", None, "B"])
    dis = pd.DataFrame({"encounter_id": ["E1", "E2", "E3"], "facility_id": ["F1", "F2", "F3"],
                        "admit_date": "2024-06-01", "discharge_date": "2024-06-05", "total_cost": [1000.0, 2000.0, 3000.0]})
    r = qci.compute({"facilities": fac, "discharges": dis}, ["inpatient_cost_per_discharge"], by=[["county"], []],
                    period="month").to_frame()
    blank = r[r["flags"].str.contains("blank_group")]
    assert blank["value"].tolist() == [2000.0] and blank["county"].isna().all()
    region = r[r["county"].isna() & ~r["flags"].str.contains("blank_group")]
    assert region["value"].tolist() == [2000.0] and region["denominator"].tolist() == [3]


def test_a_missing_value_to_sum_flags_the_row_it_would_have_counted_in():
    """F1 left ic_staff empty: its 0 is not a count of nobody — flagged null_values, and so is county A's row."""
    t = staffing_tables()
    t["facility_periods"] = t["facility_periods"].astype({"ic_staff": "float64"})
    t["facility_periods"].loc[t["facility_periods"]["facility_id"] == "F1", "ic_staff"] = np.nan
    r = qci.compute(t, ["ic_staff_per_250_beds"], period="year").to_frame().set_index("facility_id")
    assert r.loc["F1", "value"] == 0.0 and "null_values" in r.loc["F1", "flags"].split(";")
    assert "null_values" not in r.loc["F3", "flags"]
    county = qci.compute(t, ["ic_staff_per_250_beds"], by=["county"], period="year").to_frame().set_index("county")
    assert "null_values" in county.loc["A", "flags"] and "null_values" not in county.loc["B", "flags"]


def test_an_antibacterial_returned_in_full_is_netted_in_ddds_and_named_in_the_ledger():
    """E1: 2 vials dispensed, 2 returned. AUD nets them (0 DDD); the use rate still counts E1 by its dispensed line
    (the known limitation in docs/antibacterial.md), and the ledger says where returns were."""
    dd = pd.DataFrame([{"drug_code": "D1", "generic_name": "注射用头孢曲松钠", "route": "注射", "spec": "1g/支"}])
    dis = pd.DataFrame({"encounter_id": ["E1", "E2"], "facility_id": "F1", "admit_date": "2024-06-01",
                        "discharge_date": "2024-06-11", "total_cost": 1000.0})
    do = pd.DataFrame({"encounter_id": ["E1", "E1"], "facility_id": "F1", "setting": "inpatient",
                       "order_date": "2024-06-02", "drug_code": "D1", "quantity": [2.0, -2.0]})
    r = qci.compute({"facilities": facilities(), "discharges": dis, "drug_orders": do, "drug_dictionary": dd},
                    ["antibacterial_use_density", "inpatient_antibacterial_use_rate"], period="month")
    f = r.to_frame().set_index("indicator")
    assert f.loc["antibacterial_use_density", "numerator"] == 0.0
    assert f.loc["inpatient_antibacterial_use_rate", "numerator"] == 1.0
    d = r.diagnostics
    assert d.loc[d["check"] == "antibacterial_return_lines", "rows"].sum() == 1
