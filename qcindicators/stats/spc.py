"""Control limits for trends: p-charts for proportions, u-charts for rates, Laney's p′/u′ as an option.

With varying denominators each point has its own limits: centre c = Σx / Σn, σ_i = √(c(1−c)/n_i)
(p-chart) or √(c/n_i) (u-chart), limits c ± kσ_i (k = 3 by default), floored at 0 (and capped at
100 % for p). With very large denominators σ_i is tiny and every point signals; Laney (2002,
Quality Engineering 14:531–537) scales σ_i by σ_z, the average moving range of the z-scores
z_i = (y_i − c)/σ_i divided by 1.128. Rules flagged: a point outside the limits (`outside`), and a
run of 8 or more consecutive points on one side of the centre line (`run_8`; a point on the line
breaks a run).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import QCIError
from .intervals import interval_method

RUN_LENGTH = 8


def _runs(side: np.ndarray, length: int) -> np.ndarray:
    """True for every point inside a run of at least `length` equal non-zero sides."""
    if not len(side):
        return np.zeros(0, bool)
    starts = np.r_[True, side[1:] != side[:-1]]
    run_id = np.cumsum(starts) - 1
    run_len = np.bincount(run_id)
    return (run_len[run_id] >= length) & (side != 0)


def control_limits(x, n, scale: float, chart: str, sigma: float = 3.0, laney: bool = False) -> pd.DataFrame:
    """Centre, limits and rule flags for a series of numerators x over denominators n (arrays, in order)."""
    x, n = np.asarray(x, float), np.asarray(n, float)
    ok = n > 0
    if ok.sum() == 0:
        raise QCIError("控制图需要至少一个分母大于 0 的时期 / a control chart needs a period with a denominator above 0")
    c = x[ok].sum() / n[ok].sum()
    n_ = np.where(ok, n, np.nan)
    var = c * (1 - c) if chart == "p" else c
    s = np.sqrt(var / n_)
    y = x / n_
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, (y - c) / s, 0.0)
    sigma_z = 1.0
    if laney:
        zz = z[ok]
        sigma_z = float(np.mean(np.abs(np.diff(zz))) / 1.128) if len(zz) > 1 else 1.0
    half = sigma * s * sigma_z
    lcl = np.maximum(c - half, 0.0)
    ucl = np.minimum(c + half, 1.0) if chart == "p" else c + half
    outside = ok & ((y > ucl * (1 + 1e-12)) | (y < lcl * (1 - 1e-12)))
    side = np.where(ok, np.sign(np.round(y - c, 14)), 0).astype(int)
    run = _runs(side, RUN_LENGTH)
    return pd.DataFrame({"value": y * scale, "centre": c * scale, "lcl": lcl * scale, "ucl": ucl * scale,
                         "outside": outside, "run_8": run, "sigma_z": sigma_z})


def spc(result, indicator: str, unit=None, chart: str = "auto", sigma: float = 3.0, laney: bool = False) -> pd.DataFrame:
    """A control chart for one unit's series: period, numerator, denominator, value, centre, lcl, ucl, outside, run_8, signal.

    unit: the value of the result's `by` column (e.g. a facility_id); None for the region or the only unit.
    chart: "p" (proportions), "u" (rates) or "auto" from the indicator's interval method.

    Examples:
        >>> import qcindicators as qci
        >>> from qcindicators.synthetic import generate_tables, Size
        >>> r = qci.compute(generate_tables(Size(n_facilities=3)), ["inpatient_antibacterial_use_rate"], by=[])
        >>> chart = qci.spc(r, "inpatient_antibacterial_use_rate")
        >>> list(chart.columns[:4])
        ['period', 'numerator', 'denominator', 'value']
    """
    spec = result.specs.get(indicator) if getattr(result, "specs", None) else None
    if spec is None:
        raise QCIError(f"结果中没有指标 {indicator!r} / the result has no indicator {indicator!r}")
    if chart == "auto":
        chart = {"wilson": "p", "poisson": "u"}.get(interval_method(spec), "")
        if not chart:
            raise QCIError(f"控制图只适用于比例和率类指标 / control charts need a proportion or a rate; {indicator!r} is "
                           f"kind {spec.kind!r}")
    if chart not in ("p", "u"):
        raise QCIError(f"chart 应为 p、u 或 auto / chart must be 'p', 'u' or 'auto', got {chart!r}")
    rows = result.series(indicator, unit).sort_values("period").reset_index(drop=True)
    if not len(rows):
        raise QCIError(f"单位 {unit!r} 没有指标 {indicator!r} 的数据 / no rows of {indicator!r} for unit {unit!r}")
    limits = control_limits(rows["numerator"], rows["denominator"], spec.scale, chart, sigma, laney)
    out = pd.concat([rows[["period", "numerator", "denominator"]], limits], axis=1)
    out["chart"] = ("laney_" if laney else "") + chart
    out["signal"] = out["outside"] | out["run_8"]
    return out
