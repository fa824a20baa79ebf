"""The report's figures: funnel plot, trend (control) chart, 达标 overview. matplotlib Figure objects, no pyplot state."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from ..stats.funnel import Funnel
from .fonts import cjk_font, figure_style, text

SIZE = (8.0, 5.0)      # inches; at DPI this is 800 × 500 px
DPI = 100
COLOURS = {"within": "#4c72b0", "above_95": "#dd8452", "below_95": "#dd8452", "above_99.8": "#c44e52",
           "below_99.8": "#c44e52"}


def indicator_name(spec) -> str:
    return text(spec.name.zh, spec.name.en) if spec is not None else ""


def indicator_unit(spec) -> str:
    return text(spec.unit_zh or spec.unit, spec.unit) if spec is not None else ""


def outlier_labels(result, ids) -> list[str]:
    """Facility names where a CJK font can draw them, else ids."""
    return list(result.unit_label(ids) if cjk_font() else pd.Series(ids, dtype=object).astype(str))


def _target_line(ax, rows: pd.DataFrame) -> None:
    t = rows["target"].dropna().unique() if "target" in rows else []
    if len(t) == 1:
        op = rows["target_op"].dropna().iloc[0]
        ax.axhline(float(t[0]), color="#55a868", ls=":", lw=1.6, label=text(f"目标 {op} {t[0]:g}", f"target {op} {t[0]:g}"))


def funnel_figure(result, f: Funnel) -> Figure:
    """Units by denominator against the pooled value, with 95 % and 99.8 % limits; units outside them named.

    Examples:
        >>> import qcindicators as qci
        >>> from qcindicators.synthetic import Size, generate_tables
        >>> r = qci.compute(generate_tables(Size(n_facilities=4)), ["inpatient_antibacterial_use_rate"], period="month")
        >>> fig = funnel_figure(r, qci.funnel(r, "inpatient_antibacterial_use_rate"))
        >>> bool(fig.legends[0].get_window_extent().y1 <= fig.axes[0].get_window_extent().y0)   # legend under the axes
        True
    """
    spec = result.specs.get(f.indicator)
    with figure_style():
        fig = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        lim = f.limits()
        x = lim["denominator"]
        ax.plot(x, lim["upper_99.8"], color="#c44e52", lw=1.2, label=text("99.8% 控制限", "99.8% limits"))
        ax.plot(x, lim["lower_99.8"], color="#c44e52", lw=1.2)
        ax.plot(x, lim["upper_95"], color="#dd8452", lw=1.0, ls="--", label=text("95% 控制限", "95% limits"))
        ax.plot(x, lim["lower_95"], color="#dd8452", lw=1.0, ls="--")
        ax.axhline(f.centre, color="#333333", lw=1.0, label=text(f"总体 {f.centre:.2f}", f"overall {f.centre:.2f}"))
        u = f.units
        ax.scatter(u["denominator"], u["value"], c=[COLOURS[p] for p in u["position"]], s=28, zorder=3,
                   edgecolors="white", linewidths=0.5)
        _target_line(ax, u)
        outliers = u[u["position"] != "within"]
        key = result.by[0] if result.by else None
        names = outlier_labels(result, outliers[key]) if key and len(outliers) else []
        ax.set_xscale("log" if u["denominator"].max() > 20 * max(u["denominator"].min(), 1) else "linear")
        adj = {"multiplicative": text("，乘法过度离散校正", ", multiplicative over-dispersion"),
               "additive": text("，加法过度离散校正", ", additive over-dispersion")}.get(f.overdispersion, "") if f.adjusted else ""
        ax.set_title(f"{indicator_name(spec)} · {f.period}{adj}", fontsize=11)
        ax.set_xlabel(text("分母", "denominator"))
        ax.set_ylabel(indicator_unit(spec))
        _label_points(fig, ax, outliers["denominator"].to_numpy(float), outliers["value"].to_numpy(float), names)
        legend_below(fig, ax)
    return fig


def legend_below(fig: Figure, ax) -> None:
    """Legends go under the axes, never over the data."""
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=4, fontsize=8, frameon=False)


def _label_points(fig: Figure, ax, x, y, names: list[str]) -> None:
    """Name the points: beside them when few and apart, else numbered with a key under the axes.

    Labels are laid out after a draw and nudged up until no two overlap, so they never do.
    """
    if not len(names):
        return
    crowded = len(names) > 3 or max(len(n) for n in names) > 12
    marks = [str(k) for k in range(1, len(names) + 1)] if crowded else list(names)
    texts = [ax.annotate(m, (a, b), xytext=(4, 4), textcoords="offset points", fontsize=8, zorder=4)
             for m, a, b in zip(marks, x, y)]
    fig.canvas.draw()
    placed = []
    boxes = [t.get_window_extent() for t in texts]       # measured once: a text's extent costs a layout
    for k in sorted(range(len(texts)), key=lambda k: boxes[k].y0):   # a handful of outliers: a loop is fine
        dy = 0.0
        while any(boxes[k].translated(0, dy).overlaps(p) for p in placed):
            dy += 3.0
        if dy:
            texts[k].set_position((4, 4 + dy * 72 / fig.dpi))
        placed.append(boxes[k].translated(0, dy))
    if crowded:
        pairs = [f"{m} {n}" for m, n in zip(marks, names)]
        key = "\n".join("   ".join(pairs[i:i + 4]) for i in range(0, len(pairs), 4))
        ax.set_xlabel(f"{ax.get_xlabel()}\n{key}", fontsize=8)


def trend_figure(result, chart: pd.DataFrame, indicator: str, unit_label: str = "") -> Figure:
    """The series with its centre line and control limits; signals (outside, run of 8) in red.

    Examples:
        >>> import qcindicators as qci
        >>> from qcindicators.synthetic import Size, generate_tables
        >>> r = qci.compute(generate_tables(Size(n_facilities=4)), ["inpatient_antibacterial_use_rate"], period="month")
        >>> unit = r.frame["facility_id"].iloc[0]
        >>> chart = qci.spc(r, "inpatient_antibacterial_use_rate", unit)
        >>> float(trend_figure(r, chart, "inpatient_antibacterial_use_rate").axes[0].get_xlim()[0])   # from the first point
        -0.5
    """
    spec = result.specs.get(indicator)
    with figure_style():
        fig = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        chart = chart.loc[chart["value"].notna().cummax().to_numpy(bool)].reset_index(drop=True)  # from the first point
        pos = np.arange(len(chart))
        ax.plot(pos, chart["ucl"], drawstyle="steps-mid", color="#c44e52", lw=1.0, ls="--", label=text("控制限", "control limits"))
        ax.plot(pos, chart["lcl"], drawstyle="steps-mid", color="#c44e52", lw=1.0, ls="--")
        ax.plot(pos, chart["centre"], color="#333333", lw=1.0, label=text("中心线", "centre line"))
        ax.plot(pos, chart["value"], color="#4c72b0", marker="o", ms=4, lw=1.4, label=indicator_name(spec) or indicator)
        sig = chart["signal"].to_numpy(bool)
        if sig.any():
            ax.scatter(pos[sig], chart["value"][sig], color="#c44e52", s=40, zorder=3, label=text("信号", "signal"))
        step = max(1, len(chart) // 12)
        ax.set_xticks(pos[::step], chart["period"].astype(str)[::step], rotation=45, ha="right", fontsize=8)
        kind = {"p": "p", "u": "u", "laney_p": "p′ (Laney)", "laney_u": "u′ (Laney)"}[chart["chart"].iloc[0]]
        ax.set_title(f"{indicator_name(spec)} · {unit_label} · {kind}".replace(" ·  ·", " ·"), fontsize=11)
        ax.set_ylabel(indicator_unit(spec))
        ax.set_xlim(-0.5, len(chart) - 0.5)
        legend_below(fig, ax)
    return fig


def targets_figure(result, period: str | None = None) -> Figure:
    """Units × targets, coloured met / not met / not judged (not computable, no value, small denominator).

    Examples:
        >>> import qcindicators as qci
        >>> from qcindicators.synthetic import Size, generate_tables
        >>> r = qci.compute(generate_tables(Size(n_facilities=4)), ["antibacterial_use_density"], period="year")
        >>> len(targets_figure(r).axes[0].get_yticks())     # one row per facility
        4
    """
    f = result.frame
    f = f[f["target_op"].astype(str) != ""] if "target_op" in f else f.iloc[0:0]
    key = result.by[0] if result.by else None
    units = f[f[key].notna()] if key else f
    if period is None and len(units):
        period = str(units["period"].dropna().max())
    units = units[units["period"] == period]
    indicators = list(dict.fromkeys(f["indicator"]))
    ids = sorted(units[key].astype(str).unique()) if key else ["(region)"]
    grid = np.full((len(ids), len(indicators)), np.nan)
    if len(units) and indicators:
        r = pd.Index(ids).get_indexer(units[key].astype(str)) if key else np.zeros(len(units), int)
        c = pd.Index(indicators).get_indexer(units["indicator"])
        met = units["met"].astype("float64").to_numpy()
        grid[r, c] = met
    with figure_style():
        h = min(max(2.5, 0.32 * len(ids) + 2.2), 14)
        w = min(max(6.0, 0.45 * len(indicators) + 3.5), 16)
        fig = Figure(figsize=(w, h), dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        cmap = ListedColormap(["#e07b7b", "#7cc08a"]).with_extremes(bad="#d9d9d9")
        ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=0, vmax=1, aspect="auto")
        if grid.size <= 600:        # marks as well as colours: readable in grey print and by colour-blind readers
            marks = np.where(np.isnan(grid), "–", np.where(grid == 1, "✓", "✗"))
            for (r, c), mark in np.ndenumerate(marks):
                ax.text(c, r, mark, ha="center", va="center", fontsize=8, color="#333333")
        specs = result.specs
        ax.set_xticks(range(len(indicators)), [indicator_name(specs.get(i)) or i for i in indicators], rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(ids)), outlier_labels(result, ids) if key else ids, fontsize=8)
        ax.set_title(text(f"达标情况 · {period}（绿：达标，红：未达标，灰：未判定）",
                          f"targets met · {period} (green: met, red: not met, grey: not judged)"), fontsize=11)
        for side in ("top", "right", "left", "bottom"):
            ax.spines[side].set_visible(False)
    return fig


def to_bytes(fig: Figure, fmt: str = "png") -> bytes:
    """The figure as PNG or SVG bytes, at the figures' resolution.

    Examples:
        >>> fig = Figure(figsize=SIZE, dpi=DPI)
        >>> to_bytes(fig, "png")[:4], to_bytes(fig, "svg").lstrip()[:5]
        (b'\\x89PNG', b'<?xml')
    """
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=DPI)
    return buf.getvalue()
