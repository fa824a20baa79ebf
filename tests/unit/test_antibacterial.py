"""The 抗菌药物 family: hand-computed cases, dictionary audits, and invariants of dispensing lines."""

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import qcindicators as qci
from qcindicators.cli import main
from qcindicators.drugs import audit
from tests.conftest import facilities
from tests.unit.test_indicators_hand import aud_tables, dictionary


def graded_dictionary():
    d = dictionary()
    d["antibacterial_class"] = ["restricted", "unrestricted", "unrestricted", None, "restricted"]
    extra = pd.DataFrame([{"drug_code": "D7", "generic_name": "注射用美罗培南", "atc_code": "J01DH02", "route": "注射",
                           "strength": 0.5, "strength_unit": "g", "antibacterial_class": "特殊使用级"}])   # 0.5/3 DDD
    return pd.concat([d, extra], ignore_index=True)


def stays_and_lines():
    discharges = pd.DataFrame({"encounter_id": ["E1", "E2", "E3", "E4"], "facility_id": "F1", "admit_date": "2024-03-01",
                               "discharge_date": "2024-03-05", "total_cost": 100.0})
    lines = pd.DataFrame([
        ("E1", "F1", "inpatient", "2024-03-02", "D1", 2), ("E1", "F1", "inpatient", "2024-03-03", "D1", 1),  # counted once
        ("E2", "F1", "inpatient", "2024-03-02", "D4", 3),                                                     # antiviral only
        ("E3", "F1", "inpatient", "2024-03-02", "D7", 6),                                                     # special grade: 1 DDD
        ("E4", "F1", "outpatient", "2024-03-02", "D2", 1),   # an outpatient line that shares a stay's id: not this stay's
        ("V1", "F1", "outpatient", "2024-03-02", "D2", 1), ("V3", "F1", "emergency", "2024-03-02", "D1", 1),
        ("V2", "F1", "inpatient", "2024-03-02", "D2", 1),    # an inpatient line that shares a visit's id: not this visit's
    ], columns=["encounter_id", "facility_id", "setting", "order_date", "drug_code", "quantity"])
    visits = pd.DataFrame({"visit_id": ["V1", "V2", "V3", "V4"], "facility_id": "F1", "visit_date": "2024-03-02",
                           "setting": ["outpatient", "outpatient", "emergency", "emergency"], "total_cost": 50.0})
    return {"facilities": facilities(), "discharges": discharges, "drug_orders": lines, "visits": visits,
            "drug_dictionary": graded_dictionary()}


def values(result):
    f = result.to_frame()
    return {r.indicator: (r.numerator, r.denominator, r.value) for r in f.itertuples()}


def test_use_rates_count_persons_and_respect_settings():
    ids = ["inpatient_antibacterial_use_rate", "outpatient_antibacterial_prescription_rate",
           "emergency_antibacterial_prescription_rate"]
    v = values(qci.compute(stays_and_lines(), ids, period="month"))
    assert v["inpatient_antibacterial_use_rate"] == (2, 4, 50.0)                 # E1 (once) and E3 of four stays
    assert v["outpatient_antibacterial_prescription_rate"] == (1, 2, 50.0)      # V1 of V1, V2 (V2's line is inpatient)
    assert v["emergency_antibacterial_prescription_rate"] == (1, 2, 50.0)       # V3 of V3, V4


def test_special_grade_share_is_by_ddds():
    v = values(qci.compute(stays_and_lines(), ["special_grade_antibacterial_ddd_share"], period="month"))
    # all inpatient antibacterial DDDs: E1 3 × 0.5 = 1.5, E3 6 × 0.5/3 = 1 (special); V2's line: 1 -> 3.5 in all
    num, den, value = v["special_grade_antibacterial_ddd_share"]
    assert num == pytest.approx(1.0) and den == pytest.approx(3.5) and value == pytest.approx(100 / 3.5)


def test_density_by_grade_adds_up_to_the_total():
    t = stays_and_lines()
    ids = ["antibacterial_use_density", "antibacterial_use_density_unrestricted", "antibacterial_use_density_restricted",
           "antibacterial_use_density_special"]
    v = values(qci.compute(t, ids, period="month"))
    parts = sum(v[i][0] for i in ids[1:])
    assert parts == pytest.approx(v["antibacterial_use_density"][0])


def test_class_i_prophylaxis_counts_patients():
    t = stays_and_lines()
    t["procedures"] = pd.DataFrame([
        ("E1", "F1", "47.09", "2024-03-02", True, "I", True), ("E1", "F1", "51.23", "2024-03-03", True, "I", False),
        ("E2", "F1", "47.09", "2024-03-02", True, "I", False),
        ("E3", "F1", "47.09", "2024-03-02", True, "II", True),     # not class I: outside both
        ("E4", "F1", "99.99", "2024-03-02", False, "I", True),     # an 操作, not a 手术
    ], columns=["encounter_id", "facility_id", "op_code", "op_date", "is_surgery", "incision_class", "prophylactic_antibacterial"])
    v = values(qci.compute(t, ["class_i_incision_prophylaxis_rate"], period="month"))
    assert v["class_i_incision_prophylaxis_rate"] == (1, 2, 50.0)


