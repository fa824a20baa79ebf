"""Tables as the report shows them: numbers formatted by unit, 达标 in words, escaped HTML.

The workbook keeps numbers as numbers (with the same formats as Excel number formats, see xlsx.py);
the HTML page shows the text made here. Both use format.py, so they agree.
"""
from __future__ import annotations

import html

import pandas as pd

from .format import MET, MONEY_UNITS, NOT_JUDGED, NOT_MET, format_counts, format_values, met_labels

VALUE_COLUMNS = ("value", "ci_low", "ci_high", "region_value")
COUNT_COLUMNS = ("numerator", "denominator", "units_met", "units_judged", "hospitals_met", "hospitals_judged", "rows",
                 "quantity")
MET_COLUMNS = ("met", "region_met")
CLASS = {MET: "met", NOT_MET: "unmet", NOT_JUDGED: "na"}


def display_frame(frame: pd.DataFrame, specs: dict) -> pd.DataFrame:
    """Every cell as text: values by their indicator's unit, counts without decimals, 达标 / 未达标 / 不判定.

    Examples:
        >>> f = pd.DataFrame({"indicator": ["x"], "value": [12.345], "unit": ["%"], "numerator": [3.0],
        ...                   "target_text": [">= 10"], "met": [True]})
        >>> display_frame(f, {}).iloc[0].tolist()
        ['x', '12.3', '%', '3', '>= 10', '达标']
    """
    out = frame.copy()
    units = frame["unit"] if "unit" in frame else pd.Series("", index=frame.index)
    if "indicator" in frame:
        kinds = frame["indicator"].map({i: s.kind for i, s in specs.items()}).astype(object).fillna("")
        units = units.where(units.notna(), frame["indicator"].map({i: s.unit for i, s in specs.items()}))
    else:
        kinds = pd.Series("", index=frame.index)
    units = units.fillna("").astype(str)
    out.attrs["numeric"] = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])
                            and not pd.api.types.is_bool_dtype(frame[c])]      # right-aligned in HTML
    for c in out.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        if c in VALUE_COLUMNS and numeric:
            out[c] = format_values(frame[c], units, kinds)
        elif c in COUNT_COLUMNS and numeric:
            out[c] = format_counts(frame[c], units.isin(MONEY_UNITS))
        elif c in MET_COLUMNS:
            target = frame["target_text"] if "target_text" in frame else frame.get("target", pd.Series("", index=frame.index))
            out[c] = met_labels(frame[c], target.fillna("").astype(str) != "")
        elif c == "amount" and numeric:
            out[c] = format_values(frame[c], pd.Series("yuan", index=frame.index), kinds)
        elif c == "share" and numeric:
            out[c] = format_values(frame[c] * 100, pd.Series("%", index=frame.index), kinds).where(frame[c].notna(), "")
        else:
            out[c] = _text(frame[c])
    return out


def _text(s: pd.Series) -> pd.Series:
    obj = s.astype(object)
    return obj.where(s.notna(), "").astype(str)


def html_table(frame: pd.DataFrame, headers: dict[str, str], cls: str = "qci") -> str:
    """A display frame as an HTML table; 达标 cells carry a class for their colour."""
    head = "".join(f"<th>{html.escape(str(headers.get(c, c)))}</th>" for c in frame.columns)
    cells = []
    for c in frame.columns:
        text = frame[c].astype(str).map(html.escape)
        css = frame[c].map(CLASS).fillna("") if c in MET_COLUMNS else pd.Series("", index=frame.index)
        num = "num" if c in frame.attrs.get("numeric", ()) else ""
        attr = (' class="' + (css + " " + num).str.strip() + '"').where((css + num) != "", "")
        cells.append(("<td" + attr + ">" + text + "</td>").to_numpy())
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in zip(*cells)) if cells else ""
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
