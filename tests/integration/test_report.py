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
    assert {r.formula[0].split("=")[1] for r in rules} == {'"达标"', '"未达标"'}
    # targets overview + funnel and trend for the 7 proportions or rates with a target (the set's, and the
    # definitions' own for the indicators the set does not list)
    assert len(workbook["图表 Figures"]._images) == 15


def test_every_figure_is_a_png_of_the_expected_size(report):
    kinds = [f.kind for f in report.figures]
    assert kinds.count("funnel") == 7 and kinds.count("trend") == 7 and kinds.count("targets") == 1   # see above
    for fig in report.figures:
        w, h = _png_size(fig.png)
        if fig.kind == "targets":
            assert w >= 600 and h >= 250
        else:
            assert (w, h) == (800, 500)
        assert fig.svg.lstrip().startswith(b"<?xml")


def test_html_is_self_contained_and_complete(report, tmp_path):
    path = write_report(report, tmp_path / "report.html")
    page = path.read_text(encoding="utf-8")
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert page.count("data:image/png;base64,") == len(report.figures) == 15
    for title in ("摘要 Summary", "计划目标 Plan targets", "无法计算 Not computable", "诊断 Diagnostics", "来源 Provenance",
                  "抗菌药物 antibacterial"):
        assert title in page
    assert 'class="met"' in page and 'class="unmet"' in page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (.ci/run installs Debian's chromium)")
def test_html_renders_in_headless_chromium(report, tmp_path):
    path = write_report(report, tmp_path / "report.html")
    # a copy with a probe script: after load, record what the browser actually decoded and laid out
    probe = ("<script>window.addEventListener('load',()=>{const i=[...document.images];"
             "document.body.setAttribute('data-probe',JSON.stringify({images:i.length,"
             "decoded:i.filter(x=>x.complete&&x.naturalWidth>0).length,tables:document.querySelectorAll('table').length,"
             "rows:document.querySelectorAll('tbody tr').length,width:document.querySelector('figure img').getBoundingClientRect().width,"
             "viewport:document.documentElement.clientWidth,page:document.documentElement.scrollWidth}))})"
             "</script></body>")
    probed = tmp_path / "probed.html"
    probed.write_text(path.read_text(encoding="utf-8").replace("</body>", probe), encoding="utf-8")
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
            "--window-size=390,844"]                      # a phone
    dom = subprocess.run(args + ["--dump-dom", probed.as_uri()], capture_output=True, text=True, timeout=120).stdout
    import html as _html
    import json
    import re
    found = json.loads(_html.unescape(re.search(r'data-probe="([^"]+)"', dom).group(1)))
    assert found["images"] == found["decoded"] == 15
    assert found["tables"] >= 8 and found["rows"] > 100
    # figures shrink to a narrow window (Chromium keeps a window at least ~500 px wide) and nothing
    # widens the page beyond it: wide tables scroll inside their own box
    assert 0 < found["width"] < 800 and found["page"] <= found["viewport"] < 800
    shot = tmp_path / "shot.png"
    subprocess.run(args + [f"--screenshot={shot}", path.as_uri()], capture_output=True, timeout=120)
    assert _png_size(shot.read_bytes()) == (390, 844)


def test_cli_report_writes_both_formats(sample_dir, tmp_path, capsys):
    assert main(["--quiet", "report", str(sample_dir), "--out", str(tmp_path / "r.xlsx"), "--no-figures"]) == 0
    assert "report written" in capsys.readouterr().out
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
    assert row["units_judged"] == met.notna().sum() == 12
    assert row["units_met"] == (met == True).sum()          # noqa: E712
    assert row["period"] == "2024" and row["target_text"] == "<= 40"
    assert len(ov) == s["indicator"].nunique()               # every indicator, once
