"""The work-plan catalog: hand-computed values on small tables, conditional targets, shares of units, plan checks."""
import math

import pandas as pd
import pytest

import qcindicators as qci
from qcindicators.cli import main
from tests.conftest import facilities


def stays():
    d = pd.DataFrame([
        # id, fac, admit, discharge, dx, age, eligible, entered, completed, pathway, grade, low_income, cost, in, out
        ("S1", "F1", "2024-01-01", "2024-01-05", "K35.8", 30, True, True, True, "P-阑尾炎", "甲", True, 1000, 50, 40),
        ("S2", "F1", "2024-01-02", "2024-01-02", "O80.0", 25, True, True, False, "P-剖宫产", "甲", False, 2000, None, None),
        ("S3", "F1", "2024-01-03", "2024-01-10", "I63.9", 70, True, False, False, None, "乙", True, 3000, 200, 100),
        ("S4", "F1", "2024-01-04", "2024-01-06", "P07.3", 0.01, False, False, False, None, "丙", False, 500, None, None),
        ("S5", "F1", "2024-01-05", "2024-01-08", "K80.1", 55, True, True, True, "P-阑尾炎", None, False, 1500, None, None),
    ], columns=["encounter_id", "facility_id", "admit_date", "discharge_date", "primary_dx", "age", "pathway_eligible",
                "pathway_entered", "pathway_completed", "pathway_id", "record_grade", "low_income", "total_cost",
                "self_pay_in_policy", "self_pay_out_policy"])
    p = pd.DataFrame([
        # stay, elective, day, level, incision, healing, mini, ssi, complication, is_surgery
        ("S1", True, False, 4, "I", "甲", True, False, True, True),
        ("S1", True, False, 2, "I", "丙", False, True, False, True),      # same stay: counted once
        ("S2", True, True, 3, "II", "甲", False, False, True, True),      # obstetric: out of the complication rate
        ("S3", False, False, 2, "I", "甲", False, False, False, True),    # emergency surgery
        ("S4", True, False, 1, "0", "甲", False, False, True, True),      # newborn: out of the complication rate
        ("S5", True, True, 1, None, None, False, False, False, False),   # an 操作, not a 手术
    ], columns=["encounter_id", "elective", "day_surgery", "op_level", "incision_class", "healing", "minimally_invasive",
                "ssi", "complication", "is_surgery"])
    p["facility_id"], p["op_code"], p["op_date"] = "F1", "00.00", "2024-01-03"
    return {"facilities": facilities(), "discharges": d, "procedures": p}


def by_id(result):
    return {r.indicator: r for r in result.to_frame().itertuples()}


def test_stay_indicators_by_hand():
    ids = ["average_length_of_stay", "clinical_pathway_entry_rate", "clinical_pathway_completion_rate", "clinical_pathway_count",
           "grade_a_record_rate", "grade_c_record_count", "surgery_share", "minimally_invasive_share", "level4_surgery_share",
           "day_surgery_share", "surgical_complication_rate", "class_i_incision_ssi_rate", "class_i_incision_ssi_rate_surveillance",
           "self_pay_in_policy_share", "self_pay_out_policy_share"]
    v = by_id(qci.compute(stays(), ids, period="month"))
    assert v["average_length_of_stay"].value == pytest.approx((4 + 1 + 7 + 2 + 3) / 5)       # same-day stay counts 1
    assert (v["clinical_pathway_entry_rate"].numerator, v["clinical_pathway_entry_rate"].denominator) == (3, 4)
    assert v["clinical_pathway_completion_rate"].value == pytest.approx(200 / 3)
    assert v["clinical_pathway_count"].value == 2                                            # 阑尾炎 twice, 剖宫产
    assert (v["grade_a_record_rate"].numerator, v["grade_a_record_rate"].denominator) == (2, 4)   # S5 not graded
    assert v["grade_c_record_count"].value == 1
    assert (v["surgery_share"].numerator, v["surgery_share"].denominator) == (4, 5)           # persons, S5 is an 操作
    assert (v["minimally_invasive_share"].numerator, v["minimally_invasive_share"].denominator) == (1, 4)
    assert v["level4_surgery_share"].value == 25.0
    assert (v["day_surgery_share"].numerator, v["day_surgery_share"].denominator) == (2, 4)   # S2, S5 of S1, S2, S4, S5
    # elective surgery, not O/P, not newborn: S1 only; S1 had a complication
    assert (v["surgical_complication_rate"].numerator, v["surgical_complication_rate"].denominator) == (1, 1)
    # class I patients: S1, S3; 丙级愈合: S1; surveillance SSI: S1
    assert v["class_i_incision_ssi_rate"].value == 50.0 and v["class_i_incision_ssi_rate_surveillance"].value == 50.0
    # low-income stays S1, S3: in-policy (50 + 200) / (1000 + 3000); out (40 + 100) / 4000
    assert v["self_pay_in_policy_share"].value == pytest.approx(6.25)
    assert v["self_pay_out_policy_share"].value == pytest.approx(3.5)


