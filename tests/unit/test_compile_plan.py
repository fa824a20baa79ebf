"""compile_plan: what a plan reads, derives, links and checks — and the defects a split answer caused."""
import textwrap

import pandas as pd
import pytest

import qcindicators as qci
from qcindicators.compile.plan import compile_plan
from qcindicators.spec.load import builtin_catalog
from qcindicators.synthetic import Size, generate_tables
from tests.conftest import facilities


def plan_of(*ids):
    return compile_plan(builtin_catalog(), list(ids))


def test_aud_reads_derives_and_checks():
    plan = plan_of("antibacterial_use_density")
    drug, disc = plan.reads["drug_orders"], plan.reads["discharges"]
    # ddd_count and is_antibacterial are derived from the line and the dictionary; the ledger records amounts
    assert drug.derived == ("ddd_count", "is_antibacterial")
    assert {"drug_code", "quantity", "setting", "order_date", "facility_id", "encounter_id"} <= drug.needs
    assert "amount" in drug.optional and "ddd_count" not in drug.needs
    assert plan.reads["drug_dictionary"].needs >= {"drug_code", "generic_name"}
    # los_days may be given; derived from the two dates where missing
    assert disc.derived == ("los_days",) and "los_days" in disc.optional
    assert {"admit_date", "discharge_date", "encounter_id"} <= disc.needs
    # every table read is checked whole, whether or not a measure names its key
    assert disc.checks == ("required_columns", "unique_key")
    assert plan.passes() == ["discharges", "drug_orders"]     # no exists(): contract order


def test_exists_becomes_a_link_answered_by_the_child_read_first():
    plan = plan_of("inpatient_antibacterial_use_rate")
    (link,) = plan.links
    assert (link.parent, link.child, link.link.settings) == ("discharges", "drug_orders", ("inpatient",))
    assert {"encounter_id", "setting", "drug_code", "quantity"} <= plan.reads["drug_orders"].needs
    assert plan.passes().index("drug_orders") < plan.passes().index("discharges")
    assert "link: discharges.encounter_id ← drug_orders.encounter_id (inpatient rows)" in plan.explain()


def test_operations_are_checked_against_their_stays():
    plan = plan_of("surgery_share")
    assert "parent:discharges" in plan.reads["procedures"].checks
    assert {"facility_id", "encounter_id"} <= plan.reads["discharges"].needs


def test_missing_names_tables_and_columns_per_indicator():
    plan = plan_of("antibacterial_use_density", "down_up_referral_ratio")
    headers = {"facilities": ["facility_id", "level", "facility_type", "ownership"],
               "discharges": ["encounter_id", "facility_id", "admit_date", "discharge_date", "total_cost"],
               "drug_orders": ["encounter_id", "facility_id", "setting", "order_date", "quantity"]}
    missing = plan.missing(headers)
    assert missing["antibacterial_use_density"] == ["missing_column:drug_orders.drug_code", "missing_table:drug_dictionary"]
    assert missing["down_up_referral_ratio"] == ["missing_table:referrals"]
    # direction is derived from the two facilities' levels: a referrals table without it can feed the ratio
    headers["referrals"] = ["referral_id", "from_facility_id", "to_facility_id", "referral_date"]
    assert plan.missing(headers)["down_up_referral_ratio"] == []


def stays(rows):
    return pd.DataFrame([{"facility_id": f, "encounter_id": e, "admit_date": "2024-01-01", "discharge_date": d, "total_cost": c}
                         for f, e, d, c in rows])


def test_a_duplicated_stay_is_never_counted_twice():
    # a stay exported twice: validate reports it, and compute must not count it twice either
    t = {"facilities": facilities(), "discharges": stays([("F1", "E1", "2024-01-05", 100.0), ("F1", "E1", "2024-01-05", 100.0),
                                                          ("F1", "E2", "2024-01-06", 300.0)])}
    with pytest.raises(qci.InputDataError, match="unique_key|键重复"):
        qci.compute(t, ["average_length_of_stay"], period="year")
    r = qci.compute(t, ["average_length_of_stay"], period="year", on_invalid="quarantine")
    f = r.to_frame().set_index("facility_id")
    assert f.loc["F1", "denominator"] == 1            # both copies set aside (which one is right is unknown), E2 counted
    assert f.loc["F1", "numerator"] == 5              # E2: 2024-01-01 → 01-06
    assert int(r.diagnostics.query("check == 'quarantined'")["rows"].sum()) == 2


