"""Departments, prescribers and the stewardship pack: hand-computed values on small tables.

D1 is ceftriaxone 1 g (0.5 DDD a vial), D2 levofloxacin 0.5 g (1 DDD a tablet), D4 oseltamivir (not an
antibacterial), from the hand-computed dictionary of test_indicators_hand.
"""

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import qcindicators as qci
from qcindicators.cli import main
from qcindicators.report.stewardship import build_stewardship, pseudonyms
from tests.conftest import facilities
from tests.unit.test_indicators_hand import dictionary

AUD = "antibacterial_use_density_discharge_cohort"


def ward_tables():
    discharges = pd.DataFrame([
        # E1: 4 days in A. E2: admitted in B, transferred, discharged from A: 9 days, all of them A's
        ("E1", "A", "2024-06-01", "2024-06-05"), ("E2", "A", "2024-06-01", "2024-06-10"),
        ("E3", "B", "2024-06-15", "2024-06-20"),     # B: 5 days
        ("E4", "C", "2024-05-29", "2024-05-31"),     # C discharged nobody in June
    ], columns=["encounter_id", "dept_code", "admit_date", "discharge_date"]).assign(facility_id="F1", total_cost=1.0)
    lines = pd.DataFrame([
        ("E1", "inpatient", "2024-06-02", "D1", 4, "A", "P3", 40.0),     # 2 DDD
        ("E2", "inpatient", "2024-06-02", "D1", 2, "B", "P4", 20.0),     # 1 DDD ordered in B, before the transfer
        ("E2", "inpatient", "2024-06-08", "D2", 3, "A", "P3", 30.0),     # 3 DDD
        ("E3", "inpatient", "2024-06-16", "D1", 2, "B", "P4", 20.0),     # 1 DDD
        ("E4", "inpatient", "2024-05-30", "D2", 1, "C", "P5", 10.0),     # 1 DDD, May
        ("V1", "outpatient", "2024-06-03", "D2", 1, "A", "P1", 10.0),    # P1: 1 of 2 prescriptions with an antibacterial
        ("V2", "outpatient", "2024-06-03", "D4", 1, "A", "P1", 5.0),
        ("V3", "outpatient", "2024-06-04", "D4", 1, "B", "P2", 5.0),     # P2: only non-antibacterials
        ("V4", "outpatient", "2024-06-05", "D4", 2, "B", "P2", 9.0),
    ], columns=["encounter_id", "setting", "order_date", "drug_code", "quantity", "dept_code", "prescriber_id",
                "amount"]).assign(facility_id="F1")
    visits = pd.DataFrame({"visit_id": ["V1", "V2", "V3", "V4"], "facility_id": "F1", "visit_date": "2024-06-03",
                           "setting": "outpatient", "total_cost": 50.0, "dept_code": ["A", "A", "B", "B"],
                           "doctor_id": ["P1", "P1", "P2", "P2"]})
    return {"facilities": facilities(), "discharges": discharges, "drug_orders": lines, "visits": visits,
            "drug_dictionary": dictionary()}


def by_unit(result, unit, period="2024-06"):
    f = result.to_frame()
    f = f[f["period"] == period]
    return {r[unit]: (r["numerator"], r["denominator"], r["value"]) for _, r in f.iterrows()}


def test_department_aud_counts_a_transferred_stay_in_its_discharge_department():
    r = qci.compute(ward_tables(), [AUD], by=["facility_id", "dept_code"], period="month")
    june = by_unit(r, "dept_code")
    assert june["A"] == pytest.approx((6.0, 13.0, 600 / 13))       # E1 2 + E2 1 (ordered in B) + 3 over 4 + 9 days
    assert june["B"] == pytest.approx((1.0, 5.0, 20.0))
    assert "C" not in june or pd.isna(june["C"][2])                 # no discharges in June: no June value
    assert by_unit(r, "dept_code", "2024-05")["C"] == pytest.approx((1.0, 2.0, 50.0))
    hospital = by_unit(qci.compute(ward_tables(), [AUD], period="month"), "facility_id")["F1"]
    assert hospital == pytest.approx((7.0, 18.0, 700 / 18))         # the departments add up to the hospital


def test_prescriber_rates_and_ddds_ordered():
    r = qci.compute(ward_tables(), ["prescriber_antibacterial_prescription_rate", "inpatient_antibacterial_ddds"],
                    by=["facility_id", "prescriber_id"], period="month")
    f = r.to_frame()
    rate = by_unit(f[f["indicator"] == "prescriber_antibacterial_prescription_rate"].pipe(_as_result), "prescriber_id")
    assert rate["P1"] == (1, 2, 50.0)
    assert rate["P2"] == (0, 2, 0.0)                                 # only non-antibacterial prescriptions: 0 %, not missing
    ddds = by_unit(f[f["indicator"] == "inpatient_antibacterial_ddds"].pipe(_as_result), "prescriber_id")
    assert ddds["P3"][2] == pytest.approx(5.0) and ddds["P4"][2] == pytest.approx(2.0)


