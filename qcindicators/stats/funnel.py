"""Funnel-plot limits for comparing units (Spiegelhalter 2005).

Statistics in Medicine 24:1185–1202 ("Funnel plots for comparing institutional performance") gives
the exact limits used here: the p-quantile r_p of Binomial(n, θ) — or Poisson(nθ) for a rate —
interpolated, y_p = (r_p − α) / n with α = (F(r_p) − p) / (F(r_p) − F(r_p − 1)), so the limits are
smooth in n. Quality & Safety in Health Care 14:347–351 ("Handling over-dispersion of performance
indicators") gives the adjustment: z-scores Winsorised at the 10th/90th percentiles, φ = Σz²/I, and
either multiplicative limits θ ± z_p √(φ V/n) or an additive random effect
τ² = (Iφ − (I − 1)) / (Σw − Σw²/Σw), w = n/V, limits θ ± z_p √(V/n + τ²). Neither is applied when
there is no over-dispersion (φ ≤ 1 or τ² ≤ 0): limits never narrow.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from ..errors import QCIError
from .intervals import interval_method

LEVELS = (0.95, 0.998)
POSITIONS = ("below_99.8", "below_95", "within", "above_95", "above_99.8")
POSITION_ZH = {"below_99.8": "低于 99.8% 控制限", "below_95": "低于 95% 控制限", "within": "控制限内",
               "above_95": "高于 95% 控制限", "above_99.8": "高于 99.8% 控制限"}


def _exact_limit(p: float, n: np.ndarray, theta: float, model: str) -> np.ndarray:
    """The interpolated p-quantile of the count, divided by n (Spiegelhalter 2005, appendix A.1.1)."""
    n = np.asarray(n, float)
    r = _quantile(p, n, theta, model)
    f_r, f_prev = _cdf(r, n, theta, model), _cdf(r - 1, n, theta, model)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(f_r > f_prev, (f_r - p) / (f_r - f_prev), 0.0)
    return np.where(n > 0, (r - a) / np.where(n > 0, n, 1), np.nan)


# The binomial and Poisson quantiles and distribution functions as scipy.stats computes them, from
# scipy.special: importing scipy.stats took a second of every run, most of the start of a worker.
def _params(n: np.ndarray, theta: float, model: str):
    return (np.maximum(np.round(n), 1), theta) if model == "binomial" else (np.maximum(n * theta, 1e-300),)


def _cdf(k: np.ndarray, n: np.ndarray, theta: float, model: str) -> np.ndarray:
    """P(X ≤ k): binomial as the regularised incomplete beta I₁₋θ(n − k, k + 1), Poisson as pdtr."""
    params = _params(n, theta, model)
    k = np.floor(k)
    inside = np.clip(k, 0, params[0] - 1) if model == "binomial" else np.maximum(k, 0)
    with np.errstate(invalid="ignore"):
        f = special.betainc(params[0] - inside, inside + 1, 1 - theta) if model == "binomial" else special.pdtr(inside, *params)
    f = np.where(k < 0, 0.0, f)
    return np.where(k >= params[0], 1.0, f) if model == "binomial" else f


def _quantile(p: float, n: np.ndarray, theta: float, model: str) -> np.ndarray:
    """The smallest count k with P(X ≤ k) ≥ p: a continuous inverse, then the integers beside it."""
    params = _params(n, theta, model)
    inverse = special.bdtrik if model == "binomial" else special.pdtrik
    with np.errstate(invalid="ignore"):
        guess = np.ceil(inverse(p, *params))
    guess = np.where(np.isnan(guess), 0.0, guess)
    if model == "binomial":
        guess = np.clip(guess, 0, params[0])
    for _ in range(3):      # settle on the smallest k that reaches p
        down = np.maximum(guess - 1, 0)
        guess = np.where((guess > 0) & (_cdf(down, n, theta, model) >= p), down, guess)
        guess = np.where(_cdf(guess, n, theta, model) < p, guess + 1, guess)
    return guess


@dataclass
class Funnel:
    """Funnel limits for one indicator and period: `units` (one row per unit, with its position) and `limits()`."""

    indicator: str
    period: str
    model: str                 # "binomial" (proportions) or "poisson" (rates)
    scale: float
    centre: float              # the pooled value Σx / Σn, in the indicator's unit
    units: pd.DataFrame
    overdispersion: str | None = None
    phi: float = float("nan")
    tau2: float = 0.0
    adjusted: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def _theta(self) -> float:
        return self.centre / self.scale

    def _variance(self) -> float:
        t = self._theta
        return t * (1 - t) if self.model == "binomial" else t

    def limits(self, denominators=None, levels=LEVELS) -> pd.DataFrame:
        """Lower and upper limits at each level for each denominator (default: a smooth grid over the units')."""
        if denominators is None:
            lo = max(float(self.units["denominator"].min()) * 0.8, 1.0)
            hi = float(self.units["denominator"].max()) * 1.15
            denominators = np.unique(np.round(np.geomspace(lo, max(hi, lo + 1), 200)))
        n = np.asarray(denominators, float)
        out = {"denominator": n}
        for level in levels:
            tail = (1 - level) / 2
            name = _level_name(level)
            if self.adjusted:
                z = special.ndtri(1 - tail)
                v = self._variance() / n
                se = np.sqrt(self.phi * v) if self.overdispersion == "multiplicative" else np.sqrt(v + self.tau2)
                low, high = self._theta - z * se, self._theta + z * se
            else:
                low = _exact_limit(tail, n, self._theta, self.model)
                high = _exact_limit(1 - tail, n, self._theta, self.model)
            low = np.maximum(low, 0.0)
            if self.model == "binomial":
                high = np.minimum(high, 1.0)
            out[f"lower_{name}"], out[f"upper_{name}"] = low * self.scale, high * self.scale
        return pd.DataFrame(out)


def _level_name(level: float) -> str:
    return f"{level * 100:g}"


def _z_scores(y: np.ndarray, n: np.ndarray, theta: float, variance: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return (y - theta) / np.sqrt(variance / n)


def funnel(result, indicator: str, period: str | None = None, overdispersion: str | None = None,
           winsorize: float = 0.1) -> Funnel:
    """Funnel limits for `indicator` across the units of `result` (latest period by default).

    overdispersion: None, "multiplicative" or "additive" (Spiegelhalter 2005, with z-scores
    Winsorised at `winsorize` and 1 − `winsorize`).

    Examples:
        >>> import qcindicators as qci
        >>> from qcindicators.synthetic import generate_tables, Size
        >>> r = qci.compute(generate_tables(Size(n_facilities=6)), ["inpatient_antibacterial_use_rate"], period="year")
        >>> f = qci.funnel(r, "inpatient_antibacterial_use_rate")
        >>> set(f.units["position"]) <= {"below_99.8", "below_95", "within", "above_95", "above_99.8"}
        True
    """
    if overdispersion not in (None, "multiplicative", "additive"):
        raise QCIError(f"overdispersion 应为 None、multiplicative 或 additive / overdispersion must be None, "
                       f"'multiplicative' or 'additive', got {overdispersion!r}")
    spec = result.specs.get(indicator) if getattr(result, "specs", None) else None
    if spec is None:
        raise QCIError(f"结果中没有指标 {indicator!r} / the result has no indicator {indicator!r}")
    model = {"wilson": "binomial", "poisson": "poisson"}.get(interval_method(spec))
    if model is None:
        raise QCIError(f"漏斗图只适用于比例和率类指标 / funnel limits need a proportion or a rate; {indicator!r} is "
                       f"kind {spec.kind!r} without an interval method")
    rows = result.unit_rows(indicator)
    if period is None:
        periods = rows["period"].dropna()
        if not len(periods):
            raise QCIError(f"指标 {indicator!r} 没有可比较的单位 / no units to compare for {indicator!r}")
        period = str(periods.max())
    rows = rows[(rows["period"] == period) & (rows["denominator"] > 0)].reset_index(drop=True)
    if len(rows) < 2:
        raise QCIError(f"漏斗图至少需要两个单位 / a funnel plot needs at least two units; {indicator!r} has "
                       f"{len(rows)} in {period}")
    x, n = rows["numerator"].to_numpy(float), rows["denominator"].to_numpy(float)
    theta = x.sum() / n.sum()
    scale = spec.scale
    f = Funnel(indicator, period, model, scale, theta * scale, rows, overdispersion)
    variance = theta * (1 - theta) if model == "binomial" else theta
    y = x / n
    z = _z_scores(y, n, theta, variance) if variance > 0 else np.zeros(len(n))
    if overdispersion:
        lo, hi = np.quantile(z, [winsorize, 1 - winsorize])
        zw = np.clip(z, lo, hi)
        f.phi = float(np.mean(zw ** 2))
        if overdispersion == "multiplicative":
            f.adjusted = f.phi > 1
        else:
            w = n / variance if variance > 0 else np.zeros(len(n))
            denom = w.sum() - (w ** 2).sum() / w.sum() if w.sum() > 0 else 0.0
            f.tau2 = max(0.0, (len(n) * f.phi - (len(n) - 1)) / denom) if denom > 0 else 0.0
            f.adjusted = f.tau2 > 0
        if not f.adjusted:
            f.notes.append("no over-dispersion: exact limits kept")
    lim = f.limits(n)
    v = y * scale
    position = np.full(len(n), "within", dtype=object)
    for level in LEVELS:
        name = _level_name(level)
        position = np.where(v > lim[f"upper_{name}"].to_numpy() * (1 + 1e-12), f"above_{name}", position)
        position = np.where(v < lim[f"lower_{name}"].to_numpy() * (1 - 1e-12), f"below_{name}", position)
    units = rows.copy()
    units["z"] = z
    units["position"] = position
    f.units = units
    return f
