"""compute keeps the promises validate makes; bad cells fail or flag, never change a number silently."""
import os
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import qcindicators as qci
from qcindicators.errors import InputDataError
from tests.conftest import facilities


def stays(n=4):
    return pd.DataFrame({"encounter_id": [f"E{i}" for i in range(n)], "facility_id": "F1",
                         "admit_date": "2024-01-01", "discharge_date": "2024-01-05", "total_cost": "1000"})


def tables(disc=None, proc=None):
    out = {"facilities": facilities(), "discharges": stays() if disc is None else disc}
    out["procedures"] = proc if proc is not None else pd.DataFrame(
        {"encounter_id": ["E0", "E1"], "facility_id": "F1", "op_code": "47.09", "op_date": "2024-01-02", "is_surgery": "是"})
    return out


def surgery(t, **kw):
    r = qci.compute(t, ["surgery_share"], period="year", **kw).to_frame()
    row = r[r["facility_id"] == "F1"].iloc[0]
    return row["numerator"], row["denominator"]


def test_clean_stays_hand_computed():
    assert surgery(tables()) == (2, 4)


def test_duplicated_stay_is_never_counted_twice():
    disc = pd.concat([stays(), stays().iloc[[3]]], ignore_index=True)
    with pytest.raises(InputDataError, match="unique_key"):
        surgery(tables(disc))
    assert not qci.validate(tables(disc)).ok


def test_quarantine_fresh_owner_only_and_as_read(tmp_path):
    disc = stays()
    disc.loc[1, "discharge_date"] = "2999-12-31"
    q = tmp_path / "q"
    for _ in range(2):      # two runs: one complete set, never appended
        qci.compute(tables(disc), ["surgery_share"], period="year", on_invalid="quarantine", quarantine_dir=q)
    written = pd.read_csv(q / "discharges.csv", dtype=str, encoding="utf-8-sig")
    assert len(written) == 1 and written.loc[0, "discharge_date"] == "2999-12-31" and written.loc[0, "_row"] == "2"
    assert "1900–2100" in written.loc[0, "_reason"]
    assert stat.S_IMODE(os.stat(q / "discharges.csv").st_mode) == 0o600


def test_procedures_of_a_set_aside_stay_go_with_it_as_in_validate(tmp_path):
    disc = stays()
    disc.loc[0, "total_cost"] = "-5"                 # E0 fails; its procedure must not be counted either
    t = tables(disc)
    t["procedures"]["op_level"] = "4"
    report = qci.validate(t, on_invalid="quarantine")
    assert report.quarantined == {"discharges": 1, "procedures": 1}
    r = qci.compute(t, ["level4_surgery_share"], period="year", on_invalid="quarantine", quarantine_dir=tmp_path / "q")
    quarantined = r.diagnostics[r.diagnostics["check"] == "quarantined"].set_index("table")["rows"]
    assert quarantined["procedures"] == 1
    row = r.to_frame().query("facility_id == 'F1'").iloc[0]
    assert (row["numerator"], row["denominator"]) == (1, 1)      # E1's operation only
    written = pd.read_csv(tmp_path / "q" / "procedures.csv", dtype=str, encoding="utf-8-sig")
    assert written["encounter_id"].tolist() == ["E0"] and "quarantined" in written.loc[0, "_reason"]


def test_diagnostics_summary_counts_rows_once_and_names_facilities():
    disc = stays()
    disc["los_days"] = ["400", "3", "3", "3"]
    r = qci.compute(tables(disc), ["average_length_of_stay", "surgery_share"], period="year")
    text = r.diagnostics_summary()
    assert "discharges [implausible_value]: 1 rows in 1 facilities" in text and "in 0 facilities" not in text
    flags = r.to_frame().set_index(["indicator", "facility_id"])["flags"]
    assert flags[("average_length_of_stay", "F1")] == "implausible_value;partial_period"      # (400 + 3·3) / 4 = 102.25, flagged
    assert r.to_frame().set_index(["indicator", "facility_id"]).loc[("average_length_of_stay", "F1"), "value"] == 102.25
    assert "implausible_value" not in flags[("surgery_share", "F1")]               # reads no implausible column


