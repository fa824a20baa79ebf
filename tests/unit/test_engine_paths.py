"""Shortcuts in the engine give the same numbers as the plain path they replace."""
import pandas as pd
from hypothesis import given, settings, strategies as st

import qcindicators as qci
from qcindicators.engine import links

IDS = ["inpatient_antibacterial_use_rate", "outpatient_antibacterial_prescription_rate",
       "class_i_incision_prophylaxis_rate", "emergency_antibacterial_prescription_rate"]


def _frame(sample_dir):
    return qci.compute(qci.read_tables(sample_dir), IDS, period="month").to_frame()


def test_sorted_id_shortcut_and_row_aligned_parent_keys_change_nothing(sample_dir, monkeypatch):
    fast = _frame(sample_dir)
    assert fast["numerator"].sum() > 0
    monkeypatch.setattr(links, "strictly_increasing", lambda arr: False)   # hash every facility's own ids
    monkeypatch.setattr(links.ParentIndex, "row_keys_of", lambda self, offset, n: None)   # hash every batch
    plain = _frame(sample_dir)
    pd.testing.assert_frame_equal(fast, plain)


def test_sorted_member_is_isin():
    import numpy as np
    rng = np.random.default_rng(3)
    right = np.unique(rng.integers(0, 1000, 300))
    left = rng.integers(-5, 1100, 5000)
    assert (links.sorted_member(left, right) == np.isin(left, right)).all()
    assert not links.sorted_member(left, right[:0]).any()


def test_distinct_counts_do_not_depend_on_batch_boundaries(sample_dir, monkeypatch):
    from qcindicators.engine import pandas_engine
    ids = ["inpatient_antibacterial_use_rate_hospitalised", "clinical_pathway_count"]
    whole = qci.compute(qci.read_tables(sample_dir), ids, by=["county"], period="quarter").to_frame()
    monkeypatch.setattr(pandas_engine, "BATCH_ROWS", 1013)           # the same ids spread over many batches
    split = qci.compute(qci.read_tables(sample_dir), ids, by=["county"], period="quarter").to_frame()
    pd.testing.assert_frame_equal(whole, split)
    assert whole["numerator"].sum() > 0


def test_first_of_pairs_is_drop_duplicates():
    import numpy as np
    from qcindicators.engine.partials import first_of_pairs as _first_of_pairs
    rng = np.random.default_rng(5)
    a, b = rng.integers(0, 20, 3000), rng.integers(0, 30, 3000)
    mine = pd.DataFrame({"a": a, "b": b}).iloc[np.sort(_first_of_pairs(a, b))].reset_index(drop=True)
    theirs = pd.DataFrame({"a": a, "b": b}).drop_duplicates().reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, theirs)


def test_drug_lines_enter_the_ledger_once_however_often_they_are_read():
    # the scan of drug_orders (AUD) and exists(drug_orders, …) (use rates) read the same lines
    from tests.unit.test_indicators_hand import aud_tables
    t = aud_tables()
    t["drug_orders"] = pd.concat([t["drug_orders"], pd.DataFrame([("E1", "F1", "inpatient", "2024-01-03", "ZZ", 7)],
                                                                 columns=t["drug_orders"].columns)], ignore_index=True)
    for ids in (["antibacterial_use_density"], ["inpatient_antibacterial_use_rate"],
                ["antibacterial_use_density", "inpatient_antibacterial_use_rate", "inpatient_antibacterial_use_rate_hospitalised"]):
        d = qci.compute(t, ids, period="month").diagnostics
        unmapped = d[d["check"] == "unmapped_drug_code"]
        assert unmapped["rows"].sum() == 1 and unmapped["quantity"].sum() == 7, ids