def access_tables():
    fac = facilities()
    visits = pd.DataFrame({"visit_id": ["V1", "V2", "V3", "V4", "V5"], "facility_id": ["F1", "F1", "F1", "F3", "F3"],
                           "visit_date": "2024-05-01", "setting": ["outpatient", "outpatient", "emergency", "outpatient", "outpatient"],
                           "total_cost": 10.0, "appointment_channel": ["online", "onsite", "online", "none", "online"]})
    referrals = pd.DataFrame({"referral_id": ["R1", "R2", "R3", "R4", "R5"],
                              "from_facility_id": ["F3", "F3", "F1", "F1", "F2"], "to_facility_id": ["F1", "F1", "F3", "F3", "F3"],
                              "referral_date": "2024-05-02", "direction": ["up", None, "down", None, "down"]})
    surveys = pd.DataFrame({"facility_id": "F1", "survey_date": "2024-05-03",
                            "respondent": ["inpatient", "inpatient", "inpatient", "outpatient"], "satisfied": [True, False, None, True]})
    return {"facilities": fac, "visits": visits, "referrals": referrals, "satisfaction_surveys": surveys}


def test_access_indicators_by_hand():
    ids = ["online_appointment_rate", "primary_care_visit_share", "down_up_referral_ratio", "downward_referrals",
           "inpatient_satisfaction_rate", "outpatient_satisfaction_rate"]
    region = by_id(qci.compute(access_tables(), ids, by=[], period="year"))
    assert (region["online_appointment_rate"].numerator, region["online_appointment_rate"].denominator) == (2, 4)
    assert region["primary_care_visit_share"].value == 40.0                       # F3 is primary: 2 of 5 visits
    # R2 (F3 → F1, level 0 → 3) derived up, R4 (F1 → F3) derived down: 3 down ÷ 2 up
    assert (region["down_up_referral_ratio"].numerator, region["down_up_referral_ratio"].denominator) == (3, 2)
    assert region["inpatient_satisfaction_rate"].value == 50.0 and region["outpatient_satisfaction_rate"].value == 100.0
    fac = qci.compute(access_tables(), ["down_up_referral_ratio", "downward_referrals"], period="year").to_frame()
    down = fac[fac["indicator"] == "downward_referrals"].set_index("facility_id")["value"]
    # R3, R4 (derived) from F1; R5 from F2; F3 sent referrals but none down: 0, not missing
    assert down.to_dict() == {"F1": 2.0, "F2": 1.0, "F3": 0.0}
    f1 = fac[(fac["indicator"] == "down_up_referral_ratio") & (fac["facility_id"] == "F1")].iloc[0]
    # F1 sent 2 down, received 2 up
    assert (f1["numerator"], f1["denominator"], f1["value"]) == (2, 2, 100.0)


def reports():
    fp = pd.DataFrame([
        ("F1", "2023", 1000, 8, 300, 600, 1e8, 3e7, 3e7, 1e6, 1.1e8, 20, 18, True, True, 100, 5),
        ("F1", "2024", 1000, 8, 300, 660, 1.1e8, 3e7, 3.3e7, 1e6, 1.2e8, 20, 17, True, True, 130, 6),
        ("F2", "2024", 200, 1, 60, 100, 2e7, 8e6, 5e6, 3e5, 2.5e7, 5, 2, False, None, 40, 3),
        ("F3", "2024", 50, 1, 10, 12, 2e6, 1e6, 4e5, 5e4, 3e6, 1, 0, True, False, 0, 1),
    ], columns=["facility_id", "period", "open_beds", "ic_staff", "physicians", "registered_nurses", "medical_revenue", "drug_revenue",
                "service_revenue", "energy_cost", "total_revenue", "wards", "quality_nursing_wards", "liability_insured",
                "rational_drug_use_assessed", "teleconsultations", "emr_level"])
    fac = facilities()
    fac.loc[2, "ownership"] = "private"
    return {"facilities": fac, "facility_periods": fp}


