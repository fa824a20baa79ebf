"""Every schema rule has a fixture that breaks it; the report must name it at the right cell."""
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import qcindicators as qci
from qcindicators.cli import main
from tests.conftest import facilities


def base():
    return {
        "facilities": facilities(),
        "facility_periods": pd.DataFrame([{"facility_id": "F1", "period": "2024", "open_beds": 100, "wards": 4,
                                           "quality_nursing_wards": 2, "emr_level": 4}]),
        "discharges": pd.DataFrame([
            {"encounter_id": "E1", "facility_id": "F1", "admit_date": "2024-01-01", "discharge_date": "2024-01-03",
             "total_cost": 1000.0, "drug_cost": 200.0, "pathway_entered": "是", "pathway_completed": "是", "age": 40},
            {"encounter_id": "E2", "facility_id": "F2", "admit_date": "2024-02-01", "discharge_date": "2024-02-03",
             "total_cost": 500.0, "drug_cost": 100.0, "pathway_entered": "否", "pathway_completed": "否", "age": 3}]),
        "procedures": pd.DataFrame([{"encounter_id": "E1", "facility_id": "F1", "op_code": "47.09", "op_date": "2024-01-02",
                                     "is_surgery": "是", "incision_class": "Ⅰ类"}]),
        "visits": pd.DataFrame([{"visit_id": "V1", "facility_id": "F1", "visit_date": "2024-01-01", "setting": "门诊",
                                 "total_cost": 100.0, "drug_cost": 50.0}]),
        "drug_orders": pd.DataFrame([
            {"encounter_id": "E1", "facility_id": "F1", "setting": "住院", "order_date": "2024-01-02", "drug_code": "D1", "quantity": 2},
            {"encounter_id": "E9", "facility_id": "F1", "setting": "住院", "order_date": "2024-01-02", "drug_code": "D1", "quantity": 1}]),
        "drug_dictionary": pd.DataFrame([{"drug_code": "D1", "generic_name": "注射用头孢曲松钠"}]),
        "referrals": pd.DataFrame([{"referral_id": "R1", "from_facility_id": "F3", "to_facility_id": "F1", "referral_date": "2024-01-01"}]),
    }


def failures(tables):
    return qci.validate(tables).failures


def test_clean_fixture_passes_with_orphan_warning():
    report = qci.validate(base())
    assert report.ok and len(report.failures) == 0
    assert report.warnings.set_index("rule").loc["orphan_line", "rows"] == 1   # E9 still in hospital: a warning


BREAKS = [
    # (table, row, column, bad value, rule)
    ("discharges", 0, "admit_date", "2024-13-01", "type:date"),
    ("discharges", 1, "total_cost", "abc", "type:float"),
    ("discharges", 0, "total_cost", -1.0, "range:min"),
    ("discharges", 0, "age", 200, "range:max"),
    ("discharges", 1, "pathway_entered", "maybe", "type:bool"),
    ("discharges", 1, "discharge_date", None, "required"),
    ("discharges", 0, "discharge_date", "2023-12-01", "discharge_after_admit"),
    ("discharges", 0, "drug_cost", 5000.0, "drug_cost_within_total"),
    ("discharges", 1, "pathway_completed", "是", "completed_only_if_entered"),
    ("discharges", 1, "encounter_id", "E1", None),   # E2 -> E1: duplicate of row 0 only if same facility; see below
    ("facilities", 0, "facility_type", "医院", "type:code"),
    ("facilities", 1, "level", "五级", "type:int"),
    ("facility_periods", 0, "period", "2024年", "type:period"),
    ("facility_periods", 0, "open_beds", -5, "range:min"),
    ("facility_periods", 0, "emr_level", 9, "range:max"),
    ("facility_periods", 0, "quality_nursing_wards", 9, "quality_wards_within_wards"),
    ("visits", 0, "drug_cost", 500.0, "drug_cost_within_total"),
    ("visits", 0, "setting", "住院", "type:code"),
    ("procedures", 0, "encounter_id", "E7", "unknown_encounter"),
    ("drug_orders", 0, "facility_id", "F9", "unknown_facility"),
    ("referrals", 0, "to_facility_id", "F9", "unknown_facility"),
]


@pytest.mark.parametrize("table,row,column,value,rule", [b for b in BREAKS if b[4]])
def test_each_rule_is_reported_at_its_cell(table, row, column, value, rule):
    t = base()
    t[table] = t[table].astype(object)
    t[table].loc[row, column] = value
    f = failures(t)
    hit = f[(f["table"] == table) & (f["column"] == column) & (f["rule"] == rule)]
    assert hit["row"].tolist() == [row + 1], f.to_string()
    assert hit["message_zh"].iloc[0] and hit["message_en"].iloc[0]


def test_duplicate_key_and_missing_required_column():
    t = base()
    t["discharges"].loc[1, ["encounter_id", "facility_id"]] = ["E1", "F1"]
    t["visits"] = t["visits"].drop(columns=["visit_date"])
    t["drug_dictionary"] = pd.concat([t["drug_dictionary"]] * 2, ignore_index=True)
    f = failures(t)
    assert set(f[f["rule"] == "unique_key"]["row"]) == {1, 2}
    missing = f[f["rule"] == "required_column"]
    assert missing[["table", "column"]].values.tolist() == [["visits", "visit_date"]]
    assert f[f["rule"] == "unique_drug_code"]["row"].tolist() == [1, 2]