def test_a_row_read_twice_is_set_aside_once(tmp_path):
    from tests.unit.test_indicators_hand import aud_tables
    t = aud_tables()
    t["drug_orders"] = pd.concat([t["drug_orders"], pd.DataFrame([("E1", "F1", "inpatient", "2024-13-45", "D1", 2)],
                                                                 columns=t["drug_orders"].columns)], ignore_index=True)
    r = qci.compute(t, ["antibacterial_use_density", "inpatient_antibacterial_use_rate"], period="month",
                    on_invalid="quarantine", quarantine_dir=tmp_path)
    q = r.diagnostics[r.diagnostics["check"] == "quarantined"]
    assert q.loc[q["table"] == "drug_orders", "rows"].sum() == 1
    written = pd.read_csv(next(tmp_path.glob("drug_orders*.csv")))
    assert len(written) == 1


def test_runs_of_child_rows_looked_up_once_change_nothing(sample_dir):
    """Drug lines of a stay in runs (looked up once per run) or shuffled (every line looked up): same numbers."""
    tables = qci.read_tables(sample_dir)
    frames = {n: tables.load(n) for n in tables.names}
    lines = frames["drug_orders"]
    runs = lines.sort_values(["facility_id", "encounter_id"], kind="stable").reset_index(drop=True)
    shuffled = lines.sample(frac=1.0, random_state=5).reset_index(drop=True)
    ids = IDS + ["antibacterial_use_density_discharge_cohort", "inpatient_antibacterial_use_rate_hospitalised"]
    a = qci.compute({**frames, "drug_orders": runs}, ids, period="month").to_frame()
    b = qci.compute({**frames, "drug_orders": shuffled}, ids, period="month").to_frame()
    pd.testing.assert_frame_equal(a, b)
    assert a["numerator"].sum() > 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["F1", "F2"]), st.text("AZ9中", min_size=1, max_size=3)), min_size=1, max_size=40),
       st.lists(st.tuples(st.sampled_from(["F1", "F2", "F9"]), st.text("AZ9中", min_size=1, max_size=3)), max_size=40),
       st.booleans(), st.booleans())
def test_parent_keys_by_binary_search_equal_a_dictionary(parents, children, sort_them, as_integers):
    """Sorted one-width ids are found by binary search — over integers after their shared prefix, or over Arrow's
    bytes — others by a hash: every path is the dictionary {(facility, id): first row} an oracle builds."""
    from unittest import mock
    from qcindicators import codes
    if sort_them:
        parents = sorted(set(parents))
    frame = pd.DataFrame(parents, columns=["facility_id", "visit_id"]).astype({"visit_id": "str"})
    fac_index = pd.Index(["F1", "F2"])
    bytes_only = mock.patch.object(codes.SortedIds, "_keys", lambda self, rest: None)
    with (mock.patch.dict({}) if as_integers else bytes_only):
        index = links.ParentIndex(frame, "visit_id", fac_index)
        if sort_them and frame["visit_id"].str.encode("utf-8").str.len().nunique() == 1:
            assert all((k.keys is not None) == as_integers for k in index.sorted_ids.values())
        _check_parent_keys(index, frame, children, sort_them)


def _check_parent_keys(index, frame, children, sort_them):
    import numpy as np
    if sort_them and frame["visit_id"].str.encode("utf-8").str.len().nunique() == 1:
        assert index.sorted_ids            # the binary-search path is the one under test here
    fac_of = {"F1": 0, "F2": 1, "F9": -1}
    kids = pd.DataFrame(children, columns=["facility_id", "visit_id"], dtype=object)
    fac = np.array([fac_of[f] for f in kids["facility_id"]], dtype=np.int64)
    got = index.key_of(fac, kids["visit_id"].astype("str"))
    # the oracle: a parent's key is its position among the rows ordered by facility (stable), first row of an id
    order = np.argsort(frame["facility_id"].map(fac_of).to_numpy(), kind="stable")
    first = {}
    for key, row in enumerate(order):
        first.setdefault((frame["facility_id"][row], frame["visit_id"][row]), key)
    want = [first.get((f, v), -1) for f, v in zip(kids["facility_id"], kids["visit_id"])]
    assert got.tolist() == want