def test_report_indicators_by_hand():
    ids = ["physician_nurse_ratio", "private_bed_share", "quality_nursing_ward_share", "liability_insurance_coverage",
           "rational_drug_use_assessment_coverage", "emr_level_mean", "medical_revenue_growth", "drug_revenue_share",
           "medical_service_revenue_share", "energy_cost_per_10k_revenue", "teleconsultation_growth", "ic_staff_vs_2021_requirement"]
    r = qci.compute(reports(), ids, by=[], period="year").to_frame()
    v = {x.indicator: x for x in r[r["period"] == "2024"].itertuples()}
    assert v["physician_nurse_ratio"].value == pytest.approx((660 + 100 + 12) / (300 + 60 + 10))
    assert v["private_bed_share"].value == pytest.approx(50 / 1250 * 100)
    assert v["quality_nursing_ward_share"].value == pytest.approx(19 / 26 * 100)
    assert v["liability_insurance_coverage"].value == pytest.approx(200 / 3)
    assert (v["rational_drug_use_assessment_coverage"].numerator, v["rational_drug_use_assessment_coverage"].denominator) == (1, 2)
    assert v["emr_level_mean"].value == pytest.approx(10 / 3)
    assert v["medical_revenue_growth"].value == pytest.approx((1.32e8 - 1e8) / 1e8 * 100)   # region: F2, F3 new in 2024
    assert v["drug_revenue_share"].value == pytest.approx(3.9e7 / 1.32e8 * 100)
    assert v["medical_service_revenue_share"].value == pytest.approx((3.3e7 + 5e6 + 4e5) / 1.32e8 * 100)
    assert v["energy_cost_per_10k_revenue"].value == pytest.approx(1.35e6 / 1.48e8 * 1e4)
    assert v["teleconsultation_growth"].value == pytest.approx(70.0)
    # required staff: F1 1000 beds -> 4 + ceil(500/200) = 7; F2 200 -> 4; F3 50 -> 2: (8 + 1 + 1) / 13
    assert (v["ic_staff_vs_2021_requirement"].numerator, v["ic_staff_vs_2021_requirement"].denominator) == (10, 13)


def test_emr_attribute_and_compliance_with_conditional_targets(tmp_path):
    (tmp_path / "emr.yaml").write_text("""
id: emr-test
name: {zh: 测试, en: test}
source: {document: test}
targets:
  - {indicator: emr_level, when: level >= 2, value: ">= 4"}
""", encoding="utf-8")
    t = reports()
    fac = qci.compute(t, ["emr_level"], period="year", targets=tmp_path / "emr.yaml").to_frame()
    f = fac[fac["period"] == "2024"].set_index("facility_id")
    assert bool(f.loc["F1", "met"]) and not bool(f.loc["F2", "met"]) and pd.isna(f.loc["F3", "met"])
    share = qci.compute(t, ["emr_level_compliance"], by=[], period="year", targets=tmp_path / "emr.yaml").to_frame()
    assert share.set_index("period").loc["2024", "value"] == 50.0          # F1 of F1, F2 (F3 has no target)
    region = qci.compute(t, ["emr_level"], by=[], period="year").to_frame()
    assert region["flags"].str.contains("attribute_needs_facility_grain").all()


def test_conditional_targets_by_level_grade_and_type():
    fac = facilities()
    fac["grade"] = ["甲", "乙", None]
    fp = pd.DataFrame({"facility_id": ["F1", "F2", "F3"], "period": "2024", "wards": 10.0, "quality_nursing_wards": [7.0, 5.0, 1.0]})
    r = qci.compute({"facilities": fac, "facility_periods": fp}, ["quality_nursing_ward_share"], period="year",
                    targets="plan-2024-district").to_frame().set_index("facility_id")
    assert r.loc["F1", "target"] == 80 and not bool(r.loc["F1", "met"])      # 三甲: 70 % < 80 %
    assert math.isnan(r.loc["F2", "target"])                                 # 二级妇幼: not 综合, no target
    assert math.isnan(r.loc["F3", "target"])


