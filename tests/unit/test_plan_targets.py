"""Each plan's target set on a small hand-built region: every kind of entry judged the way the plan means.

Six facilities in two counties (X, Y), one year (2024), a few stays:

    id  level grade type     ownership county 县人民医院  emr  physicians nurses  insured  assessed  inspected
    A   3     甲    general  public    X      否          7    100        250     是       是        是
    B   3     乙    general  public    Y      否          6     50         90     是       否        是
    C   2     甲    general  public    X      是          5     40         70     否       是        否
    D   2     乙    tcm      public    Y      否          3     10         20     是       否        是
    E   0           primary  public    X      否          1      5          6     否       是        是
    F   0           primary  private   Y      否          0      2          3     否       否        否
"""
import pandas as pd
import pytest

import qcindicators as qci
from qcindicators.spec.load import builtin_catalog


def region() -> dict[str, pd.DataFrame]:
    fac = pd.DataFrame({
        "facility_id": list("ABCDEF"), "level": [3, 3, 2, 2, 0, 0], "grade": ["甲", "乙", "甲", "乙", None, None],
        "facility_type": ["general", "general", "general", "tcm", "primary", "primary"],
        "ownership": ["public"] * 5 + ["private"], "county": ["X", "Y", "X", "Y", "X", "Y"],
        "county_hospital": [False, False, True, False, False, False]})
    fp = pd.DataFrame({
        "facility_id": list("ABCDEF"), "period": "2024",
        "emr_level": [7, 6, 5, 3, 1, 0], "physicians": [100.0, 50, 40, 10, 5, 2],
        "registered_nurses": [250.0, 90, 70, 20, 6, 3],
        "liability_insured": [True, True, False, True, False, False],
        "rational_drug_use_assessed": [True, False, True, False, True, False],
        "quality_inspected": [True, True, False, True, True, False],
        "teleconsultations": [10000.0, 4000, 1000, 500, 0, 0],
        "wards": [20.0, 10, 8, 5, 2, 1], "quality_nursing_wards": [20.0, 4, 4, 1, 0, 0]})
    return {"facilities": fac, "facility_periods": fp, "discharges": stays(), "procedures": operations()}


def stays() -> pd.DataFrame:
    """A: 40 stays (39 甲, 1 丙); B: 20 stays (all 甲); C: 10 stays (9 甲, 1 乙).
    B: 20 eligible for a pathway, 16 entered, 13 completed."""
    fac = ["A"] * 40 + ["B"] * 20 + ["C"] * 10
    grade = ["甲"] * 39 + ["丙"] + ["甲"] * 20 + ["甲"] * 9 + ["乙"]
    entered = [False] * 40 + [True] * 16 + [False] * 4 + [False] * 10
    completed = [False] * 40 + [True] * 13 + [False] * 7 + [False] * 10
    n = len(fac)
    return pd.DataFrame({"encounter_id": [f"S{i:03d}" for i in range(n)], "facility_id": fac,
                         "admit_date": pd.Timestamp("2024-03-01"), "discharge_date": pd.Timestamp("2024-03-05"),
                         "total_cost": 1000.0, "record_grade": grade, "pathway_entered": entered,
                         "pathway_eligible": [False] * 40 + [True] * 20 + [False] * 10,
                         "pathway_completed": completed, "pathway_id": ["P1"] * n, "age": 50.0, "primary_dx": "K35"})


def operations() -> pd.DataFrame:
    """B's first 10 stays have an elective operation; stay S040 has its complication on a second, non-elective row."""
    ids = [f"S{i:03d}" for i in range(40, 50)]
    return pd.DataFrame({"encounter_id": ids + ["S040"], "facility_id": "B", "op_code": "47.09",
                         "op_date": pd.Timestamp("2024-03-02"), "is_surgery": True,
                         "elective": [True] * 10 + [False], "complication": [False] * 10 + [True]})


def summary_row(result, indicator: str, **match) -> pd.Series:
    s = result.summary[result.summary["indicator"] == indicator]
    for k, v in match.items():
        s = s[s[k] == v]
    assert len(s) == 1, s
    return s.iloc[0]


def class_value(result, indicator: str, grain: str, **match) -> pd.DataFrame:
    f = result.frame[(result.frame["indicator"] == indicator) & (result.frame["grain"] == grain)]
    for k, v in match.items():
        f = f[f[k] == v]
    return f


