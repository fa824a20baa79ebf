"""The report as an Excel workbook: summary, plan, one sheet per theme, diagnostics, provenance, figures."""
from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from ..result.result import flatten
from .columns import ROW_COLUMNS, headers, legend
from .content import THEMES_ZH, Report
from .format import MET, MONEY_UNITS, NOT_JUDGED, NOT_MET, met_labels, value_format
from .scorecard import column_heads
from .tables import COUNT_COLUMNS, VALUE_COLUMNS
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.drawing.image import Image

GREEN, RED, GREY = "DFF3E3", "FBE0E0", "EEEEEE"
FILLS = {MET: GREEN, NOT_MET: RED, NOT_JUDGED: GREY}


def _sheet_name(text: str) -> str:
    bad = set('[]:*?/\\')
    return "".join(c for c in text if c not in bad)[:31]


def _met_column(frame: pd.DataFrame, col: str) -> pd.DataFrame:
    """达标 / 未达标 / 不判定, exactly as the HTML page writes them."""
    if col in frame:
        target = frame["target_text"] if "target_text" in frame else frame.get("target", pd.Series("", index=frame.index))
        frame = frame.assign(**{col: met_labels(frame[col], target.fillna("").astype(str) != "")})
    return frame


def _excel_format(unit: str, kind: str) -> str:
    decimals, thousands = value_format(unit, kind)
    return ("#,##0" if thousands else "0") + ("." + "0" * decimals if decimals else "")


def _number_formats(frame: pd.DataFrame, col: str, kinds: dict) -> pd.Series:
    """Per row, the Excel format of `col`: values by their unit, counts whole unless they carry decimals."""
    if col in COUNT_COLUMNS:
        v = pd.to_numeric(frame[col], errors="coerce")
        money = frame["unit"].isin(MONEY_UNITS) if "unit" in frame else pd.Series(False, index=frame.index)
        decimals = pd.Series("#,##0.0", index=frame.index).where(~money, "#,##0.00")
        return pd.Series("#,##0", index=frame.index).where((v == v.round()) | v.isna(), decimals)
    units = frame["unit"].fillna("").astype(str) if "unit" in frame else pd.Series("", index=frame.index)
    k = frame["indicator"].map(kinds).astype(object).fillna("") if "indicator" in frame else pd.Series("", index=frame.index)
    pairs = units.str.cat(k.astype(str), sep="\x1f")
    formats = {p: _excel_format(*p.split("\x1f")) for p in pairs.unique()}    # a few distinct (unit, kind) pairs
    return pairs.map(formats)


def _write(xl: pd.ExcelWriter, name: str, frame: pd.DataFrame, level: float, met_cols=("met",), kinds=None) -> None:
    out = frame.copy()
    for c in met_cols:
        out = _met_column(out, c)
    out = out.rename(columns=headers(level))
    out.to_excel(xl, sheet_name=name, index=False)
    ws = xl.sheets[name]
    ws.freeze_panes = "A2"
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="F0F3F7")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for j, col in enumerate(frame.columns, start=1):
        letter = get_column_letter(j)
        width = max(len(str(headers(level).get(col, col))), *(frame[col].astype(str).str.len().head(200).tolist() or [4]))
        ws.column_dimensions[letter].width = min(max(width * 1.2, 8), 48)
        if col in VALUE_COLUMNS + COUNT_COLUMNS and pd.api.types.is_numeric_dtype(frame[col]):
            for (cell,), fmt in zip(ws.iter_rows(min_row=2, min_col=j, max_col=j), _number_formats(frame, col, kinds or {})):
                cell.number_format = fmt
        elif pd.api.types.is_float_dtype(frame[col]):
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = "#,##0.00"
        if col in met_cols and len(frame):
            rng = f"{letter}2:{letter}{len(frame) + 1}"
            ws.conditional_formatting.add(rng, FormulaRule(formula=[f'{letter}2="未达标"'], stopIfTrue=True,
                                                           fill=PatternFill("solid", bgColor=RED)))
            ws.conditional_formatting.add(rng, FormulaRule(formula=[f'{letter}2="达标"'], stopIfTrue=True,
                                                           fill=PatternFill("solid", bgColor=GREEN)))
            ws.conditional_formatting.add(rng, FormulaRule(formula=[f'{letter}2="不判定"'], stopIfTrue=True,
                                                           fill=PatternFill("solid", bgColor=GREY)))
    if len(frame):
        ws.auto_filter.ref = ws.dimensions


