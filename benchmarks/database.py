"""Time `qci compute` reading PostgreSQL against reading the same data from Parquet: whole processes, medians.

    python benchmarks/generate.py --scale 0.1 --out /tmp/region
    python benchmarks/database.py --data /tmp/region --url postgresql://user:pw@127.0.0.1:5432/db [--repeat 3]

Loads the Parquet files into schema `bench` (COPY; skipped with --no-load), then runs the seven headline
indicators by facility and month from each source, checks both results are identical, and prints a
Markdown table of median wall time and peak RSS. Needs the `db` extra.
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from run import INDICATORS, timed  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--url", required=True, help="PostgreSQL URL (the password is never printed)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-load", action="store_true")
    a = ap.parse_args()
    from qcindicators.io.dbload import load_parquet_folder
    from qcindicators.io.dburl import mask_url
    if not a.no_load:
        t0 = time.perf_counter()
        load_parquet_folder(a.data, a.url, schema="bench")
        print(f"loaded into {mask_url(a.url)} schema bench in {time.perf_counter() - t0:.0f} s")
    out = Path(tempfile.mkdtemp())
    picks = sum((["--indicator", i] for i in INDICATORS), [])
    cmds = {"Parquet files": [a.data], "PostgreSQL": [a.url, "--schema", "bench"]}
    cmds = {k: [sys.executable, "-m", "qcindicators.cli", "--quiet", "compute", *v, *picks, "--by", "facility_id",
                "--period", "month", "--out", str(out / f"{i}.parquet")] for i, (k, v) in enumerate(cmds.items())}
    for cmd in cmds.values():
        timed(cmd)       # warm caches (file cache, PostgreSQL's shared buffers)
    runs = {k: [timed(cmd) for _ in range(a.repeat)] for k, cmd in cmds.items()}
    pd.testing.assert_frame_equal(pd.read_parquet(out / "0.parquet"), pd.read_parquet(out / "1.parquet"))
    rows = len(pd.read_parquet(out / "0.parquet"))
    print(f"identical results: {rows} rows\n\n| source | median wall (s) | peak RSS (MB) | runs (s) |\n|---|---|---|---|")
    for k, r in runs.items():
        print(f"| {k} | {statistics.median(w for w, _ in r):.2f} | {max(m for _, m in r):.0f} | "
              + ", ".join(f"{w:.2f}" for w, _ in r) + " |")


if __name__ == "__main__":
    main()
