"""A table stored as Parquet pieces: a folder of files (Hive `key=value` folders become columns), or some
row groups of them — one partition's share of a table. Read file by file, never whole."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import InputDataError


def dataset_files(folder: Path) -> tuple[Path, ...]:
    """The Parquet files of a dataset folder, in a stable order (hidden and temporary files left out)."""
    files = tuple(sorted(p for p in folder.rglob("*.parquet")
                         if not any(part.startswith((".", "_")) for part in p.relative_to(folder).parts)))
    if not files:
        raise InputDataError(f"数据集目录中没有 Parquet 文件 / no Parquet files in the dataset folder {folder}")
    return files


def path_keys(folder: Path, file: Path) -> dict[str, str]:
    """Hive partition keys of a file: drug_orders/facility_id=F01/part-0.parquet → {"facility_id": "F01"}.
    Values are URL-decoded as Arrow writes them (facility_id=%E5%8C%BB%E9%99%A2%2FA is 医院/A)."""
    keys = (part.split("=", 1) for part in file.relative_to(folder).parts[:-1] if "=" in part)
    return {k: unquote(v) for k, v in keys}


def _agrees_with_folder(column: pa.ChunkedArray, key: str, value: str, file: Path) -> None:
    """A file whose own column says another value than its folder is ambiguous: which one is the row's?"""
    text = pc.cast(column, pa.string()) if not pa.types.is_string(column.type) else column
    if pc.any(pc.not_equal(text, value)).as_py():
        other = pc.filter(text, pc.not_equal(text, value))[0].as_py()
        raise InputDataError(
            f"{file}: 文件中的 {key} 列（如 {other!r}）与所在目录 {key}={value} 不一致，无法确定各行归属 / the file's own "
            f"{key} column (e.g. {other!r}) contradicts its folder {key}={value}: which one a row belongs to is ambiguous. "
            f"Rewrite the dataset with `qci partition`.")


@dataclass
class ParquetPieces:
    """Parquet files (and, for a partition's share, some row groups of each) read as one table."""

    folder: Path
    files: tuple[Path, ...]
    row_groups: tuple[tuple[int, ...], ...] | None = None     # per file; None: every row group of every file
    all_files: tuple[Path, ...] | None = None                 # the whole table's files, for row numbers
    kind = "dataset"
    columnar = True
    encoding = None
    may_be_empty = True

    @classmethod
    def of(cls, folder: Path) -> "ParquetPieces":
        files = dataset_files(folder)
        return cls(folder, files, None, files)

    @property
    def path(self) -> Path:
        return self.folder

    def pieces(self) -> list[tuple[Path, list[int]]]:
        if self.row_groups is None:
            return [(f, list(range(pq.ParquetFile(f).metadata.num_row_groups))) for f in self.files]
        return [(f, list(rg)) for f, rg in zip(self.files, self.row_groups) if rg]

    def headers(self) -> list[str]:
        first = (self.all_files or self.files)[0]
        names = list(pq.read_schema(first).names)
        return names + [k for k in path_keys(self.folder, first) if k not in names]

    def _frame(self, file: Path, table, headers: list[str] | None) -> pd.DataFrame:
        keys = path_keys(self.folder, file)
        for key, value in keys.items():
            if key in table.column_names:
                _agrees_with_folder(table.column(key), key, value, file)
        frame = table.to_pandas(date_as_object=False, ignore_metadata=True)
        for key, value in keys.items():
            if key not in frame.columns and (headers is None or key in headers):
                frame[key] = pd.Series([value] * len(frame), dtype=object)
        return frame

    def _columns(self, file: Path, headers: list[str] | None) -> list[str] | None:
        names = set(pq.read_schema(file).names)
        return None if headers is None else [h for h in headers if h in names]

    def _file(self, f: Path, dictionary) -> pq.ParquetFile:
        names = set(pq.read_schema(f).names)
        return pq.ParquetFile(f, read_dictionary=[d for d in dictionary if d in names])

    def read(self, headers: list[str] | None = None, dictionary: list[str] = ()) -> pd.DataFrame:
        parts = [self._frame(f, self._file(f, dictionary).read_row_groups(rg, columns=self._columns(f, headers)), headers)
                 for f, rg in self.pieces()]
        if not parts:
            return pd.DataFrame(columns=headers or self.headers())
        return pd.concat(parts, ignore_index=True)[headers] if headers else pd.concat(parts, ignore_index=True)

    def iter_batches(self, headers: list[str], dictionary: list[str], rows: int):
        for f, rg in self.pieces():
            source = self._file(f, dictionary)
            for batch in source.iter_batches(batch_size=rows, columns=self._columns(f, headers), row_groups=rg):
                yield self._frame(f, batch, headers)[headers]

    def n_rows(self) -> int:
        total = 0
        for f, rg in self.pieces():         # one footer per file, not one per row group
            meta = pq.ParquetFile(f).metadata
            total += sum(meta.row_group(i).num_rows for i in rg)
        return total

    def share(self, chosen: dict[Path, list[int]]) -> "ParquetPieces":
        """The row groups `chosen` (file → row groups) of this table: a partition's share."""
        return ParquetPieces(self.folder, self.files, tuple(tuple(chosen.get(f, ())) for f in self.files), self.all_files)

    def global_rows(self, rows: np.ndarray) -> np.ndarray:
        """1-based rows of this share → 1-based rows of the whole table (files in order); 0 stays 0."""
        whole = self.all_files or self.files
        return self.rows_in(ParquetPieces(self.folder, whole, None, whole), rows)

    def rows_in(self, outer: "ParquetPieces", rows: np.ndarray) -> np.ndarray:
        """1-based rows of this share → 1-based rows of `outer`, which holds every row group of it; 0 stays 0."""
        sizes = {f: pq.ParquetFile(f).metadata for f in dict.fromkeys([*outer.files, *self.files])}   # one footer per file
        start, at = {}, 0
        for f, rg in outer.pieces():
            for i in rg:
                start[(f, i)] = at
                at += sizes[f].row_group(i).num_rows
        local = [np.arange(start[(f, i)], start[(f, i)] + sizes[f].row_group(i).num_rows)
                 for f, rg in self.pieces() for i in rg]
        local = np.concatenate(local) if local else np.zeros(0, np.int64)
        rows = np.asarray(rows, dtype=np.int64)
        if not len(local):
            return np.zeros(len(rows), np.int64)
        return np.where(rows > 0, local[np.clip(rows - 1, 0, len(local) - 1)] + 1, 0)
