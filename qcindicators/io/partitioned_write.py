"""Write input tables as a Hive-partitioned Parquet dataset: a folder per table, a subfolder per facility.

The rows are written as they were read — before any coercion — so that reading the dataset back finds
exactly what reading the original found, failures included; nothing a check would have refused becomes
a silent missing value on the way.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from ..errors import QCIError
from ..schemas.contract import TABLES
from .partitions import SHARED
from .tables import read_tables


def write_partitioned(tables, path, by: str = "facility_id") -> Path:
    """`tables` as `path/TABLE/FACILITY_COLUMN=ID/part-0.parquet` (facilities and the drug dictionary as one file each).

    Examples:
        >>> import tempfile, qcindicators as qci
        >>> from qcindicators.synthetic import generate_tables, Size
        >>> out = qci.write_partitioned(generate_tables(Size(n_facilities=2)), tempfile.mkdtemp())
        >>> sorted(p.name for p in (out / "discharges").iterdir())[:1]
        ['facility_id=320700000']
    """
    if by != "facility_id":
        raise QCIError(f"目前只能按机构分区 / partitions are by facility (by='facility_id'), got {by!r}: a partition must "
                       "hold whole facilities so that every stay, visit and drug line stays with its facility")
    tables = read_tables(tables)
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    for name in tables.names:
        src = tables.source(name)
        header = _facility_header(tables, name)
        target = out / name
        if target.exists():
            shutil.rmtree(target)
        (out / f"{name}.parquet").unlink(missing_ok=True)
        if name in SHARED or header is None:
            pq.write_table(_rows(src, None).to_table(), out / f"{name}.parquet")
            continue
        # streamed: a 60-million-line table is never held whole
        ds.write_dataset(_rows(src, header), target, format="parquet", partitioning=[header], partitioning_flavor="hive",
                         basename_template="part-{i}.parquet", existing_data_behavior="overwrite_or_ignore",
                         use_threads=False)
    return out


def _facility_header(tables, name: str) -> str | None:
    want = TABLES[name].facility_column
    for header, canonical in zip(tables.source(name).headers(), tables.columns(name)):
        if canonical == want:
            return header
    return None


def _rows(src, header: str | None) -> ds.Scanner:
    """The rows of a source as read: Parquet as stored, text files as their text, frames with their types
    (mixed object columns as text); the facility column as text, so that ids keep their leading zeros."""
    if getattr(src, "kind", None) in ("parquet", "dataset"):
        data = ds.dataset(src.path, format="parquet", partitioning="hive" if src.kind == "dataset" else None)
    else:
        frame = src.read(None)
        frame = frame.assign(**{c: frame[c].map(str, na_action="ignore") for c in frame.columns if frame[c].dtype == object})
        data = ds.dataset(pa.Table.from_pandas(frame, preserve_index=False))
    names = data.schema.names
    return data.scanner(columns={n: ds.field(n).cast(pa.string()) if n == header else ds.field(n) for n in names})
