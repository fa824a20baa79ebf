"""The ledger names the codes: unmapped and DDD-less drug codes, per code, hand-computed."""

import pandas as pd
import pytest

import qcindicators as qci
from qcindicators.cli import main
from tests.unit.test_indicators_hand import aud_tables, dictionary


def tables_missing_two_codes():
    """A dictionary without X1 and X2; D6 (etimicin, no ATC, no own DDD) and D9 (amoxicillin, 规格 unparseable)."""
    t = aud_tables()
    d = dictionary()
    d = pd.concat([d[d["drug_code"].isin(["D1", "D4"])], pd.DataFrame([
        {"drug_code": "D6", "generic_name": "硫酸依替米星氯化钠注射液", "route": "注射", "strength": 0.1,
         "strength_unit": "g", "antibacterial_class": "限制使用级"},
        {"drug_code": "D9", "generic_name": "阿莫西林胶囊", "atc_code": "J01CA04", "route": "口服", "spec": "每粒装"}])],
        ignore_index=True)
    lines = pd.DataFrame([
        ("E1", "F1", "inpatient", "2024-01-02", "D1", 4, 40.0),     # counted
        ("E1", "F1", "inpatient", "2024-01-03", "X1", 2, 30.0),
        ("E2", "F1", "inpatient", "2024-01-10", "X1", 1, 15.0),
        ("E4", "F2", "inpatient", "2024-02-26", "X1", 3, 45.0),     # X1: 3 lines, 6 units, 90 元, F1 and F2, Jan–Feb
        ("V9", "F1", "outpatient", "2024-01-03", "X2", 5, 10.0),    # X2: any setting
        ("E3", "F1", "inpatient", "2024-01-25", "D6", 3, 60.0),
        ("E3", "F1", "inpatient", "2024-02-01", "D6", -1, -20.0),   # a return nets: D6 2 units, 40 元
        ("E3", "F1", "inpatient", "2024-02-01", "D9", 2, 5.0),
        ("E3", "F1", "inpatient", "2024-02-01", "D4", 2, 99.0),     # antiviral, in the dictionary: not listed
    ], columns=["encounter_id", "facility_id", "setting", "order_date", "drug_code", "quantity", "amount"])
    t.update(drug_orders=lines, drug_dictionary=d)
    return t


EXPECTED = [  # sorted by the amount left uncounted
    ("X1", "not_in_dictionary", 3, 6.0, 90.0, 2, "F1,F2", 2, "2024-01", "2024-02"),
    ("D6", "no_atc", 2, 2.0, 40.0, 1, "F1", 2, "2024-01", "2024-02"),
    ("X2", "not_in_dictionary", 1, 5.0, 10.0, 1, "F1", 1, "2024-01", "2024-01"),
    ("D9", "unparseable_spec", 1, 2.0, 5.0, 1, "F1", 1, "2024-02", "2024-02"),
]
COLS = ["drug_code", "reason", "lines", "quantity", "amount", "facilities", "facility_ids", "periods", "first_period",
        "last_period"]


def test_compute_names_the_codes_it_could_not_count():
    r = qci.compute(tables_missing_two_codes(), ["antibacterial_use_density"], period="month")
    u = r.unmapped_drugs
    assert [tuple(x) for x in u[COLS].itertuples(index=False)] == EXPECTED
    assert u.loc[u["drug_code"] == "D9", "generic_name"].item() == "阿莫西林胶囊"
    assert u.loc[u["drug_code"] == "D6", "reason_zh"].item().startswith("无法确定 ATC")
    # the per-facility ledger and the per-code list count the same lines
    d = r.diagnostics
    assert d.loc[d["check"] == "unmapped_drug_code", "rows"].sum() == 4
    assert d.loc[d["check"] == "unmapped_drug_code", "amount"].sum() == 100.0


def test_the_verb_reads_every_line_without_an_indicator():
    u = qci.unmapped_drugs(tables_missing_two_codes(), period="month")
    assert [tuple(x) for x in u[COLS].itertuples(index=False)] == EXPECTED
    y = qci.unmapped_drugs(tables_missing_two_codes(), period="year")
    assert y[["first_period", "periods"]].values.tolist() == [["2024", 1]] * 4


def test_a_clean_dictionary_lists_nothing_and_compute_without_drugs_has_an_empty_table():
    t = tables_missing_two_codes()
    t["drug_orders"] = t["drug_orders"][t["drug_orders"]["drug_code"].isin(["D1", "D4"])]
    assert len(qci.unmapped_drugs(t)) == 0
    r = qci.compute(t, ["average_length_of_stay"], period="year")
    assert len(r.unmapped_drugs) == 0 and "drug_code" in r.unmapped_drugs.columns


def test_an_undated_line_stops_the_list_or_is_set_aside():
    t = tables_missing_two_codes()
    t["drug_orders"] = t["drug_orders"].assign(order_date=lambda f: f["order_date"].where(f["drug_code"] != "X2"))
    with pytest.raises(qci.InputDataError, match="failed validation"):
        qci.unmapped_drugs(t)
    u = qci.unmapped_drugs(t, on_invalid="quarantine")
    assert "X2" not in set(u["drug_code"]) and len(u) == 3


def test_cli_writes_the_list(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    for name, frame in tables_missing_two_codes().items():
        frame.to_csv(data / f"{name}.csv", index=False)
    out = tmp_path / "unmapped.xlsx"
    assert main(["drugs", "unmapped", str(data), "--out", str(out)]) == 0
    back = pd.read_excel(out, dtype={"drug_code": str})
    assert back["drug_code"].tolist() == ["X1", "D6", "X2", "D9"]
    assert "145.00" in capsys.readouterr().out          # 90 + 40 + 10 + 5 元 left uncounted
    with pytest.raises(SystemExit):
        main(["drugs", "unmapped"])


def test_one_hospitals_month():
    u = qci.unmapped_drugs(tables_missing_two_codes(), period="month", facility="F1", within="2024-02")
    assert u[["drug_code", "lines", "amount"]].values.tolist() == [["D9", 1, 5.0], ["D6", 1, -20.0]]
    f2 = qci.unmapped_drugs(tables_missing_two_codes(), period="month", facility="F2")
    assert f2[["drug_code", "lines", "facility_ids"]].values.tolist() == [["X1", 1, "F2"]]
    assert len(qci.unmapped_drugs(tables_missing_two_codes(), period="month", within="2023-01")) == 0


def test_the_summary_and_the_workbook_carry_the_codes(tmp_path):
    r = qci.compute(tables_missing_two_codes(), ["antibacterial_use_density"], period="month")
    assert "drug codes to fix: 4" in r.diagnostics_summary() and "X1 not_in_dictionary 3 lines" in r.diagnostics_summary()
    r.write(tmp_path / "r.xlsx")
    back = pd.read_excel(tmp_path / "r.xlsx", sheet_name="unmapped_drugs", dtype={"drug_code": str})
    assert back["drug_code"].tolist() == ["X1", "D6", "X2", "D9"]


def test_partitions_of_facilities_give_the_same_list(tmp_path):
    for name, frame in tables_missing_two_codes().items():
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
    one = qci.compute(tmp_path, ["antibacterial_use_density"], period="month", workers=1)
    two = qci.compute(tmp_path, ["antibacterial_use_density"], period="month", workers=2)
    pd.testing.assert_frame_equal(one.unmapped_drugs[COLS], two.unmapped_drugs[COLS])
    assert [tuple(x) for x in two.unmapped_drugs[COLS].itertuples(index=False)] == EXPECTED
