"""Make a K-times region from a benchmark region by copying every facility K times (no regeneration).

    nice -n 19 python benchmarks/tile.py SRC OUT --times K [--check]

Copy 1 keeps the original ids; copy k gets new, distinct ones in every table:

- facility ids: numeric ids of one width are shifted by (k-1) × the id span, so 60 facilities
  320700000…320700059 become 600 facilities 320700000…320700599, as if the generator had made them;
  other ids get a suffix (F01 → F01_2);
- the columns holding a facility id: facility_id everywhere, from_/to_facility_id in referrals, the
  drug dictionary's facility_id if it has one (rows without it are region-wide and written once);
- counties, cities and facility names of copy k get the suffix `_k` (海州区 → 海州区_2: each copy is a
  city of its own, so county and city roll-ups are sums of like units); patients' home counties
  (patient_county) follow the same map, so "patients of this county" stays true in each copy;
- ids that must be unique over the whole table (referral_id) get the suffix; encounter, visit and
  patient ids stay as they are: they are unique only within a facility (the contract's keys include
  facility_id and the engine scopes them by facility).

Streamed row group by row group with pyarrow (memory bounded by one row group); every row group of the
source is written as one row group of the output, copy after copy, so a source whose row groups each hold
one facility (what generate.py writes) gives an output whose row groups each hold one facility too: the
engine's partitioning (qcindicators/io/partitions.py) reads that from the row-group statistics. The
output is verified from its metadata at the end (row counts, one facility per row group, every facility
present).

`--check` then computes the headline indicators by facility and month (and a county indicator by county)
on SRC and OUT in this process and asserts that every copy of every facility has exactly its original's
numbers — meant for a small region (generate.py --scale 0.1).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

FACILITY_COLUMNS = ("facility_id", "from_facility_id", "to_facility_id")
COUNTY_COLUMNS = ("county", "patient_county")
SUFFIXED = {"facilities": ("city", "facility_name"), "referrals": ("referral_id",)}
REGION_WIDE = ("drug_dictionary",)
RTOL = 1e-12          # one row per drug for the region (unless it has facility_id)


def copy_ids(ids: list[str], times: int) -> list[list[str]]:
    """ids of every copy: [original ids, copy 2's, …]; numeric ids of one width shifted by the span."""
    ids = [str(i) for i in ids]
    numeric = all(i.isdigit() for i in ids) and len({len(i) for i in ids}) == 1
    if numeric:
        lo, hi = min(int(i) for i in ids), max(int(i) for i in ids)
        span, width = hi - lo + 1, len(ids[0])
        if len(str(lo + times * span - 1)) == width:
            return [[f"{int(i) + k * span:0{width}d}" for i in ids] for k in range(times)]
    return [ids] + [[f"{i}_{k + 1}" for i in ids] for k in range(1, times)]


def suffix(col: pa.ChunkedArray | pa.Array, k: int):
    """Copy k's version of a text column: the suffix _k (copy 1 unchanged); missing stays missing."""
    if k == 0:
        return col
    return pc.binary_join_element_wise(col, pa.scalar(f"_{k + 1}", col.type), pa.scalar("", col.type))


def mapped(col, old: pa.Array, new: pa.Array, k: int, unknown=None):
    """Values of `old` replaced by those of `new`; any other value kept as it is (a county outside the
    region), or passed to `unknown` (a facility id the facilities table lacks gets the suffix)."""
    if k == 0:
        return col
    at = pc.index_in(col, value_set=old)
    return pc.if_else(pc.is_null(at), col if unknown is None else unknown(col, k), pc.take(new, at))


class Tiler:
    def __init__(self, src: Path, out: Path, times: int):
        self.src, self.out, self.times = src, out, times
        fac = pq.read_table(src / "facilities.parquet")
        ids = [str(v) for v in fac["facility_id"].to_pylist()]
        if len(set(ids)) != len(ids):
            raise SystemExit("facilities.facility_id is not unique")
        typ = fac.schema.field("facility_id").type
        self.ids = [pa.array(c, typ) for c in copy_ids(ids, times)]
        counties = sorted({str(v) for v in fac["county"].to_pylist() if v is not None}) if "county" in fac.column_names else []
        ctyp = fac.schema.field("county").type if counties else pa.large_string()
        self.counties = pa.array(counties, ctyp)
        self.county_copies = [pa.array(counties if k == 0 else [f"{c}_{k + 1}" for c in counties], ctyp)
                              for k in range(times)]

    def table_copy(self, name: str, t: pa.Table, k: int) -> pa.Table:
        cols = []
        for field, col in zip(t.schema, t.columns):
            if field.name in FACILITY_COLUMNS:
                col = mapped(col, self.ids[0], self.ids[k], k, unknown=suffix)
            elif field.name in COUNTY_COLUMNS:
                col = mapped(col, self.counties, self.county_copies[k], k)
            elif field.name in SUFFIXED.get(name, ()):
                col = suffix(col, k)
            cols.append(col.cast(field.type) if col.type != field.type else col)
        return pa.Table.from_arrays(cols, schema=t.schema)

    def tile(self, path: Path) -> tuple[int, int]:
        name = path.stem
        pf = pq.ParquetFile(path)
        schema = pf.schema_arrow
        region_wide = name in REGION_WIDE and "facility_id" not in schema.names
        rows = groups = 0
        tmp = self.out / f".{name}.parquet.tmp"
        with pq.ParquetWriter(tmp, schema, compression="zstd") as w:
            for k in range(1 if region_wide else self.times):
                for i in range(pf.metadata.num_row_groups):
                    t = pf.read_row_group(i)
                    if name in REGION_WIDE and k:
                        t = t.filter(pc.is_valid(t["facility_id"]))   # region-wide rows once, in copy 1
                    if not len(t):
                        continue
                    w.write_table(self.table_copy(name, t, k), row_group_size=len(t))
                    rows, groups = rows + len(t), groups + 1
        tmp.replace(self.out / path.name)
        return rows, groups


def verify(src: Path, out: Path, times: int) -> None:
    """Row counts ×K, and for tables whose source row groups hold one facility: so do the output's."""
    want = {str(i) for c in Tiler(src, out, times).ids for i in c.to_pylist()}
    for f in sorted(src.glob("*.parquet")):
        a, b = pq.ParquetFile(f).metadata, pq.ParquetFile(out / f.name).metadata
        want_rows = times * a.num_rows
        if f.stem in REGION_WIDE:         # region-wide rows (no facility) once, a facility's rows in every copy
            j = a.schema.names.index("facility_id") if "facility_id" in a.schema.names else None
            once = a.num_rows if j is None else sum(a.row_group(i).column(j).statistics.null_count
                                                     for i in range(a.num_row_groups))
            want_rows -= (times - 1) * once
        assert b.num_rows == want_rows, f"{f.name}: {b.num_rows} rows, expected {want_rows}"
        if "facility_id" not in b.schema.names or f.stem == "facilities":
            continue
        j = b.schema.names.index("facility_id")
        single = lambda m, i: (s := m.row_group(i).column(j).statistics) is not None and s.has_min_max and s.min == s.max  # noqa: E731
        if all(single(a, i) for i in range(a.num_row_groups)):
            assert all(single(b, i) for i in range(b.num_row_groups)), f"{f.name}: a row group holds several facilities"
            seen = {b.row_group(i).column(j).statistics.min for i in range(b.num_row_groups)}
            assert seen <= want, f"{f.name}: unknown facilities {sorted(seen - want)[:5]}"


def check(src: Path, out: Path, times: int) -> None:
    """Every copy of every facility has its original's numbers, exactly; so does every copy of a county."""
    import numpy as np
    import pandas as pd
    import qcindicators as qci
    sys.path.insert(0, str(Path(__file__).parent))
    from run import INDICATORS

    ids = Tiler(src, out, times).ids
    county = ["in_county_visit_rate"]
    runs = {}
    for label, data in (("source", src), ("tiled", out)):
        t0 = time.perf_counter()
        a = qci.compute(data, INDICATORS, by="facility_id", period="month", workers=1).to_frame()
        b = qci.compute(data, county, by="county", period="year", workers=1).to_frame()
        runs[label] = (a, b)
        print(f"check: computed {label} in {time.perf_counter() - t0:.1f} s ({len(a):,} facility rows)", flush=True)
    (a0, b0), (a1, b1) = runs["source"], runs["tiled"]
    keys = ["indicator", "period"]
    assert len(a1) == times * len(a0), f"{len(a1)} facility rows on the tiled data, expected {times} × {len(a0)}"
    # patients from outside the region (外省) are one group however many copies: K times the original's counts
    inside = set(pq.read_table(src / "facilities.parquet", columns=["county"])["county"].to_pylist())
    outside0 = b0[~b0["county"].astype(str).isin(inside)].sort_values(keys).reset_index(drop=True)
    outside1 = b1[~b1["county"].astype(str).isin({f"{c}_{k + 1}" if k else c for c in inside for k in range(times)})]
    outside1 = outside1.sort_values(keys).reset_index(drop=True)
    assert len(outside1) == len(outside0), f"{len(outside1)} rows of patients from outside the region, expected {len(outside0)}"
    for c in ("numerator", "denominator"):
        assert (outside1[c].to_numpy(float) == times * outside0[c].to_numpy(float)).all(), f"outside the region: {c}"
    b0 = b0[b0["county"].astype(str).isin(inside)]
    assert len(b1) - len(outside1) == times * len(b0), \
        f"{len(b1) - len(outside1)} county rows on the tiled data, expected {times} × {len(b0)}"
    worst, exact, total = [0.0], [0], [0]

    def compare(x: pd.DataFrame, y: pd.DataFrame, what: str) -> None:
        assert len(x) == len(y) and len(x), f"{what}: {len(y)} rows, expected {len(x)}"
        for c in x.columns:
            u, v = x[c].reset_index(drop=True), y[c].reset_index(drop=True)
            if pd.api.types.is_float_dtype(u.dtype) and pd.api.types.is_float_dtype(v.dtype):
                u, v = u.to_numpy(float), v.to_numpy(float)
                # sums of floats may differ in the last bits: the engine's 1 M-row batches cut a copy's rows
                # at other places than the original's
                # a growth in % is 100 × (ratio − 1): the ratio's last bits weigh (100 + |growth|) / |growth| more
                scale = np.maximum(np.abs(u), np.abs(v))
                if c == "value":
                    scale = np.where(x["indicator"].astype(str).str.endswith("_growth").to_numpy(), scale + 100, scale)
                same = (np.abs(u - v) <= RTOL * scale) | (np.isnan(u) & np.isnan(v))
                worst[0] = max(worst[0], float(np.nanmax(np.abs(u - v) / np.maximum(scale, 1e-300), initial=0)))
                exact[0] += int(((u == v) | (np.isnan(u) & np.isnan(v))).sum()); total[0] += len(u)
            else:
                same = np.array([(pd.isna(p) and pd.isna(q)) if pd.isna(p) or pd.isna(q) else str(p) == str(q)
                                 for p, q in zip(u.tolist(), v.tolist())], dtype=bool)
            assert same.all(), f"{what}, column {c}: {int((~same).sum())} differences, e.g.\n{x[~same].head(3).T}\nvs\n{y[~same].head(3).T}"

    a0 = a0.assign(facility_id=a0["facility_id"].astype(str)).sort_values(["facility_id", *keys]).reset_index(drop=True)
    a1 = a1.assign(facility_id=a1["facility_id"].astype(str))
    other = [c for c in a0.columns if c not in ("facility_id", "facility_name")]
    for k in range(times):
        back = dict(zip(ids[k].to_pylist(), ids[0].to_pylist()))
        part = a1[a1["facility_id"].isin(back)]
        part = part.assign(facility_id=part["facility_id"].map(back)).sort_values(["facility_id", *keys]).reset_index(drop=True)
        compare(a0[["facility_id", *other]], part[["facility_id", *other]], f"copy {k + 1}, by facility")
        sfx = "" if k == 0 else f"_{k + 1}"
        names = b0["county"].astype(str)
        part = b1[b1["county"].astype(str).isin(set(names + sfx))]
        part = part.assign(county=part["county"].astype(str).str.removesuffix(sfx) if sfx else part["county"].astype(str))
        compare(b0.assign(county=names).sort_values(["county", *keys]).reset_index(drop=True),
                part.sort_values(["county", *keys]).reset_index(drop=True), f"copy {k + 1}, by county")
    print(f"check: every one of the {times} copies of {a0['facility_id'].nunique()} facilities has its original's "
          f"numbers ({len(a0):,} rows each; {len(b0):,} county rows each): {exact[0]:,} of {total[0]:,} values "
          f"bit for bit, the largest relative difference {worst[0]:.1e} (tolerance {RTOL:g}; a growth's relative to 100 + |growth|)")

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--times", type=int, required=True, help="K: copies of every facility (1 copies the region)")
    ap.add_argument("--check", action="store_true", help="compute on SRC and OUT and compare (small regions)")
    ap.add_argument("--check-only", action="store_true", help="verify and check an OUT tiled before, without tiling")
    a = ap.parse_args()
    if a.times < 1:
        raise SystemExit("--times must be at least 1")
    if a.out.resolve() == a.src.resolve():
        raise SystemExit("OUT must differ from SRC")
    a.out.mkdir(parents=True, exist_ok=True)
    tiler = Tiler(a.src, a.out, a.times)
    t0 = time.perf_counter()
    for f in [] if a.check_only else sorted(a.src.glob("*.parquet")):
        t1 = time.perf_counter()
        rows, groups = tiler.tile(f)
        size = (a.out / f.name).stat().st_size / 1e6
        print(f"{f.name:28s} {rows:>13,d} rows {groups:>5d} row groups {size:9.1f} MB  {time.perf_counter() - t1:6.1f} s",
              flush=True)
    verify(a.src, a.out, a.times)
    print(f"tiled ×{a.times} in {time.perf_counter() - t0:.0f} s; verified (row counts, one facility per row group)")
    if a.check or a.check_only:
        check(a.src, a.out, a.times)


if __name__ == "__main__":
    main()
