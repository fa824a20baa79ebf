"""Shortcuts in the engine give the same numbers as the plain path they replace."""
import pandas as pd

import qcindicators as qci
from qcindicators.engine import columns

IDS = ["inpatient_antibacterial_use_rate", "outpatient_antibacterial_prescription_rate",
       "class_i_incision_prophylaxis_rate", "emergency_antibacterial_prescription_rate"]


def _frame(sample_dir):
    return qci.compute(qci.read_tables(sample_dir), IDS, period="month").to_frame()


def test_batched_child_lookups_and_row_aligned_parent_keys_change_nothing(sample_dir, monkeypatch):
    fast = _frame(sample_dir)
    assert fast["numerator"].sum() > 0
    monkeypatch.setattr(columns._PendingKeys, "FLUSH_ROWS", 997)              # many small lookups
    monkeypatch.setattr(columns.ParentIndex, "row_keys_of", lambda self, offset, n: None)   # hash every batch
    plain = _frame(sample_dir)
    pd.testing.assert_frame_equal(fast, plain)


def test_sorted_member_is_isin():
    import numpy as np
    rng = np.random.default_rng(3)
    right = np.unique(rng.integers(0, 1000, 300))
    left = rng.integers(-5, 1100, 5000)
    assert (columns.sorted_member(left, right) == np.isin(left, right)).all()
    assert not columns.sorted_member(left, right[:0]).any()
