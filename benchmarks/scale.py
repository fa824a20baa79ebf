"""Does time grow linearly with the data, and memory per process stay flat? `qci compute` on regions of
growing size (tile.py: 1×, 2×, 4× the benchmark region, more facilities), as whole processes.

    nice -n 19 python benchmarks/scale.py --data benchmarks/data --data benchmarks/data_x2 --data benchmarks/data_x4 \
        [--repeat 3] [--workers 2] [--out benchmarks/results/scale.md]

Each run is `python -m qcindicators.cli compute DIR` of the seven headline indicators (run.py) by facility
and month with `--workers N`, after one warm-up run per dataset (file cache). While it runs, the process
tree (the CLI and the worker processes it spawns) is sampled every 0.2 s; each process's own peak RSS is
read from /proc (VmHWM, the kernel's high-water mark, so a peak between samples is not missed; only the
last 0.2 s of a process's life can be), the CLI's exactly from wait4. Reported: median wall time, its
ratio to the first dataset's beside the ratio of rows, and the peak of the largest process — the max over
processes, not their sum, since the claim is that each process's memory does not grow with the data.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import psutil
import pyarrow.parquet as pq

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from processes import timed  # noqa: E402
from run import INDICATORS  # noqa: E402

LINKED = ("discharges", "drug_orders", "visits", "procedures")


def walls(runs: list[dict]) -> str:
    return ", ".join(f"{x['wall']:.2f}" for x in runs)


def describe(data: Path) -> dict:
    rows = {f.stem: pq.ParquetFile(f).metadata.num_rows for f in data.glob("*.parquet")}
    return {"rows": rows, "linked": sum(rows.get(t, 0) for t in LINKED), "facilities": rows.get("facilities", 0),
            "mb": sum(f.stat().st_size for f in data.glob("*.parquet")) / 1e6}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", action="append", required=True, type=Path, help="a region folder, repeatable (first = 1×)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "scale.md")
    a = ap.parse_args()
    env = {**os.environ, "QCI_PROGRESS": "0"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent), env.get("PYTHONPATH", "")]))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for data in a.data:
            info = describe(data)
            cmd = [sys.executable, "-m", "qcindicators.cli", "compute", str(data), "--quiet",
                   *sum((["--indicator", i] for i in INDICATORS), []), "--by", "facility_id", "--period", "month",
                   "--workers", str(a.workers), "--out", str(Path(tmp) / "result.parquet")]
            timed(cmd, env)            # warm the file cache
            runs = []
            for _ in range(a.repeat):
                runs.append(timed(cmd, env))
                r = runs[-1]
                print(f"{data}: {r['wall']:.2f} s, CLI {r['parent']:.0f} MB, largest worker {r['worker']:.0f} MB "
                      f"({r['processes']} processes)", flush=True)
            out_rows = pq.ParquetFile(Path(tmp) / "result.parquet").metadata.num_rows
            results.append({"data": data, **info, "runs": runs, "out_rows": out_rows,
                            "wall": statistics.median(r["wall"] for r in runs),
                            "parent": max(r["parent"] for r in runs), "worker": max(r["worker"] for r in runs),
                            "processes": max(r["processes"] for r in runs)})
    first = results[0]
    lines = ["| data | facilities | rows (discharges + drug lines + visits + operations) | rows × | result rows "
             "| median wall (s) | time × | peak RSS, CLI process (MB) | peak RSS, largest worker (MB) | processes | runs (s) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['data'].name} | {r['facilities']:,} | {r['linked']:,} | {r['linked'] / first['linked']:.2f} "
                     f"| {r['out_rows']:,} | {r['wall']:.2f} | {r['wall'] / first['wall']:.2f} | {r['parent']:.0f} "
                     f"| {r['worker']:.0f} | {r['processes']} | {walls(r['runs'])} |")
    report = "\n".join([
        f"`qci compute` of {len(INDICATORS)} headline indicators by facility and month, --workers {a.workers}; "
        f"median of {a.repeat} runs after a warm-up; peak RSS is per process (max over processes and runs, not a sum).",
        "", *lines, "",
        f"Machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; Python {sys.version.split()[0]}."])
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(report + "\n", encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
