"""Files → raw frames: one file per table, encoding detected, ids kept as text."""
from __future__ import annotations

import codecs
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..schemas.contract import TABLES
from ..errors import InputDataError, UnknownTableError, did_you_mean
from .coerce import NULL_TOKENS
from .csv_shape import check_csv_shape
import pyarrow.parquet as pq

EXTENSIONS = (".parquet", ".csv", ".xlsx")
NA_VALUES = sorted(NULL_TOKENS)
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
    _refuse_mixed_encoding(path, head)
    for enc in ("utf-8", "gbk", "gb18030"):
        try:
            # the sample may end inside a multi-byte character: an incremental decoder waits for the rest
            codecs.getincrementaldecoder(enc)().decode(head, final=len(head) < sample_bytes)
            return enc
        except UnicodeDecodeError:
            continue
    raise InputDataError(f"无法识别文件编码（支持 UTF-8、GBK、GB18030）/ cannot decode {path} as UTF-8, GBK or GB18030")


MIXED_AFTER = 20   # valid UTF-8 non-ASCII characters before the first undecodable byte: the file mixes encodings


def _refuse_mixed_encoding(path: Path, head: bytes) -> None:
    """UTF-8 text (a Chinese header, names) and then bytes that are not UTF-8: one encoding must hold for the
    whole file. GBK text is rarely valid UTF-8 by accident for more than a character or two."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        text = head[:err.start].decode("utf-8")
        if err.start < len(head) - 4 and len(text) - len(text.encode("ascii", "ignore")) >= MIXED_AFTER:
            line = head.count(b"\n", 0, err.start) + 1
            raise InputDataError(f"{path.name}: 文件前部为 UTF-8，第 {line} 行起不是（文件中混用了编码）/ the file is UTF-8 "
                                 f"up to line {line}, which is not (the file mixes encodings)") from None


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
        for batch in pq.ParquetFile(self.path, read_dictionary=dictionary).iter_batches(batch_size=rows, columns=headers):
            yield batch.to_pandas(date_as_object=False, ignore_metadata=True)

    def headers(self) -> list[str]:
        if self.kind == "parquet":
            with unreadable_as_input_error(self.path):
                return list(pq.read_schema(self.path).names)
        return [str(c) for c in self.raw().columns]

    def read(self, headers: list[str] | None = None, dictionary: list[str] = ()) -> pd.DataFrame:
        if self.kind == "parquet":
            with unreadable_as_input_error(self.path):
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
        with unreadable_as_input_error(self.path):
            if self.kind == "xlsx":
                frame, header = _workbook(self.path)
            else:
                self.encoding = detect_encoding(self.path)
                check_csv_shape(self.path)
                frame = self._read_csv()
                header = pd.read_csv(self.path, header=None, nrows=1, dtype=str, encoding=self.encoding).iloc[0].tolist()
        if frame.columns.size == 0:
            raise InputDataError(f"文件没有表头 / file has no header row: {self.path}")
        _refuse_duplicate_headers(self.path, header)
        _refuse_total_rows(self.path, frame)
        return frame

    def _read_csv(self) -> pd.DataFrame:
        """Strictly in the detected encoding, to the last byte: a file that changes encoding half-way
        is refused with the line, never read as mojibake."""
        try:
            return pd.read_csv(self.path, dtype=str, encoding=self.encoding, na_values=NA_VALUES,
                               keep_default_na=False, skipinitialspace=True)
        except UnicodeDecodeError:
            line = _undecodable_line(self.path, self.encoding)
            raise InputDataError(f"{self.path.name}: 第 {line} 行无法按 {self.encoding} 解码（文件中混用了编码）/ line {line} "
                                 f"cannot be decoded as {self.encoding} (the file mixes encodings)") from None
        except pd.errors.EmptyDataError:
            raise InputDataError(f"文件为空 / empty file: {self.path}") from None


def _workbook(path: Path) -> tuple[pd.DataFrame, list]:
    """The table of a workbook: its one sheet with data, or the sheets that share one header, one after the other
    (a month a sheet). Sheets with data under different headers are refused: which holds the table is not ours
    to guess (pandas alone reads the first sheet and drops the others without a word)."""
    sheets = pd.read_excel(path, sheet_name=None, dtype=str, na_values=NA_VALUES, keep_default_na=False)
    heads = pd.read_excel(path, sheet_name=None, header=None, nrows=1, dtype=str)
    full = [name for name, f in sheets.items() if f.columns.size and len(f)] or list(sheets)[:1]
    headers = {name: [str(h).strip() for h in heads[name].iloc[0].tolist()] if len(heads[name]) else [] for name in full}
    first = headers[full[0]]
    differ = [name for name in full if headers[name] != first]
    if differ:
        raise InputDataError(
            f"{path.name}: 多个工作表含有数据但表头不同（{', '.join(map(str, full))}），无法确定哪一个是数据表；请只保留数据表，"
            f"或使各表表头一致 / several sheets hold data under different headers ({', '.join(map(str, full))}): which one "
            f"is the table is ambiguous — keep only the data sheet(s), with one header")
    frame = sheets[full[0]] if len(full) == 1 else pd.concat([sheets[n] for n in full], ignore_index=True)
    return frame, heads[full[0]].iloc[0].tolist() if len(heads[full[0]]) else []


def _undecodable_line(path: Path, encoding: str) -> int:
    """1-based line of the first byte that does not decode."""
    data = path.read_bytes()
    try:
        data.decode(encoding)
        return 0
    except UnicodeDecodeError as err:
        return data.count(b"\n", 0, err.start) + 1


TOTAL_WORDS = ("合计", "总计", "小计", "合 计", "总 计", "小 计")


def _refuse_total_rows(path: Path, frame: pd.DataFrame) -> None:
    """A 合计/总计 row under a spreadsheet's data would be counted as one more stay or visit: refused, by row."""
    total = np.zeros(len(frame), bool)
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            total |= column.str.strip().isin(TOTAL_WORDS).to_numpy(dtype=bool)
    if total.any():
        rows = (np.flatnonzero(total) + 1).tolist()
        raise InputDataError(f"{path.name}: 第 {rows[:5]} 行是合计/小计行，会被当作一条记录计入；请删去 / data row(s) "
                             f"{rows[:5]} are total rows (合计/总计/小计): they would count as records — remove them")


