"""The report: workbook golden (sheets, headers, cells), HTML content, rendering in a real browser, figures."""
import os
import shutil
import struct
import subprocess
import warnings
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

import qcindicators as qci
from qcindicators.cli import main
from qcindicators.report import build_report, write_report

GOLDEN = Path(__file__).parents[1] / "golden" / "report_workbook.txt"
REGEN = os.environ.get("QCI_REGEN_GOLDEN") == "1"


@pytest.fixture(scope="module")
def report(sample_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no glyph warnings, no deprecations while drawing
        warnings.simplefilter("ignore", qci.errors.QCIWarning)   # "no CJK font": tested in test_figures
        return build_report(qci.read_tables(sample_dir), targets="plan-2024-city")


@pytest.fixture(scope="module")
def workbook(report, tmp_path_factory):
    path = write_report(report, tmp_path_factory.mktemp("rep") / "report.xlsx")
    return load_workbook(path)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def _golden_text(wb) -> str:
    lines = ["sheets: " + " | ".join(wb.sheetnames)]
    for ws in wb.worksheets:
        header = [c.value for c in ws[1]] if ws.max_row >= 1 else []
        lines.append(f"[{ws.title}] frozen={ws.freeze_panes} header={header}")
    ws = wb["摘要 Summary"]
    for row in ws.iter_rows(min_row=2, max_row=9, values_only=True):
        shown = [f"{v:.4f}" if isinstance(v, float) else v for v in row]
        lines.append("  " + " | ".join("" if v is None else str(v) for v in shown))
    return "\n".join(lines) + "\n"


def test_workbook_matches_golden(workbook):
    text = _golden_text(workbook)
    if REGEN or not GOLDEN.exists():
        GOLDEN.write_text(text, encoding="utf-8")
        if not REGEN:
            pytest.fail("golden report_workbook.txt was missing; written — review and commit it")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_workbook_cells_agree_with_compute(workbook, sample_dir):
    ws = workbook["摘要 Summary"]
    header = [c.value for c in ws[1]]
    rows = pd.DataFrame(list(ws.iter_rows(min_row=2, values_only=True)), columns=header)
    aud = rows[(rows["指标代码 Id"] == "antibacterial_use_density") & (rows["机构 Unit"] == "全区域 / region")].iloc[0]
    direct = qci.compute(qci.read_tables(sample_dir), ["antibacterial_use_density"], by=[], period="year",
                         targets="plan-2024-city").to_frame().set_index("period").loc["2024"]
    assert aud["值 Value"] == pytest.approx(direct["value"])
    assert aud["95% CI 下限 low"] == pytest.approx(direct["ci_low"]) and aud["95% CI 上限 high"] == pytest.approx(direct["ci_high"])
    assert aud["目标值 Target"] == "<= 40" and aud["达标 Met"] == ("达标" if direct["met"] else "未达标")
    # the 达标 column is coloured by conditional formatting, green and red
    rules = [r for rng in ws.conditional_formatting for r in rng.rules]
    assert {r.formula[0].split("=")[1] for r in rules} == {'"达标"', '"未达标"', '"不判定"'}
    assert len(workbook["图表 Figures"]._images) == 19
    # counts without decimals, percentages with one, DDDs/100 patient-days with two
    cells = {c.column: c for c in ws[[r for r in range(2, 20) if ws.cell(r, 2).value == "antibacterial_use_density"][0]]}
    assert [cells[j].number_format for j in (6, 7, 8)] == ["#,##0.0", "#,##0", "#,##0.00"]


def test_scorecard_sheet_reads_like_the_html(workbook, report):
    ws = workbook["记分卡 Scorecard"]
    header = [c.value for c in ws[1]]
    col = header.index("抗菌药物使用强度\n<= 40") + 1
    assert header[0] == "医院 Hospital" and len(header) == 1 + report.scorecard()["indicator"].nunique()
    assert ws.cell(2, 1).value == "全区域 / region"                     # the region on top
    cells = report.scorecard()
    aud = cells[(cells["indicator"] == "antibacterial_use_density") & cells["is_region"]].iloc[0]
    assert ws.cell(2, col).value == f"{aud['text']} {aud['mark']} {aud['arrow']}".strip()
    assert ws.cell(2, col).fill.fgColor.rgb.endswith("DFF3E3") == (aud["met"] == "达标")


def test_every_figure_is_a_png_of_the_expected_size(report):
    kinds = [f.kind for f in report.figures]
    # a ranking for each of the 12 scorecard indicators; funnel and trend for its 3 proportions or rates
    assert kinds.count("funnel") == 3 and kinds.count("trend") == 3 and kinds.count("targets") == 1
    assert kinds.count("ranking") == report.scorecard()["indicator"].nunique() == 12
    for fig in report.figures:
        w, h = _png_size(fig.png)
        if fig.kind in ("targets", "ranking"):
            assert w >= 600 and h >= 250
        else:
            assert (w, h) == (800, 500)
        assert fig.svg.lstrip().startswith(b"<?xml")


def test_html_is_self_contained_and_complete(report, tmp_path):
    path = write_report(report, tmp_path / "report.html")
    page = path.read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page and "<script" not in page
    # the scorecard replaces the 达标 overview figure; every other figure is in its indicator's section
    assert page.count("data:image/png;base64,") == len(report.figures) - 1 == 18
    assert page.index('id="scorecard"') < page.index('id="indicators"') < page.index('id="appendix"')
    assert "<td>library.version</td><td>" + qci.__version__ + "</td>" in page    # text values stay text
    for title in ("摘要 Summary", "计划目标 Plan targets", "无法计算 Not computable", "诊断 Diagnostics", "来源 Provenance",
                  "抗菌药物 antibacterial"):
        assert title in page
    assert 'class="met' in page and 'class="unmet' in page
    for placeholder in (">True<", ">False<", ">nan<", ">None<", ">&lt;NA&gt;<", "units judged"):
        assert placeholder not in page
    # numbers by unit: a count of pathways without decimals, a percentage with one, beside a money-free page
    assert ">8 <span" in page and ">75.0 <span" in page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


PROBE = ("<script>window.addEventListener('load',()=>{const i=[...document.images],w=document.documentElement.clientWidth;"
         "const loose=[...document.querySelectorAll('table')].filter(t=>!t.closest('.scroll'));"
         "const cards=[...document.querySelectorAll('table.score tbody tr')];"
         "document.body.setAttribute('data-probe',JSON.stringify({images:i.length,"
         "decoded:i.filter(x=>x.complete&&x.naturalWidth>0).length,viewport:w,page:document.documentElement.scrollWidth,"
         "widest:Math.max(...loose.map(t=>t.getBoundingClientRect().right)),"
         "head:getComputedStyle(document.querySelector('table.score thead')).display,"
         "cards:cards.length,card_width:Math.max(...cards.map(r=>r.getBoundingClientRect().width)),"
         "first:document.querySelector('table.score tbody th').textContent}))})</script></body>")


def _in_chromium(path: Path, widths: dict[int, Path]) -> dict[int, dict]:
    """Lay the page out at each width, report what the browser laid out, and keep a screenshot per width.

    Headless Chromium keeps a window at least 500 px wide, so the page is measured inside an iframe of
    exactly `width` px (its own viewport: media queries and scroll width are the page's); the screenshot
    is taken of the page itself with --window-size, which Chromium does honour for screenshots. All the
    browsers run at once (each lays out a page of 18 figures for seconds)."""
    import html as _html
    import json
    import re
    page = path.read_text(encoding="utf-8").replace("</body>", PROBE)
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=10000"]
    dumps, shots = {}, []
    profile = iter(range(len(widths) * 2))        # a profile each: browsers sharing one wait for each other
    for width, shot in widths.items():
        frame = path.with_name(f"frame-{width}.html")
        frame.write_text(f'<!DOCTYPE html><html><body style="margin:0"><iframe id="f" style="width:{width}px;height:900px;'
                         f'border:0" srcdoc="{_html.escape(page)}"></iframe><script>document.getElementById("f").onload='
                         "e=>document.body.setAttribute('data-probe',e.target.contentDocument.body.getAttribute('data-probe'))"
                         "</script></body></html>", encoding="utf-8")
        dumps[width] = subprocess.Popen(args + [f"--user-data-dir={path.parent / f'profile-{next(profile)}'}", f"--window-size={max(width, 500) + 40},900", "--dump-dom", frame.as_uri()],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        shots.append(subprocess.Popen(args + [f"--user-data-dir={path.parent / f'profile-{next(profile)}'}", f"--window-size={width},900", f"--screenshot={shot}", path.as_uri()],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    found = {width: proc.communicate(timeout=180)[0] for width, proc in dumps.items()}
    for proc in shots:
        proc.wait(timeout=180)
    return {width: json.loads(_html.unescape(re.search(r'<body[^>]*data-probe="([^"]+)"', dom).group(1)))
            for width, dom in found.items()}


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (.ci/run installs Debian's chromium)")
def test_html_fits_a_desktop_and_a_phone_in_headless_chromium(report, tmp_path):
    """No sideways scrolling at 1280 px or 390 px (only appendix tables scroll, inside their own box);
    on a phone the scorecard is one card per hospital. Screenshots stay in the test's tmp dir."""
    path = write_report(report, tmp_path / "report.html")
    laid_out = _in_chromium(path, {1280: tmp_path / "report-1280.png", 390: tmp_path / "report-390.png"})
    desk, phone = laid_out[1280], laid_out[390]
    for found in (desk, phone):
        assert found["images"] == found["decoded"] == 18
        assert found["page"] <= found["viewport"], found            # the document never scrolls sideways
        assert found["widest"] <= found["viewport"], found          # nor does any table outside the appendix
        assert found["first"] == "全区域 / region" and found["cards"] == 13
    assert desk["viewport"] == 1280 and desk["head"] != "none"       # a table with a header row
    assert phone["viewport"] == 390 and phone["head"] == "none"      # cards: no header row, each as wide as the page
    assert 300 < phone["card_width"] <= 390
    assert _png_size((tmp_path / "report-390.png").read_bytes()) == (390, 900)
    assert _png_size((tmp_path / "report-1280.png").read_bytes()) == (1280, 900)


def test_cli_report_writes_both_formats(sample_dir, tmp_path, capsys):
    assert main(["--quiet", "report", str(sample_dir), "--out", str(tmp_path / "r.xlsx"), "--no-figures"]) == 0
    out = capsys.readouterr().out
    assert "report written" in out and "12 家医院 hospitals" in out and "hospital × indicator" in out
    assert "摘要 Summary" in load_workbook(tmp_path / "r.xlsx").sheetnames
    assert main(["report", str(sample_dir), "--out", str(tmp_path / "r.pdf")]) == 1
    assert ".xlsx or .html" in capsys.readouterr().err


def test_plan_sheet_is_what_qci_check_reports(report, sample_dir):
    # the report derives the plan from rows it already computed; it must equal a separate qci.check
    direct = qci.check(qci.read_tables(sample_dir), "plan-2024-city").summary
    pd.testing.assert_frame_equal(report.plan.reset_index(drop=True), direct.reset_index(drop=True), check_dtype=False)


def test_overview_counts_facilities_meeting_their_target(report):
    ov = report.overview().set_index("indicator")
    s = report.summary()
    aud = s[(s["indicator"] == "antibacterial_use_density") & s["facility_id"].notna()]
    met = aud["met"].astype("boolean")
    row = ov.loc["antibacterial_use_density"]
    assert row["hospitals_judged"] == met.notna().sum() == 12
    assert row["hospitals_met"] == (met == True).sum()          # noqa: E712
    assert row["period"] == "2024" and row["target_text"] == "<= 40"
    assert len(ov) == s["indicator"].nunique()               # every indicator, once
