"""A province-sized run on a Dask LocalCluster whose workers each have less memory than the data, checked
against one process.

    nice -n 19 python benchmarks/province.py --data benchmarks/data_x10 --memory-limit 2GB [--partitions 4]

Starts a LocalCluster of 2 worker processes (1 thread each, `--memory-limit` each: Dask pauses a worker at
80 % of it and restarts it at 95 %), runs `qcindicators.compute` of the seven headline indicators (run.py)
by facility and month with `scheduler=` the cluster's address, then the same with `workers=1` in this
process, and asserts that the two results are equal (to_frame(), relative 1e-12). Prints the wall times,
each worker's peak RSS (resource.getrusage in the worker, via client.run) and this process's.
Make the data with tile.py (bench_x10: the benchmark region × 10, 600 facilities).
"""
from __future__ import annotations

import argparse
import logging
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from run import INDICATORS  # noqa: E402


def peak_rss_mb() -> float:
    """This process's peak resident set (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def largest_difference(a: pd.DataFrame, b: pd.DataFrame) -> float:
    worst = 0.0
    for c in ("numerator", "denominator", "value"):
        x, y = a[c].to_numpy(float), b[c].to_numpy(float)
        both = ~np.isnan(x) & ~np.isnan(y)
        rel = np.abs(x[both] - y[both]) / np.maximum(np.abs(y[both]), 1e-300)
        worst = max(worst, float(rel.max(initial=0)))
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--memory-limit", default="2GB", help="per worker, Dask's notation (2GB, 1.5GiB)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--partitions", type=int, default=None,
                    help="partitions of whole facilities (default: 2 per worker, what qcindicators makes)")
    a = ap.parse_args()

    from dask.distributed import Client, LocalCluster
    from dask.utils import format_bytes, parse_bytes

    import qcindicators as qci

    limit = parse_bytes(a.memory_limit)
    on_disk = sum(f.stat().st_size for f in a.data.rglob("*.parquet"))
    print(f"data: {a.data} ({format_bytes(on_disk)} of Parquet); {a.workers} workers × 1 thread, "
          f"memory limit {format_bytes(limit)} each", flush=True)
    if limit >= on_disk:
        print("note: the memory limit is not below the data size on disk (a smoke run, not the province claim)",
              flush=True)
    # spawned worker processes must find qcindicators as this process does
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH", "")]))
    os.environ.setdefault("QCI_PROGRESS", "0")
    logging.getLogger("distributed").setLevel(logging.ERROR)

    tables = qci.read_tables(a.data)
    rows = {t: tables.n_rows(t) for t in ("discharges", "drug_orders", "visits", "procedures") if t in tables}
    print("rows: " + ", ".join(f"{t} {n:,}" for t, n in rows.items()), flush=True)
    # with a scheduler address, `workers` only sets the partitions: 2 per worker
    hint = max((a.partitions or 2 * a.workers) // 2, 1)

    with LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True, memory_limit=limit,
                      dashboard_address=":0", silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        before = set(client.scheduler_info()["workers"])
        print(f"cluster: {cluster.scheduler_address}, dashboard {client.dashboard_link}", flush=True)
        t0 = time.perf_counter()
        on_cluster = qci.compute(tables, INDICATORS, by="facility_id", period="month",
                                 scheduler=cluster.scheduler_address, workers=hint)
        wall_cluster = time.perf_counter() - t0
        after = set(client.scheduler_info()["workers"])
        peaks = client.run(peak_rss_mb)
        if before != after:
            print(f"note: workers were replaced during the run ({len(before - after)} gone, "
                  f"e.g. restarted for going over the memory limit); the peaks below are the current workers'")
    print(f"cluster run: {wall_cluster:.1f} s; worker peak RSS: "
          + ", ".join(f"{mb:.0f} MB" for mb in sorted(peaks.values(), reverse=True))
          + f" (limit {format_bytes(limit)}); client process {peak_rss_mb():.0f} MB so far", flush=True)

    t0 = time.perf_counter()
    alone = qci.compute(tables, INDICATORS, by="facility_id", period="month", workers=1)
    wall_one = time.perf_counter() - t0
    print(f"one process: {wall_one:.1f} s; peak RSS of this process {peak_rss_mb():.0f} MB", flush=True)

    x, y = on_cluster.to_frame(), alone.to_frame()
    keys = ["indicator", "facility_id", "period"]
    x = x.sort_values(keys).reset_index(drop=True)
    y = y.sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(x, y, rtol=1e-12)
    print(f"equal: {len(x):,} rows ({x['facility_id'].nunique()} facilities), largest relative difference "
          f"{largest_difference(x, y):.1e}")
    print("\n| run | wall (s) | peak RSS per process (MB) |\n|---|---|---|\n"
          f"| LocalCluster, {a.workers} workers × {format_bytes(limit)} | {wall_cluster:.1f} | workers "
          + ", ".join(f"{mb:.0f}" for mb in sorted(peaks.values(), reverse=True)) + " |\n"
          f"| one process (workers=1) | {wall_one:.1f} | {peak_rss_mb():.0f} |")


if __name__ == "__main__":
    main()
