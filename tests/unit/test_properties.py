"""Invariants, checked against a deliberately naive row-by-row oracle kept here."""
import math
from collections import defaultdict

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings, strategies as st

import qcindicators as qci
from tests.conftest import facilities
from tests.unit.test_indicators_hand import dictionary

FACS = ["F1", "F2", "F3"]
CODES = ["D1", "D2", "D3", "D4", "D6"]
PER_UNIT = {"D1": 0.5, "D2": 1.0, "D3": 0.48 / 3.6, "D4": 0.0, "D6": 1 / 3}   # D4 is not an antibacterial
SETTINGS = dict(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def hospital_data(draw):
    n = draw(st.integers(1, 12))
    stays = []
    for i in range(n):
        fac = draw(st.sampled_from(FACS))
        admit = pd.Timestamp("2023-01-01") + pd.Timedelta(days=draw(st.integers(0, 700)))
        los = draw(st.integers(0, 40))
        stays.append({"encounter_id": f"E{i}", "facility_id": fac, "admit_date": admit.strftime("%Y-%m-%d"),
                      "discharge_date": (admit + pd.Timedelta(days=los)).strftime("%Y-%m-%d"),
                      "total_cost": float(draw(st.integers(0, 50_000))),
                      "drug_cost": draw(st.one_of(st.none(), st.floats(0, 0, allow_nan=False), st.integers(0, 100)))})
    lines = []
    for s in stays:
        for _ in range(draw(st.integers(0, 4))):
            day = pd.Timestamp(s["admit_date"]) + pd.Timedelta(days=draw(st.integers(0, 30)))
            lines.append({"encounter_id": s["encounter_id"], "facility_id": s["facility_id"], "setting": "inpatient",
                          "order_date": day.strftime("%Y-%m-%d"), "drug_code": draw(st.sampled_from(CODES)),
                          "quantity": float(draw(st.integers(-2, 6)))})
    d = pd.DataFrame(stays)
    d["drug_cost"] = np.minimum(d["drug_cost"].astype(float), d["total_cost"])
    cols = ["encounter_id", "facility_id", "setting", "order_date", "drug_code", "quantity"]
    return {"facilities": facilities(), "discharges": d, "drug_orders": pd.DataFrame(lines, columns=cols),
            "drug_dictionary": dictionary()}


def oracle(data):
    """Row by row, the obvious way: {(facility, month): (ddd, days, cost sum, cost n)}."""
    ddd, days, cost, n = defaultdict(float), defaultdict(float), defaultdict(float), defaultdict(int)
    for row in data["drug_orders"].itertuples():
        if row.drug_code != "D4":      # an antiviral line is outside the numerator's filter: no row of its own
            ddd[(row.facility_id, row.order_date[:7])] += row.quantity * PER_UNIT[row.drug_code]
    for row in data["discharges"].itertuples():
        key = (row.facility_id, row.discharge_date[:7])
        gap = (pd.Timestamp(row.discharge_date) - pd.Timestamp(row.admit_date)).days
        days[key] += max(gap, 1)
        cost[key] += row.total_cost
        n[key] += 1
    return ddd, days, cost, n


def by_key(result, indicator):
    f = result.to_frame()
    f = f[f["indicator"] == indicator]
    return {(r.facility_id, r.period): r for r in f.itertuples()}


@settings(**SETTINGS)
@given(hospital_data())
def test_matches_naive_oracle(data):
    r = qci.compute(data, ["antibacterial_use_density", "inpatient_cost_per_discharge"], period="month")
    ddd, days, cost, n = oracle(data)
    aud = by_key(r, "antibacterial_use_density")
    for key in set(ddd) | set(days):
        row = aud[key]
        assert math.isclose(row.numerator, ddd.get(key, 0.0), rel_tol=1e-9, abs_tol=1e-9)
        assert row.denominator == days.get(key, 0.0)
        if days.get(key, 0.0) == 0:
            assert math.isnan(row.value) and "zero_denominator" in row.flags
        else:
            assert math.isclose(row.value, ddd.get(key, 0.0) * 100 / days[key], rel_tol=1e-9, abs_tol=1e-9)
    assert set(aud) == set(ddd) | set(days)
    mean = by_key(r, "inpatient_cost_per_discharge")
    for key in n:
        assert math.isclose(mean[key].value, cost[key] / n[key], rel_tol=1e-9)


def _sorted(frame):
    by = [c for c in ("indicator", "facility_id", "county", "period") if c in frame.columns]
    return frame.sort_values(by).reset_index(drop=True)


@settings(**SETTINGS)
@given(hospital_data(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(data, rnd):
    ids = ["antibacterial_use_density", "antibacterial_use_density_discharge_cohort", "inpatient_cost_per_discharge_growth"]
    a = qci.compute(data, ids, period="quarter").to_frame()
    shuffled = {k: v.sample(frac=1, random_state=rnd.randint(0, 10**6)).reset_index(drop=True) for k, v in data.items()}
    b = qci.compute(shuffled, ids, period="quarter").to_frame()
    pd.testing.assert_frame_equal(_sorted(a), _sorted(b), check_exact=False, rtol=1e-12)


@settings(**SETTINGS)
@given(hospital_data())
def test_split_by_facility_gives_the_same_partials(data):
    ids = ["antibacterial_use_density", "inpatient_cost_per_discharge"]
    whole = _sorted(qci.compute(data, ids, period="month").to_frame())
    parts = []
    for fac in FACS:
        part = {k: (v[v["facility_id"] == fac] if k in ("discharges", "drug_orders") else v) for k, v in data.items()}
        parts.append(qci.compute(part, ids, period="month").to_frame())
    split = _sorted(pd.concat(parts, ignore_index=True))
    # partial_period is a property of the whole data set (the months its tables span, region-wide), not of a
    # facility: a facility computed alone may span fewer months than the region it belongs to
    for f in (whole, split):
        f["flags"] = f["flags"].str.replace(r";?partial_period", "", regex=True).str.strip(";")
    pd.testing.assert_frame_equal(whole, split, check_exact=False, rtol=1e-12)


@settings(**SETTINGS)
@given(hospital_data())
def test_rollup_equals_sum_of_parts(data):
    ids = ["antibacterial_use_density", "inpatient_cost_per_discharge"]
    fac = qci.compute(data, ids, period="year").to_frame()
    county = qci.compute(data, ids, by=["county"], period="year").to_frame()
    region = qci.compute(data, ids, by=[], period="year").to_frame()
    county_of = facilities().set_index("facility_id")["county"]
    fac["county"] = fac["facility_id"].map(county_of)
    summed = fac.groupby(["indicator", "county", "period"])[["numerator", "denominator"]].sum()
    got = county.set_index(["indicator", "county", "period"])[["numerator", "denominator"]]
    pd.testing.assert_frame_equal(summed.sort_index(), got.sort_index(), check_exact=False, rtol=1e-12,
                                  check_column_type=False, check_index_type=False)
    total = fac.groupby(["indicator", "period"])[["numerator", "denominator"]].sum()
    pd.testing.assert_frame_equal(total.sort_index(), region.set_index(["indicator", "period"])[["numerator", "denominator"]].sort_index(),
                                  check_exact=False, rtol=1e-12, check_column_type=False, check_index_type=False)


def test_zero_denominators_never_give_inf_or_zero():
    data = {"facilities": facilities(), "facility_periods": pd.DataFrame(
        [{"facility_id": f, "period": "2024", "ic_staff": s, "open_beds": 0.0} for f, s in (("F1", 0.0), ("F2", 2.0))])}
    f = qci.compute(data, ["ic_staff_per_250_beds"], period="year").to_frame()
    assert f["value"].isna().all() and (f["flags"] == "zero_denominator").all()
    assert not np.isinf(f["value"]).any()