def test_injected_errors_are_all_listed_and_cli_exits_2(tmp_path, sample_dir, capsys):
    frames = {p.stem: pd.read_parquet(p) for p in sample_dir.glob("*.parquet")}
    d = frames["discharges"].astype({"admit_date": str})
    d.loc[3, "total_cost"] = -5.0                               # a negative cost
    d.loc[4, "admit_date"] = "2099-01-01"                       # a discharge before its admission
    d.loc[5, "facility_id"] = "NOPE"                            # an unknown facility
    d.loc[6, "encounter_id"] = d.loc[7, "encounter_id"]         # a duplicate encounter
    d.loc[8, "admit_date"] = "2024-02-31"                       # an unparseable date
    frames["discharges"] = d
    frames["visits"] = frames["visits"].drop(columns=["total_cost"])   # a missing required column
    for name, frame in frames.items():
        frame.to_parquet(tmp_path / f"{name}.parquet")
    code = main(["validate", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 2
    for rule in ("range:min", "discharge_after_admit", "unknown_facility", "unique_key", "type:date", "required_column"):
        assert rule in out, rule
    assert "Traceback" not in out


def test_quarantine_sets_rows_aside_counts_and_writes_them(tmp_path):
    t = base()
    t["discharges"].loc[0, "total_cost"] = -1.0          # E1 bad: its procedure goes with it
    report = qci.validate(t, on_invalid="quarantine", quarantine_dir=tmp_path)
    assert report.quarantined == {"discharges": 1, "procedures": 1}
    assert report.tables["discharges"]["encounter_id"].tolist() == ["E2"]
    written = pd.read_csv(tmp_path / "discharges.csv", dtype=str)
    assert written["_row"].tolist() == ["1"] and "total_cost" in written["_reason"].iloc[0]
    assert "parent_quarantined" in set(report.failures["rule"])


def test_compute_raises_on_invalid_input_and_quarantines_on_request(tmp_path):
    t = base()
    t["discharges"].loc[0, "total_cost"] = -1.0
    with pytest.raises(qci.InputDataError) as err:
        qci.compute(t, ["inpatient_cost_per_discharge"], period="year")
    # compute reports what validate reports: the negative total, and the drug cost now above it
    assert len(err.value.failures) == len(qci.validate(t).failures) == 2
    r = qci.compute(t, ["inpatient_cost_per_discharge"], period="year", on_invalid="quarantine")
    assert r.to_frame()["numerator"].tolist() == [500.0]
    assert r.diagnostics.set_index("check").loc["quarantined", "rows"] == 1


MUTATIONS = {
    "total_cost": (-3.0, "range:min"),
    "admit_date": ("31/12/2024", "type:date"),
    "facility_id": ("ZZZ", "unknown_facility"),
    "discharge_disposition": ("失踪", "type:code"),
}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 39), st.sampled_from(sorted(MUTATIONS)))
def test_one_mutated_cell_is_reported_at_that_cell(row, column):
    data = _small()
    d = data["discharges"].astype(object)
    value, rule = MUTATIONS[column]
    d.loc[row, column] = value
    f = failures({**data, "discharges": d})
    assert ["discharges", column, row + 1, rule] in f[["table", "column", "row", "rule"]].values.tolist()
    assert set(f["row"]) == {row + 1}      # a negative cost may also break drug_cost <= total_cost: same row


_CACHE = {}


def _small():
    if not _CACHE:
        from qcindicators.synthetic import Size, generate_tables
        t = generate_tables(Size(n_facilities=2, discharges_per_bed=0.05, visits_per_bed=0.1))
        t["discharges"] = t["discharges"].head(40)
        t["discharges"]["drug_cost"] = t["discharges"]["drug_cost"].clip(upper=t["discharges"]["total_cost"])
        _CACHE.update({k: t[k] for k in ("facilities", "discharges")})
    return dict(_CACHE)


@st.composite
def valid_discharges(draw):
    n = draw(st.integers(1, 20))
    fac = draw(st.lists(st.sampled_from(["F1", "F2", "F3"]), min_size=n, max_size=n))
    admit = draw(st.lists(st.dates(pd.Timestamp("2020-01-01").date(), pd.Timestamp("2026-01-01").date()), min_size=n, max_size=n))
    stay = draw(st.lists(st.integers(0, 90), min_size=n, max_size=n))
    cost = draw(st.lists(st.floats(0, 1e6), min_size=n, max_size=n))
    share = draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
    return pd.DataFrame({"encounter_id": [f"E{i:03d}" for i in range(n)], "facility_id": fac,
                         "admit_date": pd.to_datetime(admit), "discharge_date": pd.to_datetime(admit) + pd.to_timedelta(stay, "D"),
                         "total_cost": cost, "drug_cost": [c * s for c, s in zip(cost, share)]})


@settings(max_examples=40, deadline=None)
@given(valid_discharges())
def test_frames_drawn_from_the_schema_validate(d):
    assert len(failures({"facilities": facilities(), "discharges": d})) == 0


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["F1", "F2", None]), st.sampled_from(["a", "b", "c", "", None])), max_size=40))
def test_duplicated_rows_is_pandas_duplicated(rows):
    from qcindicators.schemas.checker import duplicated_rows
    from qcindicators.io.coerce import TEXT_DTYPE
    frame = pd.DataFrame(rows, columns=["facility_id", "encounter_id"], dtype=object)
    expected = frame.duplicated(["facility_id", "encounter_id"], keep=False).to_numpy()
    for f in (frame, frame.astype(TEXT_DTYPE)):          # object strings, and pandas' own string dtype
        assert (duplicated_rows(f, ["facility_id", "encounter_id"]) == expected).all()
