"""Confidence intervals for indicator values, vectorised over whole result grids.

Proportions use the Wilson score interval (it stays inside 0–100 % and behaves at 0/n and n/n,
where the textbook Wald interval collapses to a point). Rates of a count to an exposure use the
exact Poisson (Garwood) interval; DDDs per 100 patient-days is treated as such a rate, with the
chi-square quantiles taken at non-integer degrees of freedom when the DDD sum is not whole.
Growth, attribute, ratio, mean and count indicators have no interval: their values are not
a count out of a denominator (or the definition says otherwise with `interval:`).
"""
from __future__ import annotations

import numpy as np
from scipy import special
from ..errors import QCIError

INTERVAL_METHODS = {"wilson": "Wilson score", "poisson": "exact Poisson (Garwood)", "none": "none"}
DEFAULT_BY_KIND = {"proportion": "wilson", "rate": "poisson"}


def interval_method(spec) -> str:
    """The method a definition uses: its own `interval:` or the default for its kind."""
    return spec.interval or DEFAULT_BY_KIND.get(spec.kind, "none")


def z_of_level(level: float) -> float:
    if not 0 < level < 1:
        raise QCIError(f"置信水平应在 0 与 1 之间 / confidence level must be between 0 and 1, got {level!r}")
    return float(special.ndtri(0.5 + level / 2))


def wilson(x, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for x successes out of n, as proportions (0–1). NaN where n <= 0 or x not in [0, n]."""
    x, n = np.asarray(x, float), np.asarray(n, float)
    z = z_of_level(level)
    ok = (n > 0) & (x >= 0) & (x <= n * (1 + 1e-12))
    n_ = np.where(ok, n, 1.0)
    p = np.clip(np.where(ok, x, 0.0) / n_, 0, 1)
    denom = 1 + z * z / n_
    centre = (p + z * z / (2 * n_)) / denom
    half = z / denom * np.sqrt(p * (1 - p) / n_ + z * z / (4 * n_ * n_))
    low = np.where(p == 0, 0.0, centre - half)    # exact at the bounds, not 1e-17 from rounding
    high = np.where(p == 1, 1.0, centre + half)
    return np.where(ok, low, np.nan), np.where(ok, high, np.nan)


def garwood(x, exposure, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact Poisson interval for x events over `exposure`, as events per unit of exposure."""
    x, e = np.asarray(x, float), np.asarray(exposure, float)
    alpha = 1 - level
    z_of_level(level)
    ok = (e > 0) & (x >= 0)
    x_ = np.where(ok, x, 0.0)
    with np.errstate(invalid="ignore"):
        low = np.where(x_ > 0, special.gammaincinv(np.where(x_ > 0, x_, 1), alpha / 2), 0.0)
        high = special.gammaincinv(x_ + 1, 1 - alpha / 2)
    low = np.where(np.isnan(low) & (x_ > 0), 0.0, low)   # x of a few 1e-300: the quantile underflows to NaN; the limit is 0
    e_ = np.where(ok, e, 1.0)
    return np.where(ok, low / e_, np.nan), np.where(ok, high / e_, np.nan)


def interval(method: str, numerator, denominator, scale: float, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) in the indicator's unit (scale applied), NaN where the method gives none."""
    num = np.asarray(numerator, float)
    if method == "wilson":
        low, high = wilson(numerator, denominator, level)
    elif method == "poisson":
        low, high = garwood(numerator, denominator, level)
    else:
        return np.full(num.shape, np.nan), np.full(num.shape, np.nan)
    return low * scale, high * scale