def test_referral_direction_is_derived_when_absent():
    fac = facilities()        # F1 level 3, F2 level 2, F3 level 0
    refs = pd.DataFrame([("R1", "F1", "F3", "2024-03-01"), ("R2", "F1", "F2", "2024-03-02"),   # down, down
                         ("R3", "F3", "F1", "2024-03-03"), ("R4", "F2", "F1", "2024-03-04"),   # up, up
                         ("R5", "F3", "F1", "2024-03-05")],                                    # up
                        columns=["referral_id", "from_facility_id", "to_facility_id", "referral_date"])
    r = qci.compute({"facilities": fac, "referrals": refs}, ["down_up_referral_ratio"], by=[], period="year")
    row = r.to_frame().iloc[0]
    assert (row["numerator"], row["denominator"]) == (2, 3)     # 2 down ÷ 3 up
    assert row["value"] == pytest.approx(200 / 3)


def test_county_from_with_max_is_a_maximum_not_a_sum(tmp_path):
    (tmp_path / "longest_stay_by_residence.yaml").write_text(textwrap.dedent("""
        id: longest_stay_by_residence
        name: {zh: 最长住院日（按常住区县）, en: Longest stay by county of residence}
        kind: count
        unit: days
        direction: lower_is_better
        source: {document: test}
        measure: {table: discharges, max: los_days, county_from: patient_county}
    """), encoding="utf-8")
    t = {"facilities": facilities(),
         "discharges": stays([("F1", "E1", "2024-01-05", 1.0), ("F1", "E2", "2024-01-11", 1.0), ("F3", "E3", "2024-01-21", 1.0)])
         .assign(patient_county=["A", "A", "B"])}
    r = qci.compute(t, ["longest_stay_by_residence"], by=["county"], period="year", definitions=tmp_path)
    got = r.to_frame().set_index("county")["numerator"].to_dict()
    assert got == {"A": 10.0, "B": 20.0}                  # max(4, 10) and 20 — not 14


def test_several_groupings_and_grains_equal_each_computed_alone():
    # one of each kind of partial: sums, a growth, a row's own county, a max, a unit share, exists(), a distinct count
    ids = ["antibacterial_use_density", "inpatient_cost_per_discharge_growth", "in_county_visit_rate", "emr_level",
           "ic_staff_compliance_share", "outpatient_antibacterial_prescription_rate",
           "inpatient_antibacterial_use_rate_hospitalised", "liability_insurance_coverage"]
    tables = qci.read_tables(generate_tables(Size(n_facilities=5, discharges_per_bed=0.5, visits_per_bed=1.0)))
    together = qci.compute(tables, ids, by=[["facility_id"], ["county"], []], period=["year", "quarter"]).to_frame()
    for by in (["facility_id"], ["county"], []):
        for period in ("year", "quarter"):
            wanted = [i for i in ids if by in ([], ["county"]) or i != "in_county_visit_rate"]
            alone = qci.compute(tables, wanted, by=by, period=period).to_frame()
            part = together[together["period"].str.len() == (4 if period == "year" else 6)]
            for col in {"facility_id", "county"} - set(by):
                part = part[part[col].isna()]
            for col in by:
                part = part[part[col].notna()]
            part = part[["indicator", *by, "period", "numerator", "denominator", "value", "met", "flags"]]
            alone = alone[["indicator", *by, "period", "numerator", "denominator", "value", "met", "flags"]]
            pd.testing.assert_frame_equal(part.reset_index(drop=True).astype({c: object for c in by}),
                                          alone.reset_index(drop=True).astype({c: object for c in by}),
                                          check_dtype=False, rtol=1e-12)


