"""The stewardship workbook's sheets and headers (a golden file); regenerate with QCI_REGEN_GOLDEN=1 and review."""
import openpyxl

from qcindicators.report.stewardship import build_stewardship
from qcindicators.report.stewardship_write import write_stewardship
from qcindicators.synthetic import Size, generate_tables
from tests.golden.test_golden import check



def workbook_outline(path) -> str:
    book = openpyxl.load_workbook(path, read_only=True)
    lines = []
    for ws in book.worksheets:
        header = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
        lines.append(f"{ws.title}: " + " | ".join(str(h) for h in header if h is not None))
    return "\n".join(lines)


def test_stewardship_workbook_golden(tmp_path):
    tables = generate_tables(Size(n_facilities=2, discharges_per_bed=0.5, visits_per_bed=1.0))
    pack = build_stewardship(tables, "320700000", "2024-06", pseudonymise=True, salt="golden")
    out = write_stewardship(pack, tmp_path / "stewardship.xlsx")
    check("stewardship_workbook", workbook_outline(out))
    assert len(pack.tables["departments"]) > 3 and len(pack.tables["prescribers"]) > 3
    assert pack.tables["prescribers"]["prescriber_id"].str.startswith("医师-").all()
    html = write_stewardship(pack, tmp_path / "stewardship.html").read_text(encoding="utf-8")
    assert "科室排名 Departments" in html and "待修正编码 Codes to fix" in html