def test_hospitalised_variant_counts_stays_per_facility():
    t = stays_and_lines()
    more = pd.DataFrame([("E1", "F2", "inpatient", "2024-03-02", "D1", 1)], columns=t["drug_orders"].columns)
    t["drug_orders"] = pd.concat([t["drug_orders"], more], ignore_index=True)     # F2 has its own stay "E1"
    r = qci.compute(t, ["inpatient_antibacterial_use_rate_hospitalised"], by=[], period="month")
    row = r.to_frame().iloc[0]
    # stays with an inpatient line: F1 E1, E2, E3, V2 (an inpatient id) + F2 E1 = 5; with an antibacterial: 4
    assert (row["numerator"], row["denominator"]) == (4, 5)


def test_implausible_line_and_density_are_flagged():
    t = aud_tables()
    t["drug_orders"].loc[0, "quantity"] = 4000       # 2000 DDDs on one line: boxes typed as vials?
    r = qci.compute(t, ["antibacterial_use_density"], period="month")
    f = r.to_frame().set_index(["facility_id", "period"])
    assert "implausible_value" in f.loc[("F1", "2024-01"), "flags"]
    assert r.diagnostics.set_index("check").loc["implausible_line_ddd", "rows"] == 1


def test_specialty_targets_of_the_2011_campaign():
    t = aud_tables()
    t["facilities"] = facilities()
    t["facilities"]["specialty"] = [None, None, "儿童"]
    t["facilities"].loc[2, "facility_type"] = "specialty"
    t["discharges"] = pd.concat([t["discharges"], pd.DataFrame([{"encounter_id": "C1", "facility_id": "F3",
                                 "admit_date": "2024-01-01", "discharge_date": "2024-01-09", "total_cost": 1}])])
    r = qci.compute(t, ["antibacterial_use_density"], period="month", targets="antibacterial-2011-special-campaign")
    f = r.to_frame().set_index(["facility_id", "period"])
    assert f.loc[("F1", "2024-01"), "target"] == 40 and f.loc[("F3", "2024-01"), "target"] == 20
    assert f.loc[("F2", "2024-03"), "target"] == 40      # 妇幼保健院


MESSY = pd.DataFrame([
    {"drug_code": "A1", "generic_name": "注射用头孢曲松钠", "route": "静滴", "spec": "1.0g*1支"},
    {"drug_code": "A2", "generic_name": "盐酸左氧氟沙星片", "route": "口服", "spec": "0.5g*4片", "dispensing_unit": "盒"},
    {"drug_code": "A3", "generic_name": "注射用青霉素钠", "route": "肌注", "spec": "160万U"},
    {"drug_code": "A4", "generic_name": "阿莫西林克拉维酸钾分散片", "route": "口服", "spec": "0.2285g"},
    {"drug_code": "A5", "generic_name": "某某霉素胶囊", "route": "口服", "spec": "0.25g", "antibacterial_class": "非限制使用级"},
    {"drug_code": "A6", "generic_name": "复方磺胺甲噁唑片", "route": "口服", "atc_code": "J01EE01", "ddd": 4, "ddd_unit": "UD"},
    {"drug_code": "A7", "generic_name": "阿莫西林胶囊", "route": "口服", "spec": "0.25g*24粒", "dispensing_unit": "盒"},
    {"drug_code": "A8", "generic_name": "奥美拉唑肠溶胶囊", "route": "口服", "spec": "20mg*14粒"},
])


def test_messy_dictionary_audit():
    a = audit(MESSY).set_index("drug_code")
    assert a.loc["A1", "ddd_per_unit"] == pytest.approx(0.5)                 # 静滴 -> parenteral, 1 g / 2 g
    assert a.loc["A2", "ddd_per_unit"] == pytest.approx(4.0)                 # a box of 4 × 0.5 g / 0.5 g
    assert a.loc["A3", "ddd_per_unit"] == pytest.approx(0.96 / 3.6)          # 160万U = 1.6 MU = 0.96 g
    assert a.loc["A4", "problem"] == "combination_split_unknown"             # never counted at its total weight
    assert a.loc["A5", "problem"] == "no_atc"                                # graded, so an antibacterial; reported
    assert a.loc["A6", "ddd_per_unit"] == pytest.approx(0.25)                # WHO unit dose: 4 tablets a day
    assert a.loc["A7", "ddd_per_unit"] == pytest.approx(24 * 0.25 / 1.5)     # a box of 24 capsules
    assert "A8" not in a.index                                               # not an antibacterial
    assert audit(MESSY, everything=True).shape[0] == len(MESSY)


def test_drugs_audit_cli(tmp_path, capsys):
    MESSY.to_csv(tmp_path / "drug_dictionary.csv", index=False, encoding="gbk")
    assert main(["drugs", "audit", str(tmp_path / "drug_dictionary.csv"), "--out", str(tmp_path / "audit.csv")]) == 0
    out = capsys.readouterr().out
    assert "combination_split_unknown" in out and "2 cannot be turned into DDDs" in out
    assert len(pd.read_csv(tmp_path / "audit.csv")) == 7


