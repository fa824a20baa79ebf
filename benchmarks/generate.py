"""Generate the benchmark region as Parquet (streamed facility by facility; bounded memory).

    python benchmarks/generate.py [--out benchmarks/data] [--scale 1.0]
"""
import argparse
import time
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq

from qcindicators.synthetic import BENCHMARK, write_tables

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(Path(__file__).parent / "data"))
    ap.add_argument("--scale", type=float, default=1.0, help="fraction of the full size (e.g. 0.1 for a quick run)")
    a = ap.parse_args()
    size = replace(BENCHMARK, discharges_per_bed=BENCHMARK.discharges_per_bed * a.scale,
                   visits_per_bed=BENCHMARK.visits_per_bed * a.scale)
    t0 = time.time()
    out = write_tables(a.out, size=size, seed=7)
    for f in sorted(Path(out).glob("*.parquet")):
        print(f"{f.name:28s} {pq.ParquetFile(f).metadata.num_rows:>12,d} rows  {f.stat().st_size / 1e6:8.1f} MB")
    print(f"generated in {time.time() - t0:.0f} s")
