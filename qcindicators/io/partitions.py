"""Partitions of whole facilities: which row groups of which files each partition reads.

A partition is a set of whole facilities, so every link a definition follows (a drug line to its stay,
an operation to its stay, a line to its visit) stays inside one partition and the partials of the
partitions add up exactly. Each row group of each Parquet file is a piece; the facilities a piece holds
come from its Hive path key (`facility_id=F01`), its statistics (one facility), or a read of its facility
column. Pieces that share a facility are kept together — so data split by year or by county partitions
correctly too: a facility's years all land in one partition. A table that is not Parquet is read whole by
the first partition — allowed only for tables no link passes through; otherwise the layout is refused.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ..errors import QCIError
from ..schemas.contract import LINKS, TABLES
from .dataset import ParquetPieces, path_keys
from .readers import FrameSource

# tables every partition reads whole: the group axis and the lookups
SHARED = ("facilities", "drug_dictionary")
LINKED = tuple(dict.fromkeys(t for link in LINKS.values() for t in (link.parent, link.child)))


def as_pieces(src) -> ParquetPieces | None:
    """A Parquet source as pieces (a single file is a one-file dataset); None for anything else."""
    if isinstance(src, ParquetPieces):
        return src
    if getattr(src, "kind", None) == "parquet" and isinstance(getattr(src, "path", None), Path):
        return ParquetPieces(src.path.parent, (src.path,), None, (src.path,))
    return None


def piece_facilities(pieces: ParquetPieces, header: str, canonical: str) -> list[tuple[Path, int, frozenset[str], int]]:
    """(file, row group, the facilities it holds, its rows) for every piece of a table (or of a share of it): one
    footer read per file."""
    out = []
    for f, groups in pieces.pieces():     # a partition's share: only its own row groups
        keys = path_keys(pieces.folder, f)
        meta = pq.ParquetFile(f).metadata
        names = meta.schema.names
        for i in groups:
            if canonical in keys or header in keys:
                facs = frozenset([keys.get(canonical, keys.get(header))])
            else:
                stats = meta.row_group(i).column(names.index(header)).statistics if header in names else None
                if stats is not None and stats.has_min_max and stats.min == stats.max and stats.null_count == 0:
                    facs = frozenset([str(stats.min)])
                else:
                    col = pq.ParquetFile(f).read_row_group(i, columns=[header]).column(0)
                    facs = frozenset(str(v) for v in col.unique().to_pylist() if v is not None)
            out.append((f, i, facs, meta.row_group(i).num_rows))
    return out


def plan_partitions(tables, reads: list[str], n: int) -> list[dict[str, object]]:
    """Each partition's share of every table a run reads, facilities balanced by rows (at most n partitions)."""
    pieces: dict[str, list[tuple[Path, int, frozenset[str], int]]] = {}
    whole = []
    for t in reads:
        if t in SHARED or t not in tables:
            continue
        src = as_pieces(tables.source(t))
        if src is None:
            if t in LINKED:
                raise QCIError(f"表 {t} 不是 Parquet，无法按机构分区（可先运行 qci partition）/ table {t!r} is not Parquet "
                               "and cannot be split by facility: write the data with `qci partition DATA OUT` first, "
                               "or run with workers=1")
            whole.append(t)
            continue
        header = _header_of(tables, t)
        pieces[t] = piece_facilities(src, header, TABLES[t].facility_column)
    # a piece of a linked table binds its facilities together (their stays, lines and visits must meet);
    # a piece of another table is read, whole, by the partition of its first facility
    group = _facility_groups([facs if t in LINKED else frozenset([_first(facs)]) if facs else facs for t, ps in pieces.items() for _, _, facs, _ in ps])
    sizes: dict[int, int] = {}
    for t, ps in pieces.items():
        for f, i, facs, rows in ps:
            if facs:
                g = group[_first(facs)]
                sizes[g] = sizes.get(g, 0) + rows
    part_of = _balanced(sizes, n)
    out = []
    for k in range(max(len(set(part_of.values())), 1)):
        share: dict[str, object] = {}
        for t, ps in pieces.items():
            chosen: dict[Path, list[int]] = {}
            for f, i, facs, _ in ps:
                # a piece with no facility (all missing) goes to the first partition, whose checks report it
                if (part_of[group[_first(facs)]] if facs else 0) == k:
                    chosen.setdefault(f, []).append(i)
            share[t] = as_pieces(tables.source(t)).share(chosen)
        for t in whole:
            share[t] = tables.source(t) if k == 0 else FrameSource(pd.DataFrame(columns=tables.source(t).headers()))
        out.append(share)
    return out


def _first(facs: frozenset[str]) -> str:
    return min(facs)


def _facility_groups(sets: list[frozenset[str]]) -> dict[str, int]:
    """Facilities that share a piece belong together: connected components of the pieces' facility sets."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for facs in sets:
        items = list(facs)
        for other in items[1:]:
            parent[find(other)] = find(items[0])
        if items:
            find(items[0])
    roots = sorted({find(x) for x in parent})
    index = {r: i for i, r in enumerate(roots)}
    return {x: index[find(x)] for x in parent}


def _header_of(tables, table: str) -> str:
    """The file's header holding the table's facility column (a Chinese header is mapped by the alias table)."""
    want = TABLES[table].facility_column
    for header, canonical in zip(tables.source(table).headers(), tables.columns(table)):
        if canonical == want:
            return header
    return want


def _balanced(sizes: dict[int, int], n: int) -> dict[int, int]:
    """Facility group → partition, largest first into the lightest partition (at most n partitions)."""
    loads = [0] * max(min(n, len(sizes)), 1)
    out = {}
    for g, rows in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])):
        k = int(np.argmin(loads))
        out[g] = k
        loads[k] += rows
    return out