def test_secondary_quality_plan_pools_and_averages_over_the_class():
    r = qci.check(region(), "plan-secondary-hospital-quality", period="year")
    # 医护比 for public hospitals overall (A–D): (250 + 90 + 70 + 20) ÷ (100 + 50 + 40 + 10) = 2.15
    row = summary_row(r, "physician_nurse_ratio")
    assert row["grain"] == "class_total" and row["region_value"] == pytest.approx(2.15) and row["region_met"] == True  # noqa: E712
    # 平均级别: 二级 public (C 5, D 3) → 4 ≥ 3; 三级 public (A 7, B 6) → 6.5 ≥ 4
    assert summary_row(r, "emr_level", target=">= 3")["region_value"] == pytest.approx(4.0)
    assert summary_row(r, "emr_level", target=">= 4")["region_value"] == pytest.approx(6.5)
    # the per-facility values stay beneath, even though no facility is judged
    per_facility = r.frame[(r.frame["indicator"] == "emr_level") & (r.frame["grain"] == "unit")]
    assert sorted(per_facility["value"]) == [0, 1, 3, 5, 6, 7] and per_facility["met"].isna().all()
    # a reported column the data lacks: one row, not computable, the column named
    row = summary_row(r, "smart_service_level", target=">= 2")
    assert row["status"] == "not_computable:missing_column:facility_periods.smart_service_level"
    assert summary_row(r, "energy_cost_per_10k_revenue")["status"].startswith("not_computable")


def test_secondary_quality_plan_is_judged_the_same_whatever_by():
    by_county = qci.check(region(), "plan-secondary-hospital-quality", by=["county"], period="year")
    assert summary_row(by_county, "physician_nurse_ratio")["region_value"] == pytest.approx(2.15)
    assert summary_row(by_county, "emr_level", target=">= 3")["region_value"] == pytest.approx(4.0)
    listed = by_county.frame[(by_county.frame["indicator"] == "emr_level") & (by_county.frame["grain"] == "facility")]
    assert sorted(listed["facility_id"]) == list("ABCDEF")


def test_district_plan_share_of_facilities_and_pathway_condition():
    r = qci.check(region(), "plan-2024-district", period="year")
    # 医疗责任保险投保率 二级以上 (A, B, C, D): 3 of 4 insured = 75 % < 90 %
    row = summary_row(r, "liability_insurance_coverage")
    assert row["region_value"] == pytest.approx(75.0) and row["region_met"] == False  # noqa: E712
    # 临床路径病种数 applies to 综合 hospitals only: D (tcm) is not judged against ≥ 30
    assert summary_row(r, "clinical_pathway_count", target=">= 30")["units_judged"] == 1   # C only
    # 甲级病历率 ≥ 95 (二级以上): A 97.5 met, B 100 met (20 records: small denominator, still judged), C 90 not met
    rows = r.frame[(r.frame["indicator"] == "grade_a_record_rate") & (r.frame["grain"] == "unit")].set_index("facility_id")
    assert rows.loc["A", "value"] == pytest.approx(97.5) and rows.loc["A", "met"] == True  # noqa: E712
    assert rows.loc["B", "flags"] == "small_denominator;partial_period" and rows.loc["B", "met"] == True  # noqa: E712
    assert rows.loc["C", "met"] == False  # noqa: E712
    # direction-only entries are reported as such
    assert summary_row(r, "autologous_transfusion_share")["status"].startswith("not_computable")
    assert summary_row(r, "drug_revenue_share")["target"].startswith("（方向性目标")


def test_small_denominators_judged_unless_withheld():
    # B: 16 pathway patients, 13 completed = 81.25 % ≥ 70 %: judged (flagged small); withheld on request
    judged = qci.check(region(), "plan-2024-district", period="year")
    withheld = qci.check(region(), "plan-2024-district", period="year", withhold_small=True)
    for r, expected in ((judged, True), (withheld, pd.NA)):
        row = r.frame[(r.frame["indicator"] == "clinical_pathway_completion_rate") & (r.frame["facility_id"] == "B")
                      & (r.frame["grain"] == "unit")].iloc[0]
        assert row["value"] == pytest.approx(81.25) and row["flags"] == "small_denominator;partial_period"
        assert (row["met"] is pd.NA) if expected is pd.NA else row["met"] == expected


def test_medical_affairs_plan_zero_counts_counts_and_shares():
    r = qci.check(region(), "plan-2026-medical-affairs", period="year")
    unit = r.frame[r.frame["grain"] == "unit"]
    # 杜绝丙级病历: B and C have stays but no 丙 record: 0, met; A has 1: not met
    c = unit[unit["indicator"] == "grade_c_record_count"].set_index("facility_id")
    assert c["value"].to_dict() == {"A": 1.0, "B": 0.0, "C": 0.0}
    assert c["met"].tolist() == [False, True, True]
    # 电子病历: 三级 at level 7 → 1 家 (< 2); at level 6 → 2 家 (< 5); 二级 at level 5 → C of C, D = 50 % (< 80 %)
    assert summary_row(r, "emr_level", criterion=">= 7")["region_value"] == 1
    assert summary_row(r, "emr_level", criterion=">= 6")["region_value"] == 2
    share = summary_row(r, "emr_level", criterion=">= 5")
    assert share["region_value"] == pytest.approx(50.0) and share["region_met"] == False  # noqa: E712
    # 专项检查覆盖二级以上 100 %: A, B, D of A–D = 75 %; 基层 80 %: E of E, F = 50 %
    assert summary_row(r, "quality_inspection", when="level >= 2")["region_value"] == pytest.approx(75.0)
    assert summary_row(r, "quality_inspection", when="level == 0")["region_value"] == pytest.approx(50.0)
    # 远程会诊 1.5 万例 for the region: 15 500
    tele = summary_row(r, "teleconsultations")
    assert tele["region_value"] == 15500 and tele["region_met"] == True  # noqa: E712
    # 手术并发症 counts patients: B's S040 has its complication on a non-elective row: 1 of 10 = 10 %
    comp = unit[(unit["indicator"] == "surgical_complication_rate") & (unit["facility_id"] == "B")].iloc[0]
    assert comp["numerator"] == 1 and comp["denominator"] == 10 and comp["met"] == False  # noqa: E712


