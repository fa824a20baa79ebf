"""Partials of partitions merged: every measure grouped by the row's own county on the same county labels."""
import numpy as np

from qcindicators.compile.plan import compile_plan
from qcindicators.engine.partials import CountyArrays, PartialKey, Partials, Role
from qcindicators.result.combine import Combiner
from qcindicators.result.grouping import grouping_of
from qcindicators.spec.load import builtin_catalog
from tests.conftest import facilities

Y2024 = 2024 - 1970


def county_part(plan, counts: dict[str, dict[str, float]], labels: list[str]) -> Partials:
    """One partition's partials of in_county_visit_rate: per measure, rows per patient county (2024 only)."""
    part = Partials(3, "year", {m.key: m.agg for m in plan.measures()}, lo=Y2024, width=1)
    for key, by_label in counts.items():
        col = np.array([[by_label.get(c, 0.0)] for c in labels])
        part.county[key] = CountyArrays(list(labels), {PartialKey(key, Role.VALUE): col, PartialKey(key, Role.SUPPORT): col})
    return part


def test_a_partition_without_one_table_leaves_the_county_labels_of_every_measure_aligned():
    """A partition of clinics has visits but no discharges, and met its patients' counties in another order:
    the discharge measures exist only in the other partition, and their rows must still go to their own county."""
    plan = compile_plan(builtin_catalog(), ["in_county_visit_rate"])
    node = plan.nodes[0]
    dis = [k for k in node.numerator + node.denominator if k.startswith("discharges")]
    vis = [k for k in node.numerator + node.denominator if k.startswith("visits")]
    num_d, den_d = [k for k in dis if k in node.numerator][0], [k for k in dis if k in node.denominator][0]
    num_v, den_v = [k for k in vis if k in node.numerator][0], [k for k in vis if k in node.denominator][0]
    hospital = county_part(plan, {num_d: {"A": 2}, den_d: {"A": 2}, num_v: {"A": 1}, den_v: {"A": 1}}, ["A", "B"])
    clinics = county_part(plan, {num_v: {"B": 3}, den_v: {"B": 3, "A": 1}}, ["B", "A"])     # no discharges
    fac = facilities()
    for merged in (clinics.merged(hospital), hospital.merged(clinics)):
        labels = next(iter(merged.county.values())).labels
        c = Combiner(plan, merged, fac, grouping_of(fac, ["county"], labels), None)
        c.run()
        got = c.frame().set_index("county")
        assert (got.loc["A", "numerator"], got.loc["A", "denominator"]) == (3, 4)       # 2 + 1 of 2 + 1 + 1
        assert (got.loc["B", "numerator"], got.loc["B", "denominator"]) == (3, 3)


def test_an_empty_partition_does_not_widen_the_merged_window_to_1970():
    """A partition with no placed rows has the empty window 0…−1: merging it keeps the other's window."""
    plan = compile_plan(builtin_catalog(), ["in_county_visit_rate"])
    aggs = {m.key: m.agg for m in plan.measures()}
    empty = Partials(3, "year", aggs, lo=0, width=0)
    full = Partials(3, "year", aggs, lo=Y2024, width=1)
    key = PartialKey(plan.measures()[0].key, Role.VALUE)
    full.arrays[key] = np.array([[1.0], [2.0], [0.0]])
    for merged in (empty.merged(full), full.merged(empty)):
        assert (merged.lo, merged.cols) == (Y2024, 1)
        assert merged.array(key.measure)[:, 0].tolist() == [1, 2, 0]
