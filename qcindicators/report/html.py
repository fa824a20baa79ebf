"""The report as one self-contained HTML page: figures inlined as data URIs, no scripts, no network.

First screen: the scorecard (hospitals × the plan's indicators), which becomes one card per hospital on
a phone. Then one section per indicator (ranking, funnel, trend), how to read it, and an appendix of
long tables, the only part that scrolls sideways (inside its own box). Printable: sections start on a
new page, navigation hidden.
"""
from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

from ..result.result import flatten
from .columns import ROW_COLUMNS, headers, legend
from .content import THEMES_ZH, Report
from .page_css import PAGE_CSS
from .scorecard import column_heads, tally
from .tables import CLASS, display_frame, html_table


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>{body}</section>'


def _wide(frame: pd.DataFrame, report: Report, level: float) -> str:
    if not len(frame):
        return "<p>无 / none</p>"
    return f'<div class="scroll">{html_table(display_frame(frame, report.result.specs), headers(level))}</div>'


def _img(fig) -> str:
    data = base64.b64encode(fig.png).decode("ascii")
    return (f'<figure><img alt="{html.escape(fig.title)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(fig.title)}</figcaption></figure>")


def _pretty_target(t: str) -> str:
    return t.replace(">=", "≥").replace("<=", "≤")


def scorecard_html(cells: pd.DataFrame) -> str:
    """Hospitals as rows, indicators as columns; each cell value, mark and arrow, coloured by 达标."""
    heads = column_heads(cells)
    th = "".join(f'<th><span class="ind">{html.escape(r.name_zh)}</span><small>{html.escape(_pretty_target(r.target))}'
                 f"</small></th>" for r in heads.itertuples())
    label = cells["indicator"].map(heads["name_zh"] + " · " + heads["target"].map(_pretty_target))
    cls = cells["met"].map(CLASS).fillna("")
    td = ('<td class="' + cls + '" data-label="' + label.map(html.escape) + '" title="'
          + cells["target_text"].map(_pretty_target).map(html.escape) + '">'
          + '<span class="v">' + cells["text"].map(html.escape) + ' <span class="mark">' + cells["mark"] + "</span>"
          + ' <span class="arrow">' + cells["arrow"] + "</span></span></td>")
    rows = td.groupby(cells["unit_name"], sort=False).agg("".join)
    region = cells.groupby("unit_name", sort=False)["is_region"].first()
    body = "".join(f'<tr class="{"region" if region[u] else ""}"><th class="unit" scope="row">{html.escape(u)}</th>{r}</tr>'
                   for u, r in rows.items())
    return (f'<table class="score"><thead><tr><th class="unit">医院 Hospital</th>{th}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def _scorecard_section(report: Report) -> str:
    cells = report.scorecard()
    if not len(cells):
        return _section("scorecard", "记分卡 Scorecard", "<p>无可显示的指标 / no indicator to show</p>")
    t = tally(cells)
    period = cells["period"].max()
    lead = (f'<p class="lead"><b>{t["hospitals_missing"]}</b> / {t["hospitals_judged"]} 家医院至少有一项未达标 '
            f'hospitals miss at least one target · {t["indicators"]} 项指标 indicators · 医院×指标 hospital × indicator: '
            f'<span class="met">✓ 达标 {t["met"]}</span> <span class="unmet">✗ 未达标 {t["not_met"]}</span> '
            f'<span class="na">– 不判定 {t["not_judged"]}</span></p>'
            f'<p class="hint">↑ ↓ → 与上年同期比较 vs the same period last year (→ within 0.5 %) · '
            f"不判定：有目标但无值或分母过小 / not judged: a target, but no value or too small a denominator</p>")
    return _section("scorecard", f"记分卡 Scorecard · {period}", lead + scorecard_html(cells))


def _indicator_sections(report: Report) -> str:
    cells = report.scorecard()
    figs = {}
    for f in report.figures:
        figs.setdefault(f.indicator, []).append(f)
    parts = []
    for i in dict.fromkeys(cells["indicator"]):
        spec = report.result.specs[i]
        region = cells[(cells["indicator"] == i) & cells["is_region"]]
        value = f' · 全区域 region {region["text"].iloc[0]} {html.escape(spec.unit)}' if len(region) else ""
        drawn = "".join(_img(f) for f in figs.get(i, []))
        parts.append(f'<article id="ind-{i}"><h3>{html.escape(spec.name.zh)} <small>{html.escape(spec.name.en)}</small></h3>'
                     f'<p class="hint">{html.escape(i)}{value}</p><div class="figs">{drawn}</div></article>')
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
    return _section("indicators", "指标详情 Indicators", "".join(parts) + (f"<p>未绘制 / not drawn:</p><ul>{notes}</ul>" if notes else ""))


def _appendix(report: Report, level: float) -> str:
    rows = report.rows()
    parts = [("overview", "区域概览 Region overview（最近时期 latest period）", report.overview()),
             ("summary", "摘要 Summary：各医院 by hospital（最近时期 latest period）", report.summary()[ROW_COLUMNS])]
    if report.plan is not None:
        parts.append(("plan", "计划目标 Plan targets", report.plan))
    parts.append(("not-computable", "无法计算 Not computable", report.not_computable))
    parts += [(f"theme-{t}", f"{zh} {t}（全部时期 every period）", rows.loc[rows["theme"] == t, ROW_COLUMNS])
              for t, zh in THEMES_ZH.items() if (rows["theme"] == t).any()]
    parts.append(("diagnostics", "诊断 Diagnostics", report.result.diagnostics))
    parts.append(("provenance", "来源 Provenance", pd.DataFrame(flatten(report.provenance), columns=["key", "value"])))
    body = "".join(f'<h3 id="{a}">{html.escape(t)}</h3>{_wide(f, report, level)}' for a, t, f in parts)
    return _section("appendix", "附录 Appendix", body)


def write_html(report: Report, path: str | Path) -> Path:
    """Write the page; the first screen is the scorecard.

    Examples:
        >>> import tempfile, pathlib
        >>> from qcindicators.synthetic import Size, generate_tables
        >>> from qcindicators.report import build_report
        >>> rep = build_report(generate_tables(Size(n_facilities=4)), figures=False)
        >>> page = write_html(rep, pathlib.Path(tempfile.mkdtemp()) / "r.html").read_text(encoding="utf-8")
        >>> page.index('id="scorecard"') < page.index('id="appendix"')
        True
    """
    path = Path(path)
    level = report.provenance.get("intervals", {}).get("level", 0.95)
    guide = "<ul>" + "".join(f"<li>{html.escape(zh)}<br><small>{html.escape(en)}</small></li>" for zh, en in legend(level)) + "</ul>"
    sections = [_scorecard_section(report), _indicator_sections(report),
                _section("guide", "阅读说明 How to read", guide), _appendix(report, level)]
    nav = "".join(f'<a href="#{a}">{t}</a>' for a, t in [("scorecard", "记分卡 Scorecard"), ("indicators", "指标 Indicators"),
                                                          ("guide", "说明 Guide"), ("appendix", "附录 Appendix")])
    prov_line = (f"qcindicators {report.provenance.get('library', {}).get('version', '')} · "
                 f"{str(report.provenance.get('computed_at', ''))[:16]} · {report.period} · CI {level:.0%}"
                 + (f" · {report.target_set}" if report.target_set else ""))
    page = (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(report.title)}</title><style>{PAGE_CSS}</style></head><body>"
            f"<header><h1>{html.escape(report.title)}</h1><p>{html.escape(prov_line)}</p></header>"
            f"<nav>{nav}</nav><main>{''.join(sections)}</main></body></html>")
    path.write_text(page, encoding="utf-8")
    return path