def test_city_plan_counts_facilities_per_county():
    r = qci.check(region(), "plan-2024-city", period="year")
    # 每个县区至少 1 所二甲公立医院: X has C; Y has none (D is 乙)
    rows = class_value(r, "reporting_facilities", "facility_count").set_index("county")
    assert rows["value"].to_dict() == {"X": 1.0, "Y": 0.0}
    assert rows["met"].tolist() == [True, False]
    row = summary_row(r, "reporting_facilities")
    assert (row["units_met"], row["units_judged"]) == (1, 2)


def test_county_2020_plan_county_hospital_and_region_targets():
    r = qci.check(region(), "plan-2020-county", period="year")
    emr = summary_row(r, "emr_level")
    assert emr["when"] == "county_hospital" and (emr["units_met"], emr["units_judged"]) == (1, 1)   # C: level 5 ≥ 4
    assert "emr_level_compliance" not in set(r.summary["indicator"])
    # data the region does not have: named, never dropped
    assert summary_row(r, "recyclables_recovery_rate")["status"] == (
        "not_computable:missing_column:facility_periods.recyclables_recovered;"
        "missing_column:facility_periods.recyclables_total")


def test_lianyungang_plan_coverage_of_rational_drug_use_by_class():
    r = qci.check(region(), "plan-2021-city-lianyungang", period="year")
    # 覆盖 10 % 基层 (E of E, F = 50 %), 30 % 二级 (C of C, D = 50 %), 100 % 三级 (A of A, B = 50 %)
    got = r.summary[r.summary["indicator"] == "rational_drug_use_assessment_coverage"]
    assert got["region_value"].tolist() == pytest.approx([50.0, 50.0, 50.0])
    assert got["region_met"].tolist() == [True, True, False]
    # 二级及以上医院全部达到 4 级: A, B, C of A–D = 75 %
    assert summary_row(r, "emr_level", grain="facility_share")["region_value"] == pytest.approx(75.0)


def test_county_2024_plan_is_direction_and_facility_targets():
    r = qci.check(region(), "plan-2024-county", period="year")
    # 入组率、完成率 “大力提高”: values, no target; B's entry rate 16 ÷ 20 = 80 %
    entry = summary_row(r, "clinical_pathway_entry_rate")
    assert entry["status"] == "direction_only" and entry["region_value"] == pytest.approx(80.0)
    assert r.frame[r.frame["indicator"] == "clinical_pathway_entry_rate"]["target"].isna().all()
    # 优质护理 县级医院 ≥ 40 %: A 100, B 40, C 50 met; D 20 not; E, F (基层) not judged
    nursing = summary_row(r, "quality_nursing_ward_share")
    assert (nursing["units_met"], nursing["units_judged"]) == (3, 4)


def test_targets_set_keeps_the_other_indicators_own_targets():
    cat = builtin_catalog()
    own = [s for s in cat if s.targets and s.id not in {t.indicator for t in cat.target_set("plan-2024-county").targets}]
    assert own, "some definition carries its own targets"
    from qcindicators.compile.targets import targets_for
    assert targets_for(own[0], cat.target_set("plan-2024-county"), region=False) == list(own[0].targets)


def test_every_plan_entry_names_a_title_not_a_file():
    for ts in builtin_catalog().target_sets.values():
        assert "seeds/" not in ts.source.document and ".txt" not in ts.source.document


def test_cli_check_withhold_small(tmp_path, capsys):
    from qcindicators.cli import main
    data = tmp_path / "data"
    data.mkdir()
    for name, frame in region().items():
        frame.to_csv(data / f"{name}.csv", index=False)
    for flag, expected in (([], "True"), (["--withhold-small"], "")):
        out = tmp_path / f"r{len(flag)}.csv"
        assert main(["check", str(data), "--targets", "plan-2024-district", *flag, "--out", str(out)]) == 0
        got = pd.read_csv(out, dtype=str, keep_default_na=False)
        row = got[(got["indicator"] == "clinical_pathway_completion_rate") & (got["facility_id"] == "B")]
        assert row["met"].tolist() == [expected] and row["flags"].tolist() == ["small_denominator;partial_period"]


def test_a_condition_on_an_absent_facilities_column_is_not_computable():
    data = region()
    data["facilities"] = data["facilities"].drop(columns=["county_hospital"])
    r = qci.check(data, "plan-2020-county", period="year")
    assert summary_row(r, "emr_level")["status"] == "not_computable:missing_column:facilities.county_hospital"
