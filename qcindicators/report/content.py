"""What a report holds, computed once and written as a workbook or an HTML page.

Tables: every indicator the data can feed, per facility and for the region, with its interval,
target and 达标 (a plan's targets when a target set is given); the diagnostics ledger; what could not
be computed and why; provenance. Figures: a funnel plot per indicator with targets (latest period),
a monthly region trend with control limits for the same indicators, and the 达标 overview.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from ..api import View, catalog_of, compute_views
from ..compile.targets import targets_for
from ..errors import QCIError
from ..plot.figures import funnel_figure, targets_figure, to_bytes, trend_figure
from ..plot.fonts import text
from ..plot.ranking import ranking_figure
from ..progress import bar
from ..check import facilities_with_conditions
from ..result.grains import class_rows
from ..result.result import Result
from ..spec.model import CLASS_GRAINS
from ..stats.funnel import funnel
from ..stats.intervals import interval_method
from ..stats.spc import spc
from ..io.tables import read_tables
from .scorecard import scorecard_cells, scorecard_indicators
from ..check import not_computable_rows, plan_summary
from ..compile.feasibility import missing_by_indicator

THEMES_ZH = {"antibacterial": "抗菌药物", "cost": "医疗费用", "staffing": "人员配置", "stays": "住院医疗质量",
             "access": "服务可及与满意度", "reports": "年报与其他", "reported": "机构填报"}
REGION = "全区域 / region"
MAX_FIGURE_INDICATORS = 24
OVERVIEW_COLUMNS = ["name_zh", "indicator", "period", "value", "ci_low", "ci_high", "unit", "target_text", "met",
                    "hospitals_met", "hospitals_judged", "flags"]


@dataclass
class Figure:
    """A drawn figure, rendered when a writer asks for it (PNG for the workbook and the page, SVG on request)."""

    kind: str            # ranking | funnel | trend | targets
    indicator: str
    title: str
    drawing: object = field(repr=False)      # the matplotlib Figure

    @cached_property
    def png(self) -> bytes:
        return to_bytes(self.drawing, "png")

    @property
    def svg(self) -> bytes:
        return to_bytes(self.drawing, "svg")


@dataclass
class Report:
    title: str
    result: Result                      # facilities and region rows at the report's period
    trends: Result | None               # region by month, for control charts
    not_computable: pd.DataFrame
    plan: pd.DataFrame | None           # one row per target of the target set (check summary)
    target_set: str | None
    period: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)     # figures that could not be drawn, and why

    @property
    def provenance(self) -> dict:
        return self.result.provenance

    def rows(self) -> pd.DataFrame:
        """Every row with names: indicator (zh, en), unit name, value, interval, target, 达标, flags."""
        f = self.result.frame.copy()
        specs = self.result.specs
        for pos, (col, attr) in enumerate((("name_zh", lambda s: s.name.zh), ("name_en", lambda s: s.name.en),
                                           ("theme", lambda s: s.theme)), start=1):
            f.insert(pos, col, f["indicator"].map({i: attr(s) for i, s in specs.items()}))   # a lookup per indicator
        region = f["facility_id"].isna()
        f.insert(5, "facility_name", self.result.unit_label(f["facility_id"]).where(~region, REGION).to_numpy())
        has_target = f["target_op"].astype(str) != ""
        f["target_text"] = np.where(has_target, f["target_op"].astype(str) + " "
                                    + f["target"].round(6).astype(str).str.replace(r"\.0$", "", regex=True), "")
        return f

    def scorecard(self) -> pd.DataFrame:
        """The first page: one row per unit × scorecard indicator (latest period), region first; see scorecard.py."""
        rows = self.rows()
        plan_ids = list(self.plan["indicator"]) if self.plan is not None else None
        kinds = {i: s.kind for i, s in self.result.specs.items()}
        return scorecard_cells(rows, scorecard_indicators(rows, plan_ids), kinds)

    def overview(self) -> pd.DataFrame:
        """One row per indicator (latest period): the region's value, interval, target and 达标, and how
        many facilities met their own target out of those judged."""
        s = self.summary()
        units = s[s["facility_id"].notna()]
        judged = units.assign(_met=units["met"].astype("boolean")).groupby("indicator")["_met"]
        region = s[s["facility_id"].isna()].set_index("indicator")
        out = region.assign(hospitals_met=judged.sum().reindex(region.index).fillna(0).astype(int),
                            hospitals_judged=judged.count().reindex(region.index).fillna(0).astype(int))
        return out.reset_index()[OVERVIEW_COLUMNS]

    def summary(self) -> pd.DataFrame:
        """The latest period of each indicator: one row per indicator and unit, the region first."""
        f = self.rows()
        latest = f.groupby("indicator")["period"].transform("max")
        f = f[f["period"] == latest]
        judged = f.groupby("indicator")["target_text"].transform(lambda t: (t != "").any())
        f = f.assign(_judged=~judged, _unit=f["facility_id"].notna())
        f = f.sort_values(["_judged", "theme", "indicator", "_unit", "facility_id"], na_position="first", kind="stable")
        return f.drop(columns=["_judged", "_unit"]).reset_index(drop=True)


def _figure_indicators(result: Result, target_set: str | None) -> list[str]:
    """Indicators worth a funnel and a trend: a proportion or rate with a target, at most MAX_FIGURE_INDICATORS."""
    f = result.frame
    with_target = set(f.loc[f["target_op"].astype(str) != "", "indicator"])
    ids = [i for i, s in result.specs.items() if interval_method(s) != "none" and s.kind not in ("growth", "unit_share")
           and i in with_target]
    return ids[:MAX_FIGURE_INDICATORS]


def _figure_candidates(cat, targets) -> tuple[str, ...]:
    """Indicators that may get a figure: proportions and rates with a target in the set or their definition
    (the figures then keep those whose rows carry a target, see _figure_indicators)."""
    target_set = cat.target_set(targets) if targets is not None else None
    return tuple(s.id for s in cat if interval_method(s) != "none" and s.kind not in ("growth", "unit_share")
                 and (targets_for(s, target_set, region=True) or targets_for(s, target_set, region=False)))


def build_report(tables, targets: str | None = None, period: str = "year", title: str | None = None,
                 definitions=None, figures: bool = True, on_invalid: str = "raise", confidence: float = 0.95) -> Report:
    """Compute everything a report shows.

    Examples:
        >>> import qcindicators as qci
        >>> from qcindicators.synthetic import generate_tables, Size
        >>> from qcindicators.report import build_report
        >>> rep = build_report(generate_tables(Size(n_facilities=4)), figures=False)
        >>> rep.summary()["facility_name"].iloc[0]
        '全区域 / region'
    """
    tables = read_tables(tables)
    # one read of each table: per facility and for the region, at the report's period and by month for trends
    # the monthly region trend only for the indicators a figure may show (not the whole catalog by month)
    trend_ids = _figure_candidates(catalog_of(definitions), targets) if figures and period != "month" else ()
    views = [View(period, ("facility_id",)), View(period, ())] + ([View("month", (), trend_ids)] if trend_ids else [])
    with bar(2, "report", "steps") as progress:
        units = compute_views(tables, views, targets=targets, definitions=definitions, on_invalid=on_invalid,
                              confidence=confidence)
        progress.update()
        at_period = units.frame[_of_grain(units.frame["period"], period)].reset_index(drop=True)
        result = Result(at_period, units.diagnostics, units.provenance, units.plan_text, units.not_computable,
                        specs=units.specs, by=["facility_id"], facility_names=units.facility_names)
        plan = _plan(result, tables, targets, definitions) if targets is not None else None
        ids = _figure_indicators(result, targets)
        monthly = units.frame[_of_grain(units.frame["period"], "month") & units.frame["facility_id"].isna()
                              & units.frame["indicator"].isin(ids)]
        trends = Result(monthly.drop(columns=["facility_id"]).reset_index(drop=True), units.diagnostics, units.provenance,
                        units.plan_text, specs={i: units.specs[i] for i in ids}, by=[]) if ids and figures else None
        progress.update()
    not_computable = units.not_computable
    cat = catalog_of(definitions)
    name = cat.target_set(targets).name.zh if targets is not None else None
    report = Report(title or ("医疗质量指标报告 · Quality indicator report" + (f" · {name}" if name else "")),
                    result, trends, not_computable, plan, targets, period)
    if figures:
        ranked = list(dict.fromkeys(report.scorecard()["indicator"]))
        # funnels and trends for the scorecard's proportions and rates: every figure has its section on the page
        report.figures = _figures(report, ranked, [i for i in ids if i in ranked])
    return report


def _plan(result: Result, tables, targets, definitions) -> pd.DataFrame:
    """The plan sheet from the rows already computed (what `qci check` would print), not a second pass."""
    cat = catalog_of(definitions)
    ts = cat.target_set(targets)
    wanted = list(dict.fromkeys(t.indicator for t in ts.targets))
    reasons = missing_by_indicator(cat, wanted, tables)
    frame = result.frame[result.frame["indicator"].isin(wanted)]
    missing = not_computable_rows(reasons, cat)
    frame = pd.concat([frame, missing], ignore_index=True) if len(missing) else frame
    entries = [t for t in ts.targets if t.grain in CLASS_GRAINS and t.indicator in result.specs]
    if entries:      # judged once over a class of facilities, from the facility rows already computed
        classes = class_rows(result.frame, entries, facilities_with_conditions(tables, ts), result.specs)
        frame = pd.concat([frame.assign(grain=np.where(frame["facility_id"].notna(), "unit", "region"), **{"class": "", "criterion": ""}),
                           classes], ignore_index=True)
    return plan_summary(frame, ts, ["facility_id"], facilities_with_conditions(tables, ts))


LABEL_LENGTH = {"year": 4, "quarter": 6, "month": 7}      # 2024, 2024Q1, 2024-01


def _of_grain(labels: pd.Series, grain: str) -> pd.Series:
    """Rows whose period label is of `grain` (a result computed for several grains holds them all)."""
    return labels.astype(str).str.len() == LABEL_LENGTH[grain]


def _figures(report: Report, ranked: list[str], ids: list[str]) -> list[Figure]:
    """Per scorecard indicator a ranking; for proportions and rates also the funnel and the region's trend."""
    out = []
    result = report.result
    with bar(len(ranked) + 2 * len(ids) + 1, "figures", "fig") as progress:
        fig = targets_figure(result)
        out.append(Figure("targets", "", "达标概览 / targets overview", fig))
        progress.update()
        for i in ranked:
            fig = ranking_figure(result, i)
            out.append(Figure("ranking", i, f"排名 · {result.specs[i].name.zh}", fig))
            progress.update()
        for i in ids:
            out.extend(_funnel_and_trend(report, i))
            progress.update(2)
    return out


def _funnel_and_trend(report: Report, i: str) -> list[Figure]:
    result, name, out = report.result, report.result.specs[i].name.zh, []
    try:
        fig = funnel_figure(result, funnel(result, i))
        out.append(Figure("funnel", i, f"漏斗图 · {name}", fig))
    except QCIError as e:       # e.g. fewer than two units with data: said in the report, not drawn
        report.notes.append(f"{i}: {e}")
    if report.trends is not None and len(report.trends.series(i)) >= 2:
        # region denominators are large: Laney's p′/u′ keeps the limits meaningful
        fig = trend_figure(report.trends, spc(report.trends, i, laney=True), i, text("全区域", "region"))
        out.append(Figure("trend", i, f"控制图 · {name}", fig))
    return out