def test_units_below_the_facility_hand_computed_and_rolling_up():
    from tests.unit.test_indicators_hand import aud_tables
    t = aud_tables()
    # E1 (F1) discharged from 内科, E2 from 外科, E3 from 内科 with lines ordered by 外科 (a transfer): lines count
    # in the stay's discharge department; F2's stay has no department
    t["discharges"] = t["discharges"].assign(dept_code=["内科", "外科", "内科", None])
    t["drug_orders"] = t["drug_orders"].assign(dept_code="外科")
    t["facility_periods"] = pd.DataFrame({"facility_id": ["F1"], "period": ["2024-01"], "ic_staff": [1.0], "open_beds": [100.0]})
    r = qci.compute(t, ["antibacterial_use_density", "ic_staff_per_250_beds"], by=[["facility_id", "dept_code"], ["facility_id"]],
                    period="month")
    f = r.to_frame()
    cell = f[f["dept_code"].notna() & (f["indicator"] == "antibacterial_use_density")].set_index(["facility_id", "dept_code", "period"])
    # January, 内科: E1's lines 2 − 0.5 + 3 = 4.5 DDD and E3's etimicin 1 DDD over E1's 4 patient-days
    assert cell.loc[("F1", "内科", "2024-01"), "numerator"] == pytest.approx(5.5)
    assert cell.loc[("F1", "内科", "2024-01"), "denominator"] == 4
    # 外科: E2's penicillin 0.8 DDD over its 1 day; the ordering department (外科 on every line) is not used
    assert cell.loc[("F1", "外科", "2024-01"), "numerator"] == pytest.approx(0.8)
    # February: E3's ceftriaxone 1 DDD; 内科 discharged E3 (14 days); 外科 had no discharges and no lines: no row
    assert cell.loc[("F1", "内科", "2024-02"), "value"] == pytest.approx(100 / 14)
    assert ("F1", "外科", "2024-02") not in cell.index
    # F2's stay has no department: its cell is shown as blank, so cells add up to the facility
    assert cell.loc[("F2", "(未填写 blank)", "2024-02"), "numerator"] == pytest.approx(2)
    fac = f[f["dept_code"].isna() & (f["indicator"] == "antibacterial_use_density")].set_index(["facility_id", "period"])
    sums = cell.groupby(level=["facility_id", "period"])[["numerator", "denominator"]].sum()
    pd.testing.assert_frame_equal(sums, fac.loc[sums.index, ["numerator", "denominator"]], rtol=1e-12)
    # staffing has no department: said as a row, not an error
    nc = f[f["flags"] == "not_computable:grain:dept_code"]
    assert nc["indicator"].tolist() == ["ic_staff_per_250_beds"]


def test_a_unit_below_the_facility_must_sit_inside_one():
    from tests.unit.test_indicators_hand import aud_tables
    with pytest.raises(qci.QCIError, match="facility_id"):
        qci.compute(aud_tables(), ["antibacterial_use_density"], by=["county", "dept_code"])
    with pytest.raises(qci.QCIError, match="dept_cod"):
        qci.compute(aud_tables(), ["antibacterial_use_density"], by=["facility_id", "dept_cod"])


def test_targets_conditioned_on_a_department(tmp_path):
    """A hospital's own targets by department: the condition is judged on each unit below the facility."""
    from tests.unit.test_indicators_hand import aud_tables
    (tmp_path / "dept-targets.yaml").write_text(textwrap.dedent("""
        id: dept-targets
        name: {zh: 科室目标, en: Department targets}
        source: {document: test}
        targets:
          - {indicator: antibacterial_use_density, when: 'dept_code in ["外科"]', value: "<= 80"}
          - {indicator: antibacterial_use_density, value: "<= 40"}
    """), encoding="utf-8")
    t = aud_tables()
    t["discharges"] = t["discharges"].assign(dept_code=["内科", "外科", "内科", None])
    r = qci.compute(t, ["antibacterial_use_density"], by=[["facility_id", "dept_code"], ["facility_id"]], period="year",
                    targets=tmp_path / "dept-targets.yaml")
    f = r.to_frame()
    cells = f[f["dept_code"].notna()].set_index(["facility_id", "dept_code"])
    assert cells.loc[("F1", "外科"), "target"] == 80 and cells.loc[("F1", "内科"), "target"] == 40
    assert f[f["dept_code"].isna()].set_index("facility_id").loc["F1", "target"] == 40     # the hospital: no department
