"""The report as one self-contained HTML page: figures inlined as data URIs, no scripts, no network.

Readable on a phone (tables scroll sideways inside their section, figures scale to the width) and
printable (sections start on a new page, navigation hidden).
"""
from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

from ..display import CSS as TABLE_CSS
from ..display import html_table
from ..result.result import _flatten
from .columns import ROW_COLUMNS, headers, legend
from .content import THEMES_ZH, Report

PAGE_CSS = """
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;margin:0;color:#1d2733;line-height:1.45}
header{background:#1f4e79;color:#fff;padding:16px 20px}
header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;font-size:13px;opacity:.85}
nav{padding:8px 20px;background:#eef2f7;font-size:13px}
nav a{margin-right:12px;color:#1f4e79;white-space:nowrap}
main{padding:0 20px 40px;max-width:1200px}
section{margin-top:24px}
h2{font-size:17px;border-bottom:2px solid #1f4e79;padding-bottom:4px}
.scroll{overflow-x:auto;max-height:70vh;border:1px solid #e4e8ee}
figure{margin:16px 0}
figure img{max-width:100%;height:auto;border:1px solid #e4e8ee}
figcaption{font-size:13px;color:#555}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{background:#f6f8fb;border:1px solid #e4e8ee;border-radius:6px;padding:8px 12px;min-width:120px}
.card b{display:block;font-size:20px}
@media print{nav{display:none}section{page-break-before:always}.scroll{max-height:none;overflow:visible}}
"""


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>{body}</section>'


def _table(frame: pd.DataFrame, level: float) -> str:
    return f'<div class="scroll">{html_table(frame, headers(level))}</div>'


def _img(fig) -> str:
    data = base64.b64encode(fig.png).decode("ascii")
    return (f'<figure><img alt="{html.escape(fig.title)}" src="data:image/png;base64,{data}" width="800">'
            f"<figcaption>{html.escape(fig.title)}</figcaption></figure>")


def write_html(report: Report, path: str | Path) -> Path:
    path = Path(path)
    level = report.provenance.get("intervals", {}).get("level", 0.95)
    summary, rows = report.summary(), report.rows()
    met = summary["met"].astype("boolean")
    cards = (f'<div class="cards"><div class="card"><b>{summary["indicator"].nunique()}</b>指标 indicators</div>'
             f'<div class="card"><b>{int((met == True).sum())}</b>达标（机构·指标）met (unit · indicator)</div>'    # noqa: E712
             f'<div class="card"><b>{int((met == False).sum())}</b>未达标（机构·指标）not met</div>'                # noqa: E712
             f'<div class="card"><b>{len(report.not_computable)}</b>无法计算 not computable</div></div>')
    guide = "<ul>" + "".join(f"<li>{html.escape(zh)}<br><small>{html.escape(en)}</small></li>" for zh, en in legend(level)) + "</ul>"
    sections = [_section("guide", "阅读说明 How to read", guide),
                _section("overview", "区域概览 Region overview（最近时期 latest period）", cards + _table(report.overview(), level)),
                _section("summary", "摘要 Summary：各机构 by unit", _table(summary[ROW_COLUMNS], level))]
    if report.plan is not None:
        sections.append(_section("plan", "计划目标 Plan targets", _table(report.plan, level)))
    nc = report.not_computable
    sections.append(_section("not-computable", "无法计算 Not computable",
                             _table(nc, level) if len(nc) else "<p>无 / none</p>"))
    figs = report.figures
    if figs or report.notes:
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
        sections.append(_section("figures", "图表 Figures", "".join(_img(f) for f in figs)
                                 + (f"<p>未绘制 / not drawn:</p><ul>{notes}</ul>" if notes else "")))
    for theme, zh in THEMES_ZH.items():
        part = rows[rows["theme"] == theme]
        if len(part):
            sections.append(_section(f"theme-{theme}", f"{zh} {theme}", _table(part[ROW_COLUMNS], level)))
    diag = report.result.diagnostics
    sections.append(_section("diagnostics", "诊断 Diagnostics", _table(diag, level) if len(diag) else "<p>无 / none</p>"))
    prov = pd.DataFrame(_flatten(report.provenance), columns=["key", "value"])
    sections.append(_section("provenance", "来源 Provenance", _table(prov, level)))
    nav = "".join(f'<a href="#{a}">{html.escape(t)}</a>' for a, t in
                  [("guide", "说明"), ("overview", "概览"), ("summary", "摘要"), ("plan", "计划目标") if report.plan is not None else (None, None),
                   ("not-computable", "无法计算"), ("figures", "图表"), ("diagnostics", "诊断"), ("provenance", "来源")] if a)
    prov_line = (f"qcindicators {report.provenance.get('library', {}).get('version', '')} · "
                 f"{report.provenance.get('computed_at', '')} · {report.period} · CI {level:.0%}"
                 + (f" · {report.target_set}" if report.target_set else ""))
    page = (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(report.title)}</title><style>{PAGE_CSS}{TABLE_CSS}</style></head><body>"
            f"<header><h1>{html.escape(report.title)}</h1><p>{html.escape(prov_line)}</p></header>"
            f"<nav>{nav}</nav><main>{''.join(sections)}</main></body></html>")
    path.write_text(page, encoding="utf-8")
    return path
