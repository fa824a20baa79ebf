"""Figures for results: `result.plot.funnel(...)`, `result.plot.trend(...)`, `result.plot.targets()`."""
from __future__ import annotations

import sys

from .figures import outlier_labels, funnel_figure, targets_figure, to_bytes, trend_figure
from .fonts import cjk_font
from ..stats.funnel import funnel
from ..stats.spc import spc

__all__ = ["PlotAccessor", "cjk_font", "funnel_figure", "targets_figure", "to_bytes", "trend_figure"]


def _notebook_display() -> None:
    """In IPython, loading pyplot registers the inline formatter so a returned Figure displays itself."""
    if "IPython" in sys.modules:
        import matplotlib.pyplot  # noqa: F401


class PlotAccessor:
    def __init__(self, result):
        self._result = result

    def funnel(self, indicator: str, period: str | None = None, overdispersion: str | None = None):
        """Funnel plot of `indicator` across units (latest period by default)."""
        _notebook_display()
        return funnel_figure(self._result, funnel(self._result, indicator, period, overdispersion))

    def trend(self, indicator: str, unit=None, laney: bool = False, sigma: float = 3.0):
        """`indicator` over time for one unit (None: the region or the only unit), with SPC limits."""
        _notebook_display()
        chart = spc(self._result, indicator, unit, laney=laney, sigma=sigma)
        label = "" if unit is None else outlier_labels(self._result, [unit])[0]
        return trend_figure(self._result, chart, indicator, label)

    def targets(self, period: str | None = None):
        """Units × targets, coloured met / not met / not judged."""
        _notebook_display()
        return targets_figure(self._result, period)