def _refuse_duplicate_headers(path: Path, header: list) -> None:
    """pandas renames a repeated header to 'x.1'; a repeated header is ambiguous, so it is refused."""
    seen = pd.Series([str(h).strip() for h in header])
    blank = seen.isin(["", "nan", "None"]) | pd.Series(header).isna().to_numpy()
    if blank.sum() > 1:
        raise InputDataError(f"{path.name}: 表头行有多个空单元格——表头上方是否还有标题行？请删去标题行，使第一行为表头 / "
                             f"the header row has {int(blank.sum())} empty cells: is there a title row above the header? "
                             f"The first row must be the header")
    dup = sorted(set(seen[seen.duplicated()]))
    if dup:
        raise InputDataError(f"{path.name}: 表头重复 / duplicate header(s): {', '.join(dup)}")


@contextmanager
def unreadable_as_input_error(path: Path):
    """A file that cannot be read (truncated Parquet, a '.xlsx' that is not one, a broken CSV)
    is bad input: one bilingual message with the file, not a traceback from the parser."""
    try:
        yield
    except InputDataError:
        raise
    except (OSError, ValueError, KeyError, pd.errors.ParserError, zipfile.BadZipFile) as err:
        raise InputDataError(f"无法读取文件 / cannot read file {path.name}: {type(err).__name__}: "
                             f"{str(err).splitlines()[0] if str(err) else ''}") from err
    except Exception as err:
        if type(err).__module__.startswith(("pyarrow", "openpyxl")):
            raise InputDataError(f"无法读取文件 / cannot read file {path.name}: {type(err).__name__}: "
                                 f"{str(err).splitlines()[0] if str(err) else ''}") from err
        raise


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
