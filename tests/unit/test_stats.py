"""Intervals, funnel limits and control limits against published tables and hand computation."""
import math

import numpy as np
import pandas as pd
import pytest
from scipy import special

import qcindicators as qci
from qcindicators.result.result import Result
from qcindicators.spec.model import IndicatorSpec
from qcindicators.stats.intervals import garwood, wilson
from qcindicators.stats.spc import control_limits
from tests.unit.test_indicators_hand import aud_tables

Z95 = 1.959963984540054


# -- intervals ------------------------------------------------------------------------------
@pytest.mark.parametrize("x,n,low,high", [
    (0, 10, 0.0, 0.277533),        # Wilson 0/10: 0 – 27.75 % (Newcombe 1998, table I)
    (5, 10, 0.236594, 0.763406),   # 5/10: 23.66 – 76.34 %
    (10, 10, 0.722467, 1.0),       # 10/10: 72.25 – 100 %
    (81, 263, 0.255289, 0.366210),  # Newcombe's example 81/263: 0.2553 – 0.3662
])
def test_wilson_matches_published_values(x, n, low, high):
    lo, hi = wilson(x, n)
    assert lo == pytest.approx(low, abs=1e-6) and hi == pytest.approx(high, abs=1e-6)


def test_wilson_by_hand_formula_at_90_percent():
    z = 1.6448536269514722                       # 90 %
    p, n = 3 / 20, 20
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    lo, hi = wilson(3, 20, 0.90)
    assert (lo, hi) == pytest.approx((centre - half, centre + half))


def test_wilson_refuses_impossible_counts():
    lo, hi = wilson([11, -1, 1], [10, 10, 0])
    assert np.isnan(lo).all() and np.isnan(hi).all()


@pytest.mark.parametrize("x,low,high", [
    (0, 0.0, 3.688879),            # exact Poisson 95 % limits (Ulm 1990; Garwood 1936)
    (1, 0.025318, 5.571643),
    (10, 4.795389, 18.390358),
])
def test_garwood_matches_published_values(x, low, high):
    lo, hi = garwood(x, 1.0)
    assert lo == pytest.approx(low, abs=1e-5) and hi == pytest.approx(high, abs=1e-5)


def test_garwood_limits_are_the_poisson_tail_definition():
    # upper U: P(Poisson(U) <= x) = 2.5 %; lower L: P(Poisson(L) >= x) = 2.5 % (summed by hand)
    x = 4
    lo, hi = garwood(x, 1.0)
    cdf = lambda m, k: sum(math.exp(-m) * m ** i / math.factorial(i) for i in range(k + 1))   # noqa: E731
    assert cdf(float(hi), x) == pytest.approx(0.025, abs=1e-9)
    assert 1 - cdf(float(lo), x - 1) == pytest.approx(0.025, abs=1e-9)
    # non-integer DDD sums: the same tail identity through the regularised incomplete gamma function
    lo, hi = garwood(6.3, 1.0)
    assert special.gammainc(6.3, float(lo)) == pytest.approx(0.025, abs=1e-9)
    assert special.gammaincc(7.3, float(hi)) == pytest.approx(0.025, abs=1e-9)


def test_result_carries_intervals_by_kind_and_level():
    r = qci.compute(aud_tables(), ["antibacterial_use_density", "inpatient_antibacterial_use_rate"], period="month")
    f = r.to_frame().set_index(["indicator", "facility_id", "period"])
    aud = f.loc[("antibacterial_use_density", "F1", "2024-01")]
    # 6.3 DDD over 5 patient-days, ×100: exact Poisson limits of 6.3 events, divided by 5, ×100
    lo, hi = garwood(6.3, 5.0)
    assert (aud["ci_low"], aud["ci_high"]) == pytest.approx((lo * 100, hi * 100))
    assert aud["ci_low"] < aud["value"] < aud["ci_high"]
    use = f.loc[("inpatient_antibacterial_use_rate", "F1", "2024-01")]
    # E1 and E2 discharged in January, both received antibacterials: 2/2; Wilson: 34.24 % – 100 %
    assert use["value"] == 100.0
    assert use["ci_low"] == pytest.approx(34.2372, abs=1e-3) and use["ci_high"] == 100.0
    assert r.provenance["intervals"]["methods"] == {"antibacterial_use_density": "exact Poisson (Garwood)",
                                                    "inpatient_antibacterial_use_rate": "Wilson score"}
    r90 = qci.compute(aud_tables(), ["inpatient_antibacterial_use_rate"], period="month", confidence=0.90)
    use90 = r90.to_frame().set_index(["facility_id", "period"]).loc[("F1", "2024-01")]
    assert use90["ci_low"] > use["ci_low"]          # a lower level gives a narrower interval
    assert r90.provenance["intervals"]["level"] == 0.90


