"""combine on hand-built partials: what any engine hands over becomes the same values, at any grouping."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from qcindicators.compile.plan import compile_plan
from qcindicators.engine.partials import Distinct, PartialKey, Partials, Role
from qcindicators.engine.periods import SPAN
from qcindicators.result.combine import Combiner
from qcindicators.result.grouping import grouping_of
from qcindicators.spec.load import builtin_catalog
from tests.conftest import facilities

Y2024 = 2024 - 1970       # the year's code on the absolute axis


def plan_for(ident):
    return compile_plan(builtin_catalog(), [ident])


def alos_partials(los, stays):
    """average_length_of_stay: sum(los_days) ÷ count(*) of discharges, per facility in 2024."""
    plan = plan_for("average_length_of_stay")
    node = plan.nodes[0]
    (num,), (den,) = node.numerator, node.denominator
    part = Partials(3, "year", {m.key: m.agg for m in plan.measures()})
    for key, values in ((num, los), (den, stays)):
        arr = np.zeros((3, SPAN["year"]))
        arr[:, Y2024] = values
        part.arrays[PartialKey(key, Role.VALUE)] = arr
        support = np.zeros((3, SPAN["year"]))
        support[:, Y2024] = stays
        part.arrays[PartialKey(key, Role.SUPPORT)] = support
    return plan, part


def frame(plan, part, by):
    fac = facilities()
    c = Combiner(plan, part, fac, grouping_of(fac, by, None), None)
    c.run()
    return c.frame()


def test_ratio_by_facility_and_rolled_up_by_summing():
    plan, part = alos_partials([40.0, 9.0, 0.0], [4, 1, 0])
    f = frame(plan, part, ["facility_id"]).set_index("facility_id")
    assert f.loc["F1", "value"] == 10 and f.loc["F2", "value"] == 9
    assert "F3" not in f.index                          # no rows: no row, not a zero
    county = frame(plan, part, ["county"]).set_index("county")
    assert county.loc["A", "value"] == pytest.approx(49 / 5)     # (40 + 9) ÷ (4 + 1), never the mean of 10 and 9
    region = frame(plan, part, [])
    assert (region["numerator"].iloc[0], region["denominator"].iloc[0], region["period"].iloc[0]) == (49, 5, "2024")


def test_distinct_counts_are_counted_at_each_grain_never_summed():
    # liability_insurance_coverage counts distinct facility ids; a distinct value seen in two facilities
    # counts once at the county and region grain
    d = Distinct.of_values(np.array([0, 1, 1]), np.array([Y2024] * 3), np.array(["x", "x", "y"], dtype=object), scoped=False)
    assert d.counts(np.arange(3), 3, 0, SPAN["year"])[:, Y2024].tolist() == [1, 2, 0]
    assert d.counts(np.array([0, 0, 1]), 2, 0, SPAN["year"])[:, Y2024].tolist() == [2, 0]      # x, y in county A
    scoped = Distinct(d.facility, d.period, d.code, d.labels, scoped=True)   # stay ids: "x" in two hospitals is two stays
    assert scoped.counts(np.array([0, 0, 1]), 2, 0, SPAN["year"])[:, Y2024].tolist() == [3, 0]


def test_partials_of_two_parts_merge_exactly():
    plan, a = alos_partials([40.0, 0.0, 0.0], [4, 0, 0])
    _, b = alos_partials([0.0, 9.0, 0.0], [0, 1, 0])
    _, whole = alos_partials([40.0, 9.0, 0.0], [4, 1, 0])
    pd.testing.assert_frame_equal(frame(plan, a.merged(b), ["county"]), frame(plan, whole, ["county"]))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1e4), st.integers(1, 50)), min_size=3, max_size=3),
       st.permutations([0, 1, 2]))
def test_any_split_of_facilities_merges_to_the_whole(rows, order):
    los, stays = [r[0] for r in rows], [r[1] for r in rows]
    plan, whole = alos_partials(los, stays)
    first = [i in order[:1] for i in range(3)]
    _, a = alos_partials([x if k else 0 for x, k in zip(los, first)], [s if k else 0 for s, k in zip(stays, first)])
    _, b = alos_partials([0 if k else x for x, k in zip(los, first)], [0 if k else s for s, k in zip(stays, first)])
    for by in (["facility_id"], ["county"], []):
        pd.testing.assert_frame_equal(frame(plan, a.merged(b), by), frame(plan, whole, by), rtol=1e-12)


def test_scoped_distinct_of_partitions_sharing_a_facility_is_still_a_union():
    """Stay ids of two parts of one facility (not a partition of whole facilities): the same stay counts once."""
    a = Distinct.of_values(np.array([0, 0]), np.array([Y2024] * 2), np.array(["s1", "s2"], dtype=object), scoped=True)
    b = Distinct.of_values(np.array([0, 1]), np.array([Y2024] * 2), np.array(["s2", "s2"], dtype=object), scoped=True)
    assert a.merged(b).counts(np.arange(2), 2, 0, SPAN["year"])[:, Y2024].tolist() == [2, 1]
    c = Distinct.of_values(np.array([1]), np.array([Y2024]), np.array(["s1"], dtype=object), scoped=True)
    assert a.merged(c).counts(np.array([0, 0]), 1, 0, SPAN["year"])[:, Y2024].tolist() == [3]   # s1 in two hospitals: two stays


def test_packed_partials_hold_only_the_used_periods_and_give_the_same_numbers():
    plan, part = alos_partials([40.0, 9.0, 0.0], [4, 1, 0])
    key = next(iter(part.arrays))
    part.aggs["peak"] = "max"                       # a maximum: empty cells are NaN, not 0
    peak = np.full((3, SPAN["year"]), np.nan)
    peak[1, Y2024 - 1] = 7.0
    part.arrays[PartialKey("peak", Role.VALUE)] = peak
    packed = part.packed()
    assert packed.lo == Y2024 - 1 and packed.arrays[key].shape == (3, 2)
    back = packed.windowed(0, SPAN["year"])
    for k, arr in part.arrays.items():
        np.testing.assert_array_equal(back.arrays[k], arr)
    pd.testing.assert_frame_equal(frame(plan, packed, ["county"]), frame(plan, part, ["county"]))
    pd.testing.assert_frame_equal(frame(plan, back, ["county"]), frame(plan, part, ["county"]))


def test_partials_on_different_windows_merge_on_their_union():
    """A partition with 2023 only and one with 2024 only: the merge holds both years, nothing shifted."""
    plan, a = alos_partials([40.0, 0.0, 0.0], [4, 0, 0])
    _, b = alos_partials([0.0, 9.0, 0.0], [0, 1, 0])
    b.arrays = {k: np.roll(arr, -1, axis=1) for k, arr in b.arrays.items()}     # b's stays are in 2023
    merged = a.packed().merged(b.packed())
    assert (merged.lo, merged.cols) == (Y2024 - 1, 2)
    f = frame(plan, merged, ["facility_id"]).set_index(["facility_id", "period"])
    assert f.loc[("F1", "2024"), "value"] == 10 and f.loc[("F2", "2023"), "value"] == 9
    pd.testing.assert_frame_equal(frame(plan, merged, []), frame(plan, a.merged(b), []))


def test_a_window_too_narrow_for_the_numbers_is_an_error_never_a_loss():
    _, part = alos_partials([40.0, 9.0, 0.0], [4, 1, 0])
    with pytest.raises(ValueError, match="do not fit the window"):
        part.windowed(Y2024 + 1, 3)
