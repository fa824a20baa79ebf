"""Shortcuts taken for speed give exactly what the plain computation gives."""
from unittest import mock

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from qcindicators.io import coerce
from qcindicators.schemas import pandera_schemas

NUMBERS = st.one_of(st.none(), st.floats(-5, 200, allow_nan=False), st.sampled_from([0.0, 150.0, 150.5, -0.0]))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.sampled_from(["Z1", "Z2"])), NUMBERS, NUMBERS, NUMBERS),
                min_size=1, max_size=12),
       st.booleans())
def test_pandera_skipped_only_where_it_finds_nothing(rows, drop_required):
    """A batch the quick screen passes is one pandera passes too; any other batch gets pandera's own failures."""
    frame = pd.DataFrame(rows, columns=["encounter_id", "age", "los_days", "total_cost"])
    frame = frame.astype({"encounter_id": "str", "age": "float64", "los_days": "float64", "total_cost": "float64"})
    if drop_required:
        frame = frame.drop(columns=["total_cost"])
    columns = ["age", "encounter_id", "los_days", "total_cost"]
    quick = pandera_schemas.pandera_failures(frame, "discharges", columns, check_keys=False)
    with mock.patch.object(pandera_schemas, "_surely_passes", lambda schema, frame: False):
        full = pandera_schemas.pandera_failures(frame, "discharges", columns, check_keys=False)
    pd.testing.assert_frame_equal(quick.reset_index(drop=True), full.reset_index(drop=True))
    screened = pandera_schemas._surely_passes(pandera_schemas.build_schema("discharges", columns, False), frame)
    assert screened == (len(full) == 0)


def test_pandera_still_reports_a_value_below_its_bound():
    frame = pd.DataFrame({"encounter_id": ["Z1", "Z2"], "total_cost": [10.0, -1.0]}).astype({"encounter_id": "str"})
    out = pandera_schemas.pandera_failures(frame, "discharges", ["encounter_id", "total_cost"], check_keys=False)
    assert out[["column", "row", "rule"]].values.tolist() == [["total_cost", 2, "range:min"]]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-25_567, 47_846), min_size=1, max_size=30),
       st.lists(st.integers(0, 86_400 * 10**9), min_size=1, max_size=30),
       st.sampled_from(["s", "ms", "us", "ns"]))
def test_time_of_day_by_division_equals_the_remainder(days, offsets, unit):
    """Dates inside DATE_YEARS (1900–2100), at midnight or not: the floating-point test agrees with the int64
    remainder."""
    per_day = 86_400 * {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[unit]
    ticks = np.array(days, np.int64) * per_day
    k = min(len(ticks), len(offsets))
    ticks[:k] += np.array(offsets[:k], np.int64) % per_day
    raw = ticks.view(f"M8[{unit}]").copy()
    raw[::7] = np.datetime64("NaT")
    want = ~np.isnat(raw) & (ticks % per_day != 0)
    assert (coerce._time_of_day(raw, unit) == want).all()


def test_blank_categories_are_judged_by_their_text():
    s = pd.Series(pd.Categorical(["A", " ", "NULL", "\u3000", "n/a ", "B", None]))
    assert coerce.blank_as_missing(s).isna().tolist() == [False, True, True, True, True, False, True]
    again = pd.Series(pd.Categorical(["NULL", "A"]))      # the same labels in another batch's dictionary
    assert coerce.blank_as_missing(again).isna().tolist() == [True, False]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=" \t\u3000\u00a0AZ9中-\x7f", max_size=6), min_size=1, max_size=30))
def test_blank_text_screen_misses_no_blank(values):
    """The byte screen only narrows what is stripped and compared: the result is the plain pandas one."""
    s = pd.Series(values, dtype="str")
    plain = s.str.strip().isin(coerce.NULL_TOKENS)
    assert coerce.blank_as_missing(s).isna().tolist() == plain.tolist()