def _scorecard_sheet(xl: pd.ExcelWriter, cells: pd.DataFrame) -> None:
    """The HTML scorecard as a sheet: hospitals × indicators, each cell 'value mark arrow', filled by 达标."""
    name = "记分卡 Scorecard"
    heads = column_heads(cells)
    text = (cells["text"] + " " + cells["mark"] + " " + cells["arrow"]).str.strip()
    wide = cells.assign(cell=text).pivot(index="unit_name", columns="indicator", values="cell")
    units = list(dict.fromkeys(cells["unit_name"]))
    wide = wide.reindex(index=units, columns=list(heads.index)).fillna("")
    wide.columns = [f"{r.name_zh}\n{r.target}" for r in heads.itertuples()]
    wide.index.name = "医院 Hospital"
    wide.to_excel(xl, sheet_name=name)
    ws = xl.sheets[name]
    met = cells.pivot(index="unit_name", columns="indicator", values="met").reindex(index=units, columns=list(heads.index))
    for (r, c), label in pd.DataFrame(met.to_numpy()).stack().items():     # a cell per hospital × indicator
        if label in FILLS:
            ws.cell(row=r + 2, column=c + 2).fill = PatternFill("solid", fgColor=FILLS[label])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="bottom")
    ws.column_dimensions["A"].width = 20
    for j in range(2, len(heads) + 2):
        ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = 16
    ws.freeze_panes = "B2"
    ws.cell(row=len(units) + 3, column=1, value="✓ 达标 ✗ 未达标 – 不判定；↑ ↓ → 与上年同期比较 / vs the same period last year")


def write_xlsx(report: Report, path: str | Path) -> Path:
    """Sheets: 记分卡 Scorecard, 概览 Overview, 摘要 Summary, 计划目标 Plan (with a target set), one per theme, 无法计算, 诊断, 来源, 图表.

    Examples:
        >>> import tempfile, pathlib
        >>> from openpyxl import load_workbook
        >>> from qcindicators.synthetic import Size, generate_tables
        >>> from qcindicators.report import build_report
        >>> rep = build_report(generate_tables(Size(n_facilities=4)), figures=False)
        >>> load_workbook(write_xlsx(rep, pathlib.Path(tempfile.mkdtemp()) / "r.xlsx")).sheetnames[:2]
        ['记分卡 Scorecard', '概览 Overview']
    """
    path = Path(path)
    level = report.provenance.get("intervals", {}).get("level", 0.95)
    rows = report.rows()
    kinds = {i: s.kind for i, s in report.result.specs.items()}
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        _scorecard_sheet(xl, report.scorecard())
        _write(xl, "概览 Overview", report.overview(), level, kinds=kinds)
        _write(xl, "摘要 Summary", report.summary()[ROW_COLUMNS], level, kinds=kinds)
        if report.plan is not None:
            _write(xl, "计划目标 Plan", report.plan, level, met_cols=("region_met",))
        _write(xl, "说明 Read me", pd.DataFrame(legend(level), columns=["说明", "Message"]), level)
        xl.sheets["说明 Read me"].column_dimensions["A"].width = 90
        xl.sheets["说明 Read me"].column_dimensions["B"].width = 110
        for theme in [t for t in THEMES_ZH if (rows["theme"] == t).any()] + \
                     (["other"] if rows["theme"].isna().any() or (~rows["theme"].isin(list(THEMES_ZH))).any() else []):
            part = rows[rows["theme"] == theme] if theme != "other" else rows[~rows["theme"].isin(list(THEMES_ZH))]
            _write(xl, _sheet_name(f"{THEMES_ZH.get(theme, '其他')} {theme}"), part[ROW_COLUMNS], level, kinds=kinds)
        nc = report.not_computable if len(report.not_computable) else pd.DataFrame(columns=["indicator", "reason"])
        _write(xl, "无法计算 Not computable", nc, level)
        diag = report.result.diagnostics
        _write(xl, "诊断 Diagnostics", diag if len(diag) else pd.DataFrame(columns=["table", "check", "rows"]), level)
        prov = pd.DataFrame(flatten(report.provenance) + [("report.target_set", str(report.target_set or "")),
                                                          ("report.period", report.period)], columns=["key", "value"])
        _write(xl, "来源 Provenance", prov, level)
        ws = xl.book.create_sheet("图表 Figures")
        row = 1
        for note in report.notes:
            ws.cell(row=row, column=1, value=f"未绘制 / not drawn: {note}")
            row += 1
        for fig in report.figures:
            ws.cell(row=row, column=1, value=fig.title).font = Font(bold=True)
            img = Image(io.BytesIO(fig.png))
            ws.add_image(img, f"A{row + 1}")
            row += int(img.height / 20) + 3
    return path
