"""Time `qci compute` against DuckDB SQL on the same files: whole processes, warm cache, medians.

    python benchmarks/run.py [--data benchmarks/data] [--repeat 3]

Checks that both give the same numbers (1e-9 relative) and writes benchmarks/results/latest.md.
"""
import argparse
import os
import statistics
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from processes import timed as tree_timed  # noqa: E402
INDICATORS = ["antibacterial_use_density", "antibacterial_use_density_discharge_cohort",
              "inpatient_cost_per_discharge_growth", "outpatient_cost_per_visit_growth",
              "inpatient_drug_cost_per_discharge_growth", "outpatient_drug_cost_per_visit_growth",
              "ic_staff_per_250_beds"]


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB of the largest process) of one whole run: the CLI's from wait4, its worker
    processes' sampled from /proc (they are the forkserver's children, which wait4 does not count)."""
    run = tree_timed(cmd, dict(os.environ))
    return run["wall"], max(run["parent"], run["worker"])


def prepare_dictionary(data: Path, out: Path) -> None:
    import qcindicators as qci
    from qcindicators.domain.ddd import resolve_dictionary
    d = resolve_dictionary(qci.read_tables(data)["drug_dictionary"])
    d.assign(drug_code=d["drug_code"].astype(str))[["drug_code", "ddd_per_unit", "is_antibacterial"]].to_parquet(
        out / "ddd_per_unit.parquet")


def agree(ours: Path, theirs: Path) -> tuple[int, float]:
    a = pd.read_parquet(ours)
    b = pd.read_parquet(theirs)
    a = a[a["indicator"].isin(INDICATORS)].astype({"facility_id": str, "period": str}).set_index(["indicator", "facility_id", "period"])
    b = b.astype({"facility_id": str, "period": str}).set_index(["indicator", "facility_id", "period"])
    keys = a.index.intersection(b.index)
    only = a.index.symmetric_difference(b.index)
    assert len(only) == 0, f"rows in one result only: {list(only[:5])}"
    worst = 0.0
    for col in ("numerator", "denominator", "value"):
        x, y = a.loc[keys, col].to_numpy(float), b.loc[keys, col].to_numpy(float)
        both = ~np.isnan(x) & ~np.isnan(y)
        assert (np.isnan(x) == np.isnan(y)).all(), f"{col}: missing in one result only"
        rel = np.abs(x[both] - y[both]) / np.maximum(np.abs(y[both]), 1e-300)
        worst = max(worst, float(rel.max(initial=0)))
    assert worst < 1e-9, f"results differ by {worst:g}"
    return len(keys), worst


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(HERE / "data"))
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    data = Path(a.data)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    prepare_dictionary(data, out)
    ours_cmd = [sys.executable, "-m", "qcindicators.cli", "compute", str(data), *sum((["--indicator", i] for i in INDICATORS), []),
                "--by", "facility_id", "--period", "month", "--out", str(out / "ours.parquet")]
    duck_cmd = [sys.executable, str(HERE / "duckdb_sql.py"), str(data), str(out / "ddd_per_unit.parquet"), str(out / "duckdb.parquet")]
    timed(duck_cmd), timed(ours_cmd)    # warm the file cache
    runs = {"qcindicators (pandas)": [], "DuckDB SQL": []}
    for _ in range(a.repeat):
        runs["qcindicators (pandas)"].append(timed(ours_cmd))
        runs["DuckDB SQL"].append(timed(duck_cmd))
    n, worst = agree(out / "ours.parquet", out / "duckdb.parquet")
    rows = {f.stem: __import__("pyarrow.parquet", fromlist=["x"]).ParquetFile(f).metadata.num_rows
            for f in data.glob("*.parquet") if not f.stem.startswith("_")}
    med = {k: (statistics.median(w for w, _ in v), max(m for _, m in v)) for k, v in runs.items()}
    ratio = med["qcindicators (pandas)"][0] / med["DuckDB SQL"][0]
    lines = ["| engine | median wall (s) | peak RSS, largest process (MB) | runs |", "|---|---|---|---|"]
    lines += [f"| {k} | {w:.2f} | {m:.0f} | {', '.join(f'{x:.2f}' for x, _ in runs[k])} |" for k, (w, m) in med.items()]
    report = "\n".join([
        "Input: " + ", ".join(f"{k} {v:,}" for k, v in sorted(rows.items())),
        f"Indicators: {', '.join(INDICATORS)}; by facility_id and month; {a.repeat} runs each after a warm-up.",
        "", *lines, "", f"Ratio (qcindicators / DuckDB): **{ratio:.2f}×**. "
        f"Agreement: {n:,} (indicator, facility, month) rows, largest relative difference {worst:.1e}.",
        f"Machine: {os.cpu_count()} cores; Python {sys.version.split()[0]}; pandas {pd.__version__}; "
        f"duckdb {__import__('duckdb').__version__}."])
    (out / "latest.md").write_text(report + "\n", encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