BAD_FORMS = ["inf", "-inf", "1e400", "12,34", "1.234,56", "1,2,3", "abc", "2999-12-31", "0001-01-01", "１２,３",
             "maybe", "1900-01-01", " ", "NULL", "flagged"]
FLAGGED = {"total_cost": "200000000", "los_days": "400"}     # plausible types, implausible magnitudes
CELLS = [("discharges", "total_cost"), ("discharges", "admit_date"), ("discharges", "discharge_date"),
         ("discharges", "los_days"), ("procedures", "op_date"), ("procedures", "is_surgery")]
IDS = ["surgery_share", "inpatient_cost_per_discharge", "average_length_of_stay"]


def numbers(t):
    r = qci.compute(t, IDS, period="year")
    return r.to_frame()[["indicator", "facility_id", "period", "numerator", "denominator"]].reset_index(drop=True), r


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cell=st.sampled_from(CELLS), row=st.integers(0, 1), bad=st.sampled_from(BAD_FORMS))
def test_a_bad_cell_fails_or_is_flagged_never_a_silently_changed_number(cell, row, bad):
    table, column = cell
    clean_t = tables()
    clean_t["discharges"]["los_days"] = "4"
    t = {k: v.copy() for k, v in clean_t.items()}
    t[table].loc[row, column] = FLAGGED.get(column, "") if bad == "flagged" else bad
    clean, clean_result = numbers(clean_t)
    try:
        got, result = numbers(t)
    except InputDataError as err:
        assert column in str(err)          # refused, naming the column
        return
    if not got.equals(clean):       # a changed number always comes with a ledger line the clean run has not
        assert set(result.diagnostics["check"]) - set(clean_result.diagnostics["check"]), (cell, bad)


def test_subset_independence():
    """The rows an indicator uses never depend on what else is requested."""
    from qcindicators.synthetic import Size, generate_tables
    t = qci.read_tables(generate_tables(Size(n_facilities=2, years=(2024,), discharges_per_bed=0.05, drug_lines_per_stay=2,
                                             visits_per_bed=0.1)))
    disc = t["discharges"].copy()
    disc.loc[3, "total_cost"] = -5.0            # a bad row: set aside in every computation that reads it
    t = t.replace({"discharges": disc})
    ids = ["surgery_share", "inpatient_cost_per_discharge", "average_length_of_stay", "antibacterial_use_density"]
    alone = {i: qci.compute(t, [i], period="year", on_invalid="quarantine").to_frame() for i in ids}
    rng = np.random.default_rng(1)
    for _ in range(3):
        subset = list(rng.choice(ids, size=rng.integers(2, len(ids) + 1), replace=False))
        together = qci.compute(t, subset, period="year", on_invalid="quarantine").to_frame()
        for i in subset:
            mine = together[together["indicator"] == i].reset_index(drop=True)
            pd.testing.assert_frame_equal(mine[["numerator", "denominator"]], alone[i][["numerator", "denominator"]])


BOMB = "a: &a [" + ",".join(['"lol"'] * 9) + "]\n" + "".join(
    f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]\n" for p, c in zip("abcdefgh", "bcdefghi"))


@pytest.mark.parametrize("content, fragment", [(BOMB, "alias"), ("a: &x [1, *x]\n", "recursive alias")], ids=["bomb", "recursive"])
def test_yaml_bomb_refused_quickly_in_bounded_memory(tmp_path, content, fragment):
    assert len(BOMB) < 600
    path = tmp_path / "bomb.yaml"
    path.write_text(content)
    script = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (2**31, 2**31))     # a runaway expansion dies here, not the machine
        import qcindicators.api
        from qcindicators.cli import main
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        code = main(["explain", "x", "--definitions", {str(path)!r}])
        grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        print("grown_kb", grown_kb)
        sys.exit(code)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and fragment in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert int(proc.stdout.split("grown_kb")[1]) < 100 * 1024          # under 100 MB
