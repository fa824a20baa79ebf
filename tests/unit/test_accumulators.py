"""The accumulator's period window: batches in any order of periods give the arrays of one big batch."""
import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st

from qcindicators.engine.accumulators import GrainAccumulator, LabelRegistry
from qcindicators.engine.partials import Role

AGGS = {"n": "count", "total": "sum", "peak": "max"}


def feed(acc, units, periods, values):
    valid = periods >= 0
    cells = acc.cells_of(units, periods, valid)
    acc.add("n", Role.VALUE, cells[valid])
    acc.add("total", Role.VALUE, cells[valid], values[valid])
    acc.add("peak", Role.VALUE, cells[valid], values[valid])
    county = acc.counties.codes(pd.Series(np.where(units % 2, "B", "A")))      # a row's own county
    acc.add_county("total", Role.VALUE, county[valid], periods[valid], values[valid])


def test_the_window_holds_only_the_periods_met():
    acc = GrainAccumulator(3, "month", AGGS, LabelRegistry())
    feed(acc, np.array([0, 1]), np.array([650, 660]), np.array([1.0, 2.0]))
    feed(acc, np.array([2]), np.array([640]), np.array([5.0]))        # earlier: the window grows to the left
    part = acc.partials()
    assert (part.lo, part.cols) == (640, 21)
    assert part.array("total")[:, [0, 10, 20]].tolist() == [[0, 1, 0], [0, 0, 2], [5, 0, 0]]
    assert np.isnan(part.array("peak")[0, 0]) and part.array("peak")[2, 0] == 5


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(-1, 60), st.floats(-1e6, 1e6)), min_size=1, max_size=60),
       st.lists(st.integers(1, 60), min_size=1, max_size=6))
def test_any_batching_of_any_periods_equals_one_batch(rows, cuts):
    units = np.array([r[0] for r in rows])
    periods = np.array([r[1] for r in rows]) + 600
    periods[np.array([r[1] for r in rows]) < 0] = -1              # rows without a period are left out
    values = np.array([r[2] for r in rows])
    whole = GrainAccumulator(4, "month", AGGS, LabelRegistry())
    feed(whole, units, periods, values)
    batched = GrainAccumulator(4, "month", AGGS, LabelRegistry())
    edges = sorted({0, len(rows), *[c % len(rows) for c in cuts]})
    for a, b in zip(edges, edges[1:]):
        feed(batched, units[a:b], periods[a:b], values[a:b])
    one, many = whole.partials(), batched.partials()
    assert (one.lo, one.cols) == (many.lo, many.cols)
    for key in one.arrays:
        np.testing.assert_allclose(many.arrays[key], one.arrays[key], rtol=1e-12, atol=1e-6)
    for key in one.county["total"].arrays:
        np.testing.assert_allclose(many.county["total"].arrays[key], one.county["total"].arrays[key], rtol=1e-12, atol=1e-6)