LINE = st.tuples(st.sampled_from(["D1", "D2", "D3", "D6", "D4"]), st.integers(1, 9), st.integers(0, 20))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINE, min_size=1, max_size=8), st.data())
def test_splitting_a_line_never_changes_results(lines, data):
    base = aud_tables()
    rows = [("E3", "F1", "inpatient", f"2024-01-{21 + day % 10:02d}", code, q) for code, q, day in lines]
    split = []
    for e, f, s, d, code, q in rows:
        k = data.draw(st.integers(1, q))
        parts = [q // k] * k
        parts[-1] += q - sum(parts)
        split += [(e, f, s, d, code, p) for p in parts]
    cols = base["drug_orders"].columns
    ids = ["antibacterial_use_density", "special_grade_antibacterial_ddd_share", "inpatient_antibacterial_use_rate"]
    a = qci.compute({**base, "drug_orders": pd.DataFrame(rows, columns=cols), "drug_dictionary": graded_dictionary()}, ids).to_frame()
    b = qci.compute({**base, "drug_orders": pd.DataFrame(split, columns=cols), "drug_dictionary": graded_dictionary()}, ids).to_frame()
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["D1", "D2", "D3", "D6"]), st.integers(1, 9), st.integers(0, 9)), min_size=1, max_size=8))
def test_returns_are_netted(dispensed):
    base = aud_tables()
    lines = [("E3", "F1", "inpatient", "2024-01-25", c, q) for c, q, _ in dispensed]
    returns = [("E3", "F1", "inpatient", "2024-01-26", c, -min(r, q)) for c, q, r in dispensed if r]
    cols = base["drug_orders"].columns
    with_returns = qci.compute({**base, "drug_orders": pd.DataFrame(lines + returns, columns=cols)}, ["antibacterial_use_density"]).to_frame()
    netted = [("E3", "F1", "inpatient", "2024-01-25", c, q - min(r, q)) for c, q, r in dispensed]
    direct = qci.compute({**base, "drug_orders": pd.DataFrame(netted, columns=cols)}, ["antibacterial_use_density"]).to_frame()
    jan = lambda f: f.set_index("period").loc["2024-01", "numerator"]   # noqa: E731
    assert jan(with_returns) == pytest.approx(jan(direct), abs=1e-9)


def test_density_by_pharmacological_class_adds_up():
    t = stays_and_lines()
    classes = [i for i in qci.catalog()["id"] if i.startswith("antibacterial_use_density_j") or i.endswith("_p01ab")]
    v = values(qci.compute(t, ["antibacterial_use_density", *classes], period="month"))
    assert sum(v[i][0] for i in classes if i in v) == pytest.approx(v["antibacterial_use_density"][0])
    assert v["antibacterial_use_density_j01d"][0] == pytest.approx(1.5 + 1.0)        # ceftriaxone (J01DD), meropenem (J01DH)


def test_drug_ledger_per_facility_and_period_with_amounts_shares_and_returns():
    t = aud_tables()
    lines = t["drug_orders"].assign(amount=10.0)
    extra = pd.DataFrame([("E1", "F1", "inpatient", "2024-01-04", "NOPE", 2, 30.0),       # not in the dictionary
                          ("E3", "F1", "inpatient", "2024-02-02", "D2", -5, -8.0)],        # returned more than dispensed
                         columns=lines.columns)
    t["drug_orders"] = pd.concat([lines, extra], ignore_index=True)
    d = qci.compute(t, ["antibacterial_use_density"], period="month").diagnostics
    un = d[d["check"] == "unmapped_drug_code"].iloc[0]
    assert (un["facility_id"], un["period"], un["rows"], un["quantity"], un["amount"]) == ("F1", "2024-01", 1, 2, 30.0)
    assert un["share"] == pytest.approx(1 / 8)              # of F1's 8 lines dispensed in January
    ret = d[d["check"] == "returns_exceed_dispensed"].iloc[0]
    assert (ret["facility_id"], ret["period"], ret["rows"], ret["quantity"]) == ("F1", "2024-02", 1, -5)


def test_a_broken_dictionary_stops_compute_or_is_quarantined():
    t = aud_tables()
    t["drug_dictionary"] = pd.concat([t["drug_dictionary"], t["drug_dictionary"].iloc[[0]]], ignore_index=True)   # D1 twice
    with pytest.raises(qci.InputDataError) as err:
        qci.compute(t, ["antibacterial_use_density"], period="month")
    assert set(err.value.failures["rule"]) == {"unique_drug_code"}
    r = qci.compute(t, ["antibacterial_use_density"], period="month", on_invalid="quarantine")
    assert r.diagnostics.set_index("check").loc["quarantined", "rows"] == 2
    assert r.diagnostics["check"].eq("unmapped_drug_code").any()      # D1's lines are now reported, not guessed