def _as_result(frame):
    return qci.Result(frame, pd.DataFrame(), {})


def test_the_pack_on_hand_tables():
    pack = build_stewardship(ward_tables(), "F1", "2024-06")
    d = pack.tables["departments"]
    assert d["dept_code"].tolist()[0] == "全院 / hospital" and d["aud"].iloc[0] == pytest.approx(700 / 18)
    assert set(d["dept_code"]) >= {"A", "B"}
    p = pack.tables["prescribers"].set_index("prescriber_id")
    assert p.loc["P2", "rate"] == 0.0 and p.loc["P1", "rate"] == 50.0 and p.loc["P3", "inpatient_ddds"] == pytest.approx(5.0)
    top = pack.tables["top_ddds"]
    assert top[["drug_code", "ddds"]].values.tolist() == [["D1", 4.0], ["D2", 3.0]]   # June inpatient DDDs
    assert pack.tables["top_amount"]["drug_code"].tolist() == ["D1", "D2"]           # 80 and 40 元 (10 of it outpatient)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["A", "B", "C", None]), min_size=4, max_size=4))
def test_departments_roll_up_to_the_hospital(depts):
    t = ward_tables()
    t["discharges"] = t["discharges"].assign(dept_code=depts)
    units = qci.compute(t, [AUD], by=["facility_id", "dept_code"], period="month").to_frame()
    whole = qci.compute(t, [AUD], period="month").to_frame()
    for period, part in units.groupby("period"):
        h = whole[whole["period"] == period].iloc[0]
        assert part["numerator"].sum() == pytest.approx(h["numerator"])
        assert part["denominator"].sum() == pytest.approx(h["denominator"])


def test_pseudonyms_are_stable_salted_and_distinct():
    ids = pd.Series(["Y0101", "Y0102", "Y0101"])
    a = pseudonyms(ids, "F1", "secret")
    assert a[0] == a[2] != a[1] and a[0].startswith("医师-") and "Y0101" not in a[0]
    assert pseudonyms(ids, "F1", "secret").tolist() == a.tolist()            # next month: the same names
    assert pseudonyms(ids, "F1", "other")[0] != a[0]                          # another salt: other names
    assert pseudonyms(ids, "F2", "secret")[0] != a[0]                         # another hospital's Y0101 is someone else


@pytest.mark.parametrize("kw,words", [
    (dict(facility="F1", period="2024-6"), "period must look like 2024-06"),
    (dict(facility="F9", period="2024-06"), "no facility 'F9'"),
    (dict(facility="F1", period="2024-06", pseudonymise=True), "needs a secret salt"),
])
def test_the_pack_refuses_what_it_cannot_do(kw, words):
    with pytest.raises(qci.QCIError, match=words):
        build_stewardship(ward_tables(), **kw)


def test_cli_needs_a_salt_to_pseudonymise(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("QCI_SALT", raising=False)
    data = tmp_path / "data"
    data.mkdir()
    for name, frame in ward_tables().items():
        frame.to_csv(data / f"{name}.csv", index=False)
    code = main(["stewardship", str(data), "--facility", "F1", "--period", "2024-06", "--pseudonymise",
                 "--out", str(tmp_path / "x.xlsx")])
    assert code == 1 and "salt" in capsys.readouterr().err


def test_cli_writes_the_pack(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("QCI_SALT", "s")
    data = tmp_path / "data"
    data.mkdir()
    for name, frame in ward_tables().items():
        frame.to_csv(data / f"{name}.csv", index=False)
    out = tmp_path / "pack.html"
    assert main(["stewardship", str(data), "--facility", "F1", "--period", "2024-06", "--pseudonymise", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "科室排名 Departments" in page and "医师-" in page and "P1" not in page
    assert "科室 departments" in capsys.readouterr().out


def test_the_packs_own_indicators_at_the_hospital():
    ids = ["inpatient_antibacterial_ddds", "antibacterial_amount", "prescriber_antibacterial_prescription_rate"]
    f = qci.compute(ward_tables(), ids, period="month").to_frame().set_index(["indicator", "period"])
    assert f.loc[("inpatient_antibacterial_ddds", "2024-06"), "value"] == pytest.approx(7.0)    # 2 + 1 + 3 + 1
    assert f.loc[("inpatient_antibacterial_ddds", "2024-05"), "value"] == pytest.approx(1.0)
    assert f.loc[("antibacterial_amount", "2024-06"), "value"] == pytest.approx(120.0)          # 80 D1 + 40 D2; D4 not
    rate = f.loc[("prescriber_antibacterial_prescription_rate", "2024-06")]
    assert (rate["numerator"], rate["denominator"], rate["value"]) == (1, 4, 25.0)              # V1 of V1–V4
