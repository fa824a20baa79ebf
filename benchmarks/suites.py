"""Time the whole catalog, a plan check and the report as whole processes: medians and peak memory.

    python benchmarks/suites.py [--data benchmarks/data] [--repeat 3] [--only catalog,check,report] [--workers N]

Writes benchmarks/results/suites.md. `qci check` is also compared with computing the same indicators for
one grouping (the issue's 1.2× bound: one read of each table answers the units and the region).
"""
import argparse
import os
import statistics
import sys
from pathlib import Path

from run import HERE, timed

from qcindicators import read_tables
from qcindicators.compile.feasibility import missing_by_indicator
from qcindicators.spec.load import builtin_catalog

PLAN = "plan-2024-city"


def commands(data: Path, out: Path, workers: int) -> dict[str, list[str]]:
    qci = [sys.executable, "-m", "qcindicators.cli", "--quiet"]
    par = ["--workers", str(workers)] if workers > 1 else []
    cat = builtin_catalog()
    wanted = list(dict.fromkeys(t.indicator for t in cat.target_set(PLAN).targets))
    missing = missing_by_indicator(cat, wanted, read_tables(data))       # what check computes: what the data can feed
    ids = sum((["--indicator", i] for i in wanted if not missing[i]), [])
    return {
        "catalog": qci + ["compute", str(data), "--by", "facility_id", "--period", "year", *par, "--out", str(out / "catalog.parquet")],
        "check": qci + ["check", str(data), "--targets", PLAN, "--by", "facility_id", "--period", "year", *par,
                        "--out", str(out / "check.csv")],
        "check_one_grouping": qci + ["compute", str(data), *ids, "--by", "facility_id", "--period", "year", *par,
                                     "--out", str(out / "check_one.parquet")],
        "report": qci + ["report", str(data), "--targets", PLAN, "--out", str(out / "report.html")],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(HERE / "data"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="catalog,check,check_one_grouping,report")
    ap.add_argument("--workers", type=int, default=1)
    a = ap.parse_args()
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    cmds = {k: v for k, v in commands(Path(a.data), out, a.workers).items() if k in a.only.split(",")}
    runs = {k: [timed(c) for _ in range(a.repeat)] for k, c in cmds.items()}
    lines = ["| run | median wall (s) | peak RSS (MB) | runs (s) |", "|---|---|---|---|"]
    for k, r in runs.items():
        lines.append(f"| {k} | {statistics.median(w for w, _ in r):.1f} | {max(m for _, m in r):.0f} | "
                     + ", ".join(f"{w:.1f}" for w, _ in r) + " |")
    text = "\n".join([f"Data: {a.data}; workers {a.workers}; {a.repeat} runs each; {os.cpu_count()} cores.", "", *lines])
    (out / "suites.md").write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
