"""Database URLs are masked; a window covers only whole periods; a facility subset is trimmed or flagged."""
import numpy as np
import pandas as pd

from qcindicators.io.dburl import is_database_url, mask_url, scrub
from qcindicators.io.window import Window, trim_to_window


def test_urls_are_recognised_and_masked():
    assert is_database_url("postgresql://u:p@h/db") and is_database_url("duckdb:///x.duckdb")
    assert not is_database_url("data/sample") and not is_database_url("file:///tmp/x")
    assert mask_url("postgresql://qci:s3cr%40t@h:5432/db") == "postgresql://qci:***@h:5432/db"
    assert mask_url("postgresql://qci:abc@h:5432/db") == "postgresql://qci:***@h:5432/db"
    assert mask_url("sqlite:///a.db") == "sqlite:///a.db"

    class U:
        password = "abc"
    assert scrub("failed for abc here", U()) == "failed for *** here"


def test_window_covers_whole_periods_only():
    w = Window("2024-02", "2024-12")
    labels = pd.Series(["2024-01", "2024-02", "2024-12", "2025-01", "2024Q1", "2024Q2", "2024", "2023"])
    assert w.covers(labels).tolist() == [False, True, True, False, False, True, False, False]
    lo, hi = w.bounds
    assert (lo, hi) == (np.datetime64("2024-02-01"), np.datetime64("2025-01-01"))
    assert Window(end="2024-06").covers(pd.Series(["2024", "2024Q2", "1999-01"])).tolist() == [False, True, True]


def test_facility_subset_trims_facility_rows_and_flags_wider_groups():
    w = Window(facilities=["F1"])
    by_fac = pd.DataFrame({"indicator": "x", "facility_id": ["F1", "F2"], "period": "2024", "flags": ["", ""]})
    assert trim_to_window(by_fac, w, ["facility_id"])["facility_id"].tolist() == ["F1"]
    region = pd.DataFrame({"indicator": "x", "period": ["2024"], "flags": ["zero_denominator"]})
    assert trim_to_window(region, w, [])["flags"].tolist() == ["zero_denominator;facility_subset"]
    assert trim_to_window(region, None, []) is region
