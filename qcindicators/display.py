"""HTML tables for notebooks and the HTML report: escaped, numbers formatted, 达标 coloured, no jinja2."""
from __future__ import annotations

import html

import numpy as np
import pandas as pd

CSS = """
table.qci{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}
table.qci th{background:#f0f3f7;position:sticky;top:0;text-align:left;padding:4px 8px;border-bottom:2px solid #c8d0da}
table.qci td{padding:3px 8px;border-bottom:1px solid #e4e8ee;vertical-align:top;white-space:nowrap}
table.qci td.num{text-align:right;white-space:nowrap}
table.qci td.met{background:#dff3e3;color:#17622b}
table.qci td.unmet{background:#fbe0e0;color:#8d1c1c}
table.qci td.na{color:#8a8f98}
""".strip()

MET_TEXT = {True: "达标 ✓", False: "未达标 ✗"}


def _fmt_number(x, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)) or x is pd.NA:
        return ""
    if isinstance(x, (int, np.integer)) or (isinstance(x, float) and float(x).is_integer() and abs(x) >= 1000):
        return f"{int(x):,}"
    return f"{x:,.{digits}f}"


def html_table(frame: pd.DataFrame, headers: dict[str, str] | None = None, max_rows: int | None = None,
               digits: int = 2) -> str:
    """`frame` as an escaped HTML table; a `met` column is coloured; floats get `digits` decimals."""
    headers = headers or {}
    shown = frame if max_rows is None else frame.head(max_rows)
    cols = list(shown.columns)
    head = "".join(f"<th>{html.escape(str(headers.get(c, c)))}</th>" for c in cols)
    body_cols = []
    for c in cols:
        s = shown[c]
        if c == "met":
            text = s.map(lambda v: "" if v is pd.NA or v is None else MET_TEXT.get(bool(v), ""))
            cls = s.map(lambda v: "na" if v is pd.NA or v is None else ("met" if v else "unmet"))
        elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            text, cls = s.map(lambda v: _fmt_number(v, digits)), pd.Series("num", index=s.index)
        else:
            text = s.map(lambda v: "" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v))
            cls = pd.Series("", index=s.index)
        body_cols.append(("<td class=\"" + cls.astype(str) + "\">" + text.astype(str).map(html.escape) + "</td>").to_numpy())
    rows = ["<tr>" + "".join(cells) + "</tr>" for cells in zip(*body_cols)] if body_cols else []
    more = "" if max_rows is None or len(frame) <= max_rows else \
        f"<p class=\"more\">… 另有 {len(frame) - max_rows} 行 / {len(frame) - max_rows} more rows</p>"
    return f"<table class=\"qci\"><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"