def test_no_interval_for_growth_ratio_and_attribute():
    tables = aud_tables()
    r = qci.compute(tables, ["inpatient_cost_per_discharge_growth", "inpatient_cost_per_discharge"], period="month")
    assert r.to_frame()[["ci_low", "ci_high"]].isna().all().all()


def test_confidence_level_is_checked():
    with pytest.raises(qci.QCIError, match="confidence level"):
        qci.compute(aud_tables(), ["antibacterial_use_density"], confidence=95)


# -- funnel limits --------------------------------------------------------------------------
def _result(rows, kind="proportion", by=("facility_id",)):
    spec = IndicatorSpec.model_validate({
        "id": "x", "name": {"zh": "测试", "en": "test"}, "unit": "%" if kind == "proportion" else "per 1000",
        "direction": "lower_is_better", "kind": kind, "source": {"document": "test"},
        "numerator": {"table": "discharges", "count": True}, "denominator": {"table": "discharges", "count": True},
        **({"multiplier": 1000} if kind == "rate" else {})})
    frame = pd.DataFrame(rows)
    frame["indicator"] = "x"
    frame["value"] = frame["numerator"] / frame["denominator"] * spec.scale
    for c in ("target", "ci_low", "ci_high"):
        frame[c] = np.nan
    frame["target_op"], frame["flags"], frame["met"] = "", "", pd.NA
    return Result(frame, pd.DataFrame(), {}, specs={"x": spec}, by=list(by))


def _binomial_limit(p, n, theta):
    """Spiegelhalter (2005) A.1.1 by hand: the interpolated p-quantile of Binomial(n, θ), over n."""
    cdf = np.cumsum([math.comb(n, k) * theta ** k * (1 - theta) ** (n - k) for k in range(n + 1)])
    r = int(np.argmax(cdf >= p - 1e-15))
    prev = cdf[r - 1] if r > 0 else 0.0
    a = (cdf[r] - p) / (cdf[r] - prev)
    return (r - a) / n


def _poisson_limit(p, lam, n):
    cdf = np.cumsum([math.exp(-lam) * lam ** k / math.factorial(k) for k in range(80)])
    r = int(np.argmax(cdf >= p - 1e-15))
    a = (cdf[r] - p) / (cdf[r] - (cdf[r - 1] if r else 0.0))
    return (r - a) / n


def test_funnel_binomial_limits_by_hand():
    # four units, 50 % overall: limits at n = 10 from the binomial(10, 0.5) distribution
    r = _result({"facility_id": ["A", "B", "C", "D"], "period": "2024", "numerator": [5, 10, 20, 65],
                 "denominator": [10, 20, 40, 130]})
    f = qci.funnel(r, "x")
    assert f.centre == pytest.approx(50.0)
    lim = f.limits([10]).iloc[0]
    assert lim["upper_95"] == pytest.approx(100 * _binomial_limit(0.975, 10, 0.5))
    assert lim["upper_95"] == pytest.approx(76.7548, abs=1e-3)        # (8 − 0.3245) / 10
    assert lim["lower_95"] == pytest.approx(100 * _binomial_limit(0.025, 10, 0.5))
    assert lim["upper_99.8"] == pytest.approx(100 * _binomial_limit(0.999, 10, 0.5))
    assert (f.units["position"] == "within").all()