def test_check_lists_every_target_and_what_cannot_be_computed(tmp_path, capsys):
    t = {**stays(), **access_tables()}
    result = qci.check(t, "plan-2026-medical-affairs")
    s = result.summary.set_index("indicator")
    assert s.loc["teleconsultation_growth", "status"].startswith("not_computable:missing_table:facility_periods")
    assert s.loc["surgical_complication_rate", "status"] == "computed"
    assert s.loc["primary_care_visit_share", "grain"] == "region" and s.loc["primary_care_visit_share", "region_value"] == 40
    f = result.to_frame()
    assert (f["target_set"] == "plan-2026-medical-affairs").all()
    nc = f[f["indicator"] == "teleconsultation_growth"]
    assert len(nc) == 1 and math.isnan(nc["value"].iloc[0]) and nc["flags"].iloc[0].startswith("not_computable:")
    region = f[(f["indicator"] == "grade_c_record_count") & f["facility_id"].isna()]
    assert region["value"].tolist() == [1.0] and region["met"].tolist() == [False]
    data = tmp_path / "data"
    data.mkdir()
    for name, frame in t.items():
        frame.to_csv(data / f"{name}.csv", index=False)
    assert main(["check", str(data), "--targets", "plan-2026-medical-affairs", "--out", str(tmp_path / "c.csv")]) == 0
    assert "not_computable" in capsys.readouterr().out
    assert list(pd.read_csv(tmp_path / "c.csv").columns)[-1] == "target_set"


@pytest.mark.parametrize("plan", ["plan-2020-county", "plan-2021-city-lianyungang", "plan-2024-district", "plan-2024-city",
                                  "plan-2026-medical-affairs", "plan-secondary-hospital-quality",
                                  "antibacterial-2011-special-campaign"])
def test_every_shipped_plan_runs_on_the_sample(plan, sample_dir):
    r = qci.check(sample_dir, plan)
    s = r.summary
    assert len(s) == len(qci.load_definitions().target_sets[plan].targets)
    # the sample feeds every shipped target, except those about specialty hospitals (it has none: no `specialty`)
    assert set(s["status"]) <= {"computed", "direction_only", "not_computable:missing_column:facilities.specialty"}
    kinds = s["indicator"].map(lambda i: qci.load_definitions()[i].kind)
    per_county = s["grain"].str.endswith("per county")         # judged per county: no region value
    assert s[(s["status"] == "computed") & ((kinds != "attribute") | (s["grain"] != "facility")) & ~per_county][
        "region_value"].notna().all()   # attributes: facility grain, or a class grain over them


def test_in_county_visit_rate_groups_by_the_patients_county():
    fac = facilities()                       # F1, F2 in county A; F3 in county B
    visits = pd.DataFrame({"visit_id": ["V1", "V2", "V3", "V4", "V5"], "facility_id": ["F1", "F1", "F3", "F3", "F1"],
                           "visit_date": "2024-05-01", "setting": "outpatient", "total_cost": 10.0,
                           "patient_county": ["A", "B", "B", "A", "外省"]})
    stays = pd.DataFrame({"encounter_id": ["S1", "S2"], "facility_id": ["F2", "F1"], "admit_date": "2024-05-01",
                          "discharge_date": "2024-05-03", "total_cost": 1.0, "patient_county": ["A", None]})
    t = {"facilities": fac, "visits": visits, "discharges": stays}
    r = qci.compute(t, ["in_county_visit_rate"], by=["county"], period="year").to_frame().set_index("county")
    # county A residents: V1 (in A), V4 (in B), S1 (in A) -> 2 of 3; county B residents: V2 (in A), V3 (in B) -> 1 of 2
    assert (r.loc["A", "numerator"], r.loc["A", "denominator"]) == (2, 3)
    assert (r.loc["B", "numerator"], r.loc["B", "denominator"]) == (1, 2)
    assert (r.loc["外省", "numerator"], r.loc["外省", "denominator"]) == (0, 1)       # outside residents: their own group
    region = qci.compute(t, ["in_county_visit_rate"], by=[], period="year").to_frame().iloc[0]
    assert (region["numerator"], region["denominator"]) == (3, 6)                     # S2 has no county: left out
    with pytest.raises(qci.QCIError, match="by=\\['county'\\]"):
        qci.compute(t, ["in_county_visit_rate"], by=["facility_id"], period="year")
    skipped = qci.compute(t, by=["facility_id"], period="year").not_computable.set_index("indicator")
    assert skipped.loc["in_county_visit_rate", "reason"] == "grouping:county_or_region_only"
