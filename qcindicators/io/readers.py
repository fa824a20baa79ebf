"""Files → raw frames: one file per table, encoding detected, ids kept as text."""
from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..schemas.contract import TABLES
from ..errors import InputDataError, UnknownTableError, did_you_mean

EXTENSIONS = (".parquet", ".csv", ".xlsx")
NA_VALUES = ["", "NA", "N/A", "NULL", "null", "NaN", "nan", "None", "-"]
_ZH_TABLE_NAMES = {t.zh: t.name for t in TABLES.values()}


def table_name_for(stem: str) -> str:
    """File stem → table name; accepts the canonical or the Chinese table name."""
    name = _ZH_TABLE_NAMES.get(stem, stem)
    if name not in TABLES:
        raise UnknownTableError(
            f"未知的表名 {stem!r}（文件名应为表名，如 discharges.csv）/ unknown table name {stem!r} "
            f"(a file must be named after its table, e.g. discharges.csv)." + did_you_mean(stem, list(TABLES) + list(_ZH_TABLE_NAMES)))
    return name


def find_table_files(directory: Path) -> dict[str, Path]:
    if not directory.is_dir():
        raise InputDataError(f"找不到数据目录 / data directory not found: {directory}")
    files: dict[str, Path] = {}
    for path in sorted(directory.iterdir()):
        # a folder named after a table, holding a Parquet dataset (Hive-partitioned or not)
        dataset = path.is_dir() and (path.name in TABLES or path.name in _ZH_TABLE_NAMES) and any(path.rglob("*.parquet"))
        if (path.suffix.lower() not in EXTENSIONS and not dataset) or path.name.startswith((".", "~$", "_")):
            continue
        name = table_name_for(path.name if dataset else path.stem)
        if name in files:
            raise InputDataError(f"表 {name} 有两个文件 / two files for table {name}: {files[name].name}, {path.name}")
        files[name] = path
    if not files:
        raise InputDataError(f"目录中没有 .parquet/.csv/.xlsx 数据文件 / no .parquet, .csv or .xlsx files in {directory}")
    return files


def detect_encoding(path: Path, sample_bytes: int = 1 << 20) -> str:
    """UTF-8 (with or without BOM), else GBK, else GB18030; anything else is an error."""
    with open(path, "rb") as fh:
        head = fh.read(sample_bytes)
    if not head.strip():
        raise InputDataError(f"文件为空 / empty file: {path}")
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    for enc in ("utf-8", "gbk", "gb18030"):
        try:
            # the sample may end inside a multi-byte character: an incremental decoder waits for the rest
            codecs.getincrementaldecoder(enc)().decode(head, final=len(head) < sample_bytes)
            return enc
        except UnicodeDecodeError:
            continue
    raise InputDataError(f"无法识别文件编码（支持 UTF-8、GBK、GB18030）/ cannot decode {path} as UTF-8, GBK or GB18030")


@dataclass
class FileSource:
    """A table in a file. Parquet is read column by column on demand."""

    path: Path
    encoding: str | None = None
    _raw: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def kind(self) -> str:
        return self.path.suffix.lower().lstrip(".")

    @property
    def columnar(self) -> bool:
        """Reads a subset of columns cheaply, and streams."""
        return self.kind == "parquet"

    def iter_batches(self, headers: list[str], dictionary: list[str], rows: int):
        import pyarrow.parquet as pq
        for batch in pq.ParquetFile(self.path, read_dictionary=dictionary).iter_batches(batch_size=rows, columns=headers):
            yield batch.to_pandas(date_as_object=False, ignore_metadata=True)

    def headers(self) -> list[str]:
        if self.kind == "parquet":
            import pyarrow.parquet as pq
            return list(pq.read_schema(self.path).names)
        return [str(c) for c in self.raw().columns]

    def read(self, headers: list[str] | None = None, dictionary: list[str] = ()) -> pd.DataFrame:
        if self.kind == "parquet":
            import pyarrow.parquet as pq
            names = pq.read_schema(self.path).names
            want = set(headers or names)
            # low-cardinality text read dictionary-encoded (→ categorical); dates as datetime64, not objects
            table = pq.read_table(self.path, columns=headers, read_dictionary=[h for h in dictionary if h in want])
            return table.to_pandas(date_as_object=False, ignore_metadata=True)
        raw = self.raw()
        return raw if headers is None else raw[headers]

    def raw(self) -> pd.DataFrame:
        if self._raw is None:
            self._raw = self._read_text_or_excel()
        return self._raw

    def _read_text_or_excel(self) -> pd.DataFrame:
        if self.path.stat().st_size == 0:
            raise InputDataError(f"文件为空 / empty file: {self.path}")
        if self.kind == "xlsx":
            frame = pd.read_excel(self.path, dtype=str, na_values=NA_VALUES, keep_default_na=False)
        else:
            self.encoding = detect_encoding(self.path)
            try:
                frame = pd.read_csv(self.path, dtype=str, encoding=self.encoding, na_values=NA_VALUES,
                                    keep_default_na=False, skipinitialspace=True)
            except UnicodeDecodeError:
                self.encoding = "gb18030"
                frame = pd.read_csv(self.path, dtype=str, encoding="gb18030", na_values=NA_VALUES,
                                    keep_default_na=False, skipinitialspace=True)
            except pd.errors.EmptyDataError:
                raise InputDataError(f"文件为空 / empty file: {self.path}") from None
        if frame.columns.size == 0:
            raise InputDataError(f"文件没有表头 / file has no header row: {self.path}")
        return frame


@dataclass
class FrameSource:
    """A table passed in as a DataFrame; never modified."""

    frame: pd.DataFrame

    kind = "frame"
    encoding = None
    path = None
    columnar = False

    def headers(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    def read(self, headers: list[str] | None = None, dictionary: list[str] = ()) -> pd.DataFrame:
        return self.frame if headers is None else self.frame[headers]
