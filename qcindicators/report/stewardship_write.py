"""The stewardship pack written as an Excel workbook (one sheet per table) or one HTML page."""
from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from ..display import CSS as TABLE_CSS
from ..display import html_table
from ..errors import QCIError
from .html import PAGE_CSS
from .stewardship import HEADERS, SHEETS, Stewardship
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

MET_TEXT = {True: "达标", False: "未达标"}
README = [
    ("科室排名：按出院科室统计的抗菌药物使用强度（出院患者口径：本月出院患者的 DDD 数 ÷ 其住院床日 × 100），"
     "第一行为全院；转科患者计入出院科室。", "Departments: AUD by discharge department (this month's discharges: their DDDs ÷ their "
     "patient-days × 100), the hospital first; a transferred stay counts in its discharge department."),
    ("医师排名：医师门诊处方中含抗菌药物的比例（一次就诊中一名医师开出的药品算一张处方），以及该医师开出的住院抗菌药物 DDD 数。",
     "Prescribers: the share of a prescriber's outpatient prescriptions (one visit's lines by one prescriber) with an "
     "antibacterial, and the inpatient antibacterial DDDs they ordered."),
    ("前十位：住院抗菌药物 DDD 数与全院抗菌药物金额最多的十个品种；占比为占全院合计的百分比。",
     "Top ten: the ten drugs with the most inpatient antibacterial DDDs and the most antibacterial spending; share of the "
     "hospital's total."),
    ("待修正编码：本月不在药品字典中的编码，以及无法计算 DDD 的抗菌药物（及原因），按未计入的金额排序。",
     "Codes to fix: this month's codes not in the drug dictionary and antibacterials without DDDs (and why), by the "
     "amount left uncounted."),
    ("达标与标记的含义同 qci report；分母低于指标规定的最小值（small_denominator）时不判定达标、不参与排名，列在已排名单位之后。",
     "Met and flags as in qci report; a unit below the indicator's minimum denominator (small_denominator) is neither "
     "judged nor ranked, and is listed after the ranked units."),
]


def write_stewardship(pack: Stewardship, path) -> Path:
    """By suffix: .xlsx or .html."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _xlsx(pack, path)
    if suffix in (".html", ".htm"):
        path.write_text(_html(pack), encoding="utf-8")
        return path
    raise QCIError(f"月报格式应为 .xlsx 或 .html / the pack is written as .xlsx or .html, not {suffix or path.name!r}")


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    """Bilingual headers, 达标 as text."""
    out = frame.copy()
    if "met" in out:
        out["met"] = out["met"].astype("boolean").map(lambda v: "" if v is pd.NA else MET_TEXT[bool(v)]).astype(object)
    return out.rename(columns=HEADERS)


def _readme(pack: Stewardship) -> pd.DataFrame:
    head = [(pack.title, ""), (f"机构 {pack.facility_id} · 统计期 {pack.period}", f"facility {pack.facility_id} · period {pack.period}")]
    return pd.DataFrame(head + README + [(n, "") for n in pack.notes], columns=["说明", "Read me"])


def _xlsx(pack: Stewardship, path: Path) -> Path:
    prov = pd.DataFrame(_provenance(pack), columns=["key", "value"])
    frames = {**{SHEETS[k]: shown(f) for k, f in pack.tables.items()}, "说明 Read me": _readme(pack), "来源 Provenance": prov}
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        for name, frame in frames.items():
            frame.to_excel(xl, sheet_name=name, index=False)
            ws = xl.sheets[name]
            ws.freeze_panes = "A2"
            for j, col in enumerate(frame.columns, start=1):
                ws.cell(row=1, column=j).font = Font(bold=True)
                ws.cell(row=1, column=j).fill = PatternFill("solid", fgColor="F0F3F7")
                ws.column_dimensions[get_column_letter(j)].width = min(max(len(str(col)) * 1.1, 10), 60)
                if pd.api.types.is_float_dtype(frame[col]):
                    for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                        cell.number_format = "#,##0.00"
    return path


def _provenance(pack: Stewardship) -> list[tuple[str, str]]:
    return _flat(pack.provenance) + [("stewardship.facility", pack.facility_id), ("stewardship.period", pack.period)]


def _flat(d: dict, prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for k, v in d.items():
        out += _flat(v, f"{prefix}{k}.") if isinstance(v, dict) else [(f"{prefix}{k}", str(v))]
    return out


def _html(pack: Stewardship) -> str:
    nav = "".join(f'<a href="#{k}">{html.escape(SHEETS[k])}</a>' for k in pack.tables)
    parts = [f"<!doctype html><html lang=\"zh\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
             f"content=\"width=device-width,initial-scale=1\"><title>{html.escape(pack.title)}</title>"
             f"<style>{PAGE_CSS}{TABLE_CSS}</style></head><body><header><h1>{html.escape(pack.title)}</h1>"
             f"<p>机构 facility {html.escape(pack.facility_id)} · 统计期 period {html.escape(pack.period)}</p></header>"
             f"<nav>{nav}</nav><main>"]
    for key, frame in pack.tables.items():
        parts.append(f'<section id="{key}"><h2>{html.escape(SHEETS[key])}</h2><div class="scroll">'
                     f"{html_table(frame, HEADERS)}</div></section>")
    notes = "".join(f"<li>{html.escape(zh)}<br>{html.escape(en)}</li>" for zh, en in README)
    notes += "".join(f"<li>{html.escape(n)}</li>" for n in pack.notes)
    parts.append(f'<section id="readme"><h2>说明 Read me</h2><ul>{notes}</ul></section></main></body></html>')
    return "".join(parts)