def test_funnel_poisson_limits_and_positions():
    # rate per 1000: overall 26.7 per 1000; at n = 500 the expected count is 13.3
    r = _result({"facility_id": ["A", "B", "C"], "period": "2024", "numerator": [10, 30, 0],
                 "denominator": [500, 500, 500]}, kind="rate")
    f = qci.funnel(r, "x")
    assert f.model == "poisson" and f.centre == pytest.approx(40 / 1500 * 1000)
    theta = 40 / 1500
    lim = f.limits([500]).iloc[0]
    assert lim["upper_95"] == pytest.approx(1000 * _poisson_limit(0.975, 500 * theta, 500))
    assert lim["lower_99.8"] == pytest.approx(1000 * _poisson_limit(0.001, 500 * theta, 500))
    pos = dict(zip(f.units["facility_id"], f.units["position"]))
    # C: 0 events where 13.3 were expected is below even the 99.8 % limit; B: 30 is above it
    assert pos == {"A": "within", "B": "above_99.8", "C": "below_99.8"}


def test_funnel_overdispersion_multiplicative_and_additive_by_hand():
    rows = {"facility_id": list("ABCD"), "period": "2024", "numerator": [10, 20, 30, 40], "denominator": [100] * 4}
    # θ = 0.25, V = 0.1875, s = √(V/100) = 0.0433013; z = ±3.4641, ±1.1547; φ = (12 + 4/3 + 4/3 + 12) / 4 = 6.6667
    f = qci.funnel(_result(rows), "x", overdispersion="multiplicative", winsorize=0.0)
    assert f.phi == pytest.approx(20 / 3)
    lim = f.limits([100]).iloc[0]
    half = Z95 * math.sqrt(20 / 3) * math.sqrt(0.1875 / 100)
    assert lim["lower_95"] == pytest.approx(100 * (0.25 - half)) and lim["upper_95"] == pytest.approx(100 * (0.25 + half))
    assert (f.units["position"] == "within").all()
    # additive: w = n/V = 533.33 each; τ² = (Iφ − (I − 1)) / (Σw − Σw²/Σw) = (26.667 − 3) / 1600
    g = qci.funnel(_result(rows), "x", overdispersion="additive", winsorize=0.0)
    assert g.tau2 == pytest.approx((4 * 20 / 3 - 3) / 1600)
    lim = g.limits([100]).iloc[0]
    assert lim["upper_95"] == pytest.approx(100 * (0.25 + Z95 * math.sqrt(0.1875 / 100 + g.tau2)))
    assert lim["lower_95"] == 0.0                   # floored at zero


def test_funnel_winsorising_limits_an_outlier_and_never_narrows():
    rows = {"facility_id": list("ABCDEFGHIJ"), "period": "2024",
            "numerator": [24, 25, 26, 25, 24, 26, 25, 25, 24, 90], "denominator": [100] * 10}
    raw = qci.funnel(_result(rows), "x", overdispersion="multiplicative", winsorize=0.0)
    w = qci.funnel(_result(rows), "x", overdispersion="multiplicative", winsorize=0.1)
    assert w.phi < raw.phi
    z = raw.units["z"].to_numpy()
    lo, hi = np.quantile(z, [0.1, 0.9])
    assert w.phi == pytest.approx(np.mean(np.clip(z, lo, hi) ** 2))
    calm = {"facility_id": list("ABCD"), "period": "2024", "numerator": [25, 25, 25, 25], "denominator": [100] * 4}
    c = qci.funnel(_result(calm), "x", overdispersion="multiplicative")
    assert not c.adjusted and c.phi == 0.0         # under-dispersed: exact limits kept


def test_funnel_refuses_what_it_cannot_judge():
    r = _result({"facility_id": ["A"], "period": "2024", "numerator": [1], "denominator": [10]})
    with pytest.raises(qci.QCIError, match="two units"):
        qci.funnel(r, "x")
    with pytest.raises(qci.QCIError, match="no indicator"):
        qci.funnel(r, "y")


# -- control charts -------------------------------------------------------------------------
def test_p_chart_limits_by_hand():
    c = control_limits([5, 10, 15], [50, 100, 150], 100, "p")
    # centre 30/300 = 0.1; σ = √(0.09/n): n=50 → 0.042426, n=100 → 0.03
    assert c["centre"].iloc[0] == pytest.approx(10.0)
    assert c["ucl"].iloc[0] == pytest.approx(100 * (0.1 + 3 * math.sqrt(0.09 / 50)))
    assert c["lcl"].iloc[0] == 0.0
    assert (c["ucl"].iloc[1], c["lcl"].iloc[1]) == pytest.approx((19.0, 1.0))
    assert not c["outside"].any() and not c["run_8"].any()


