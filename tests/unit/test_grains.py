"""Class grains against a naive oracle: share, count and mean of the facilities' own values, and pooled totals."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from qcindicators.engine.conditions import with_conditions
from qcindicators.result.grains import class_rows, compare
from qcindicators.spec.load import builtin_catalog
from qcindicators.spec.model import TargetSetEntry

SETTINGS = dict(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LEVELS = [0, 1, 2, 3]


@st.composite
def region(draw):
    n = draw(st.integers(1, 8))
    fac = pd.DataFrame({"facility_id": [f"F{i}" for i in range(n)],
                        "level": [draw(st.sampled_from(LEVELS)) for _ in range(n)],
                        "county": [draw(st.sampled_from(["X", "Y"])) for _ in range(n)]})
    values = [draw(st.one_of(st.none(), st.integers(0, 8))) for _ in range(n)]
    num = [draw(st.integers(0, 50)) for _ in range(n)]
    den = [draw(st.integers(0, 50)) for _ in range(n)]
    frame = pd.DataFrame({"indicator": "emr_level", "facility_id": fac["facility_id"], "period": "2024",
                          "value": [np.nan if v is None else float(v) for v in values],
                          "numerator": [float(x) for x in num], "denominator": [float(x) for x in den]})
    return fac, frame.dropna(subset=["value"])


def entry(grain, **kw):
    return TargetSetEntry(indicator="emr_level", grain=grain, when="level >= 2", value=">= 1", **kw)


@settings(**SETTINGS)
@given(region(), st.integers(0, 8))
def test_share_count_mean_match_a_naive_oracle(data, level):
    fac, frame = data
    fac = with_conditions(fac, ["level >= 2"])      # the class condition, evaluated by the engine as the plan says
    specs = {"emr_level": builtin_catalog()["emr_level"]}
    members = set(fac.loc[fac["level"] >= 2, "facility_id"])
    vals = [v for f, v in zip(frame["facility_id"], frame["value"]) if f in members]
    rows = class_rows(frame, [entry("facility_share", criterion=f">= {level}"), entry("facility_count", criterion=f">= {level}"),
                              entry("facility_mean")], fac, specs)
    if frame.empty:
        assert rows.empty
        return
    got = rows.set_index("grain")["value"]
    meeting = sum(v >= level for v in vals)
    assert got["facility_count"] == meeting
    if vals:
        assert got["facility_share"] == pytest.approx(100 * meeting / len(vals))
        assert got["facility_mean"] == pytest.approx(sum(vals) / len(vals))
    else:
        assert np.isnan(got["facility_share"]) and np.isnan(got["facility_mean"])
    missing = len(members) - len(vals)
    assert all(("facilities_without_value:%d" % missing in f) == bool(missing) for f in rows["flags"])


@settings(**SETTINGS)
@given(region())
def test_counties_add_up_to_the_region(data):
    fac, frame = data
    fac = with_conditions(fac, ["level >= 2"])
    specs = {"emr_level": builtin_catalog()["emr_level"]}
    whole = class_rows(frame, [entry("facility_count", criterion=">= 4")], fac, specs)
    per = class_rows(frame, [entry("facility_count", criterion=">= 4", per="county")], fac, specs)
    if frame.empty:
        return
    assert per["value"].sum() == whole["value"].sum()
    assert set(per["county"]) == set(fac["county"])      # a county without members still has a row (0)


def test_compare_is_tolerant_and_keeps_missing():
    got = compare(np.array([4.0, 4.0 - 1e-12, 3.9, np.nan]), ">= 4")
    assert got[:3].tolist() == [1.0, 1.0, 0.0] and np.isnan(got[3])
