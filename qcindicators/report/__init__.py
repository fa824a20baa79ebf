"""`qci report`: the workbook and the HTML page a quality director reads."""
from .content import Report, build_report
from .html import write_html
from .xlsx import write_xlsx
from pathlib import Path
from ..errors import QCIError

__all__ = ["Report", "build_report", "write_html", "write_xlsx", "write_report"]


def write_report(report: Report, path) -> "object":
    """Write `report` as .xlsx or .html, by the file's suffix.

    Examples:
        >>> import tempfile, pathlib
        >>> from qcindicators.synthetic import Size, generate_tables
        >>> rep = build_report(generate_tables(Size(n_facilities=4)), figures=False)
        >>> out = write_report(rep, pathlib.Path(tempfile.mkdtemp()) / "report.html")
        >>> 'id="scorecard"' in out.read_text(encoding="utf-8")
        True
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return write_xlsx(report, path)
    if suffix in (".html", ".htm"):
        return write_html(report, path)
    raise QCIError(f"报告格式应为 .xlsx 或 .html / a report is written as .xlsx or .html, not {suffix or path.name!r}")