def test_u_chart_limits_by_hand():
    c = control_limits([4, 9], [100, 100], 1000, "u")
    # centre 13/200 = 0.065; σ = √(0.065/100) = 0.0254951
    assert c["ucl"].iloc[0] == pytest.approx(1000 * (0.065 + 3 * math.sqrt(0.065 / 100)))
    assert c["lcl"].iloc[0] == 0.0


def test_laney_p_prime_by_hand():
    c = control_limits([100, 140, 60, 110], [1000] * 4, 100, "p", laney=True)
    cbar = 410 / 4000
    s = math.sqrt(cbar * (1 - cbar) / 1000)                 # 0.0095913
    z = [(v - cbar) / s for v in (0.1, 0.14, 0.06, 0.11)]   # −0.26, 3.91, −4.43, 0.78
    sigma_z = np.mean(np.abs(np.diff(z))) / 1.128          # 5.237
    assert c["sigma_z"].iloc[0] == pytest.approx(sigma_z)
    assert c["ucl"].iloc[0] == pytest.approx(100 * (cbar + 3 * s * sigma_z))
    plain = control_limits([100, 140, 60, 110], [1000] * 4, 100, "p")
    # plain p limits 10.25 ± 2.88 %: 14 % and 6 % signal; Laney's widen by σ_z and neither does
    assert list(np.flatnonzero(plain["outside"])) == [1, 2] and not c["outside"].any()


def test_run_of_eight_and_outside_rules():
    x = [5, 15, 5, 15, 5] + [12] * 8 + [5] * 4 + [40]
    c = control_limits(x, [100] * len(x), 100, "p")
    assert list(np.flatnonzero(c["run_8"])) == list(range(5, 13))
    assert list(np.flatnonzero(c["outside"])) == [17]


def test_spc_on_a_result_picks_the_unit_and_chart():
    r = _result({"facility_id": ["A"] * 3 + ["B"] * 3, "period": ["2024-01", "2024-02", "2024-03"] * 2,
                 "numerator": [1, 2, 3, 4, 5, 6], "denominator": [10] * 6})
    chart = qci.spc(r, "x", "B")
    assert list(chart["numerator"]) == [4, 5, 6] and chart["chart"].iloc[0] == "p"
    assert chart["centre"].iloc[0] == pytest.approx(50.0)
    with pytest.raises(qci.QCIError, match="name the unit"):
        qci.spc(r, "x")


# -- invariants -----------------------------------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 10_000), st.data(), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_wilson_contains_the_estimate_and_narrows_with_level(n, data, level):
    x = data.draw(st.integers(0, n))
    lo, hi = wilson(x, n, level)
    assert 0 <= lo <= x / n <= hi <= 1
    lo2, hi2 = wilson(x, n, 0.999)
    assert lo2 <= lo + 1e-12 and hi2 >= hi - 1e-12


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 5_000, allow_nan=False), st.floats(0.5, 1e6, allow_nan=False))
def test_garwood_contains_the_rate(x, exposure):
    lo, hi = garwood(x, exposure)
    assert lo <= x / exposure * (1 + 1e-9) and hi >= x / exposure


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(60, 400)), min_size=3, max_size=12), st.randoms())
def test_funnel_positions_do_not_depend_on_row_order(units, rnd):
    ids = [f"F{i}" for i in range(len(units))]
    rows = {"facility_id": ids, "period": "2024", "numerator": [u[0] for u in units], "denominator": [u[1] for u in units]}
    if sum(rows["numerator"]) == 0:
        return
    order = list(range(len(ids)))
    rnd.shuffle(order)
    shuffled = {k: ([v[i] for i in order] if isinstance(v, list) else v) for k, v in rows.items()}
    a = qci.funnel(_result(rows), "x", overdispersion="additive").units.set_index("facility_id")["position"]
    b = qci.funnel(_result(shuffled), "x", overdispersion="additive").units.set_index("facility_id")["position"]
    assert a.sort_index().tolist() == b.sort_index().tolist()
