"""Ranking of units for one indicator: value and interval per unit, sorted, coloured by 达标."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .figures import DPI, outlier_labels, legend_below, indicator_name, indicator_unit
from .fonts import figure_style, text

COLOURS = {True: "#2e8b57", False: "#c44e52"}
NOT_JUDGED = "#8a8f98"


def ranking_figure(result, indicator: str, period: str | None = None) -> Figure:
    """Units sorted by value with their intervals; the region's value and the target as vertical lines.

    Examples:
        >>> import qcindicators as qci
        >>> from qcindicators.synthetic import Size, generate_tables
        >>> r = qci.compute(generate_tables(Size(n_facilities=4)), ["inpatient_antibacterial_use_rate"], period="year")
        >>> len(ranking_figure(r, "inpatient_antibacterial_use_rate").axes[0].get_yticks())
        4
    """
    spec = result.specs.get(indicator)
    rows = result.unit_rows(indicator)
    period = period or str(rows["period"].max())
    u = rows[(rows["period"] == period) & rows["value"].notna()].sort_values("value", kind="stable")
    region = result.frame[(result.frame["indicator"] == indicator) & (result.frame["period"] == period)]
    region = region[region[result.by].isna().all(axis=1)] if result.by else region.iloc[0:0]
    key = result.by[0] if result.by else None
    pos = np.arange(len(u))
    met = u["met"].astype("boolean")
    colours = np.where(met.isna(), NOT_JUDGED, np.where(met.fillna(False), COLOURS[True], COLOURS[False]))
    with figure_style():
        fig = Figure(figsize=(8.0, min(max(2.6, 0.28 * len(u) + 1.8), 12)), dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        lo, hi = u["ci_low"].to_numpy(float), u["ci_high"].to_numpy(float)
        has_ci = ~np.isnan(lo) & ~np.isnan(hi)
        if has_ci.any():
            ax.hlines(pos[has_ci], lo[has_ci], hi[has_ci], color="#9aa5b1", lw=2.0, label=text("置信区间", "interval"))
        ax.scatter(u["value"], pos, c=colours, s=30, zorder=3)
        for colour, label in ((COLOURS[True], text("达标", "met")), (COLOURS[False], text("未达标", "not met")),
                              (NOT_JUDGED, text("不判定", "not judged"))):
            if (colours == colour).any():
                ax.scatter([], [], c=colour, s=30, label=label)
        if len(region) and pd.notna(region["value"].iloc[0]):
            v = float(region["value"].iloc[0])
            ax.axvline(v, color="#333333", lw=1.0, label=text(f"全区域 {v:.2f}", f"region {v:.2f}"))
        t = u["target"].dropna().unique() if "target" in u else []
        if len(t) == 1:
            ax.axvline(float(t[0]), color="#2e8b57", ls=":", lw=1.6, label=text(f"目标 {t[0]:g}", f"target {t[0]:g}"))
        ax.set_yticks(pos, outlier_labels(result, u[key]) if key else [""] * len(u), fontsize=8)
        ax.set_ylim(-0.7, len(u) - 0.3)
        ax.set_title(f"{indicator_name(spec)} · {period}", fontsize=11)
        ax.set_xlabel(indicator_unit(spec))
        legend_below(fig, ax)
    return fig
