"""Turn a raw frame into a canonical one: names, types, codes. Record what cannot be parsed.

A value that cannot be parsed becomes missing *and* a failure row; nothing
turns into NA silently. The caller's frame is never modified.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.arrays import ArrowStringArray

from ..schemas.contract import BOOL_LABELS, ColumnSpec, TABLES
from ..schemas.failures import concat_failures, make_failures
from .aliases import header_map
from dataclasses import replace
from functools import lru_cache

# (shape that must match exactly, strptime format): strptime alone accepts too much ("31/12/2024")
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"
DATE_FORMATS = (
    (r"\d{4}-\d{1,2}-\d{1,2}" + _TIME, "%Y-%m-%d"),
    (r"\d{4}/\d{1,2}/\d{1,2}" + _TIME, "%Y/%m/%d"),
    (r"\d{8}", "%Y%m%d"),
)
# Dates outside these years are refused: a 1900 admission or a 2999 placeholder is an extract error,
# and beyond them the date type itself overflows (an OutOfBoundsDatetime traceback, not a message).
DATE_YEARS = (1900, 2100)
# Written in place of a value by exports: each is missing, like an empty cell (TABLES.md "or empty").
NULL_TOKENS = frozenset({"", "NA", "N/A", "n/a", "NULL", "null", "Null", "NaN", "nan", "NAN", "None", "none",
                         "#N/A", "-", "—", "--", "<NA>", "NaT"})
# Full-width digits and signs (from Chinese input methods) read as their ASCII forms: unambiguous.
_FULLWIDTH_NUMBER = str.maketrans("０１２３４５６７８９．，－＋", "0123456789.,-+")
# Thousands separators only in the one unambiguous form: 1,234,567.89 (never 12,34 or 1.234,56).
_THOUSANDS = r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?"


def canonicalise(raw: pd.DataFrame, table: str, user_aliases=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rename headers to canonical names and coerce each contract column to its type."""
    spec = TABLES[table]
    mapping = header_map(table, [str(c) for c in raw.columns], user_aliases)
    frame = raw.rename(columns={k: v for k, v in mapping.items() if k != v})
    frame = frame.reset_index(drop=True)
    failures = []
    new_cols = {}
    for name, col in spec.by_name.items():
        if name not in frame.columns:
            continue
        values, bad = coerce_column(frame[name], col)
        new_cols[name] = values
        if bad is not None and bad.any():
            failures.append(make_failures(frame, table, name, np.flatnonzero(bad), f"type:{col.kind}",
                                          *_type_message(col)))
    if new_cols:
        frame = frame.assign(**new_cols)
    return frame, concat_failures(failures)


def _type_message(col: ColumnSpec) -> tuple[str, str]:
    what = {
        "date": ("无法解析的日期，或不在 1900–2100 年之间（支持 YYYY-MM-DD、YYYY/MM/DD、YYYYMMDD）",
                 "unparseable date, or outside 1900–2100 (YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD)"),
        "float": ("不是数字", "not a number"),
        "int": ("不是整数或已知等级", "not an integer or a known label"),
        "bool": ("不是是/否值（是/否、1/0、Y/N、true/false）", "not a yes/no value (是/否, 1/0, Y/N, true/false)"),
        "code": ("不在代码表中：" + "、".join(col.codes or {}), "not in the code set: " + ", ".join(col.codes or {})),
        "period": ("统计期应为 YYYY 或 YYYY-MM", "period must be YYYY or YYYY-MM"),
    }.get(col.kind, ("无法转换", "cannot be converted"))
    return f"{col.zh}（{col.name}）{what[0]}", f"{col.name}: {what[1]}"


def coerce_column(s: pd.Series, col: ColumnSpec) -> tuple[pd.Series, np.ndarray | None]:
    """(canonical values, mask of values that were present but could not be parsed)."""
    fn = {"id": _as_text, "str": _as_text, "code": _as_code, "int": _as_int, "float": _as_float,
          "date": _as_date, "bool": _as_bool, "period": _as_period}[col.kind]
    return fn(blank_as_missing(s), col)


def blank_as_missing(s: pd.Series) -> pd.Series:
    """Empty, whitespace-only and NULL_TOKENS cells → missing, from any source (a blank optional
    code is missing, never a code failure). Categoricals are cleaned on their few categories."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.cat.categories
        if len(cats) and not pd.api.types.is_numeric_dtype(cats.dtype):
            blank = _blank_categories(cats)
            return s.cat.remove_categories(cats[blank]) if blank.any() else s
        return s
    if not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
        return s
    if isinstance(s.array, ArrowStringArray):
        blank = np.zeros(len(s), bool)
        maybe = np.flatnonzero(_maybe_blank(pa.array(s.array)))
        if len(maybe):
            blank[maybe] = s.iloc[maybe].str.strip().isin(NULL_TOKENS).to_numpy() & s.iloc[maybe].notna().to_numpy()
    else:
        text = s if s.dtype != object else s.astype("str")   # object columns may hold numbers or dates
        blank = text.str.strip().isin(NULL_TOKENS).to_numpy() & s.notna().to_numpy()
    return s.mask(blank) if blank.any() else s


def _blank_categories(cats: pd.Index) -> np.ndarray:
    """Which categories are blanks. Every batch of a Parquet column brings its own dictionary, mostly the same few
    labels: those are looked at once (pandas' string methods cost more than the handful of values)."""
    text = cats.astype(str)
    if len(text) > 4096:
        return pd.Series(text).str.strip().isin(NULL_TOKENS).to_numpy()
    return np.array([_is_blank(t) for t in text], dtype=bool).reshape(len(text))


@lru_cache(maxsize=1 << 16)
def _is_blank(text: str) -> bool:
    return text.strip() in NULL_TOKENS


_TOKEN_BYTES = max(len(t.encode()) for t in NULL_TOKENS)


def _not_printable(byte: np.ndarray) -> np.ndarray:
    """Bytes outside printable ASCII (0x21–0x7E): every ASCII space, and any non-ASCII byte, which may close a
    Unicode space (U+3000, U+00A0) — a superset, looked at closer. One wrapping subtraction and a comparison."""
    return np.subtract(byte, 0x21, dtype=np.uint8) > 0x7E - 0x21


def _maybe_blank(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Rows whose stripped text could be a NULL_TOKEN: short ones, and those with a space (or any
    non-ASCII character) at either end. Read from the Arrow offsets and bytes, so the millions of
    ids that cannot be blank are never stripped: stripping every id was a sixth of a run."""
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    return np.concatenate([_maybe_blank_chunk(c) for c in chunks]) if chunks else np.zeros(0, bool)


def _maybe_blank_chunk(arr: pa.Array) -> np.ndarray:
    n = len(arr)
    _, offsets, data = arr.buffers()
    offs = np.frombuffer(offsets, np.int64 if pa.types.is_large_string(arr.type) else np.int32)[arr.offset:arr.offset + n + 1]
    out = (offs[1:] - offs[:-1]) <= _TOKEN_BYTES
    if data is not None and data.size:
        raw = np.frombuffer(data, np.uint8)
        out |= _not_printable(raw.take(offs[:-1], mode="clip"))
        out |= _not_printable(raw.take(offs[1:] - 1, mode="clip"))
    if arr.null_count:
        out &= ~arr.is_null().to_numpy(zero_copy_only=False)
    return out


def _present(s: pd.Series) -> np.ndarray:
    present = s.notna().to_numpy(copy=True)
    if present.any() and (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
        present = present & (s.astype("str").str.strip() != "").to_numpy()
    return present


TEXT_DTYPE = pd.Series([], dtype=str).dtype   # pandas 3: the "str" dtype; pandas 2.x: object


def _plain(col: ColumnSpec) -> ColumnSpec:
    return replace(col, kind="str", name=col.name + "\0")   # not in LOW_CARDINALITY: plain text


def _as_text(s: pd.Series, col: ColumnSpec):
    """Text in one dtype whatever the source (CSV, Parquet string/large_string, Excel numbers).

    Low-cardinality columns become categoricals with text categories, whatever the source.
    """
    if col.categorical:
        cat = s if isinstance(s.dtype, pd.CategoricalDtype) else pd.Series(pd.Categorical(_as_text(s, _plain(col))[0]), index=s.index)
        cats = cat.cat.categories
        if cats.dtype != TEXT_DTYPE or (len(cats) and not isinstance(cats[0], str)):
            cat = cat.cat.rename_categories(_as_text(pd.Series(cats), _plain(col))[0].tolist())
        return cat, None
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype("object")
    if pd.api.types.is_float_dtype(s.dtype) and (s.dropna() % 1 == 0).all():
        # an id that arrived as a number (Parquet, Excel): 12.0 -> "12"; leading zeros were lost upstream
        s = s.astype("Int64")
    if s.dtype == TEXT_DTYPE and TEXT_DTYPE != object:
        return s, None
    missing = s.isna().to_numpy()
    text = s.astype(object).where(~missing, None)
    text = text.where(missing, text.astype(str)) if not pd.api.types.is_string_dtype(s.dtype) else text
    return text.astype(TEXT_DTYPE) if TEXT_DTYPE != object else text, None


def _categorical(s: pd.Series) -> pd.Categorical:
    return s if isinstance(s.dtype, pd.CategoricalDtype) else pd.Categorical(s)


def _as_code(s: pd.Series, col: ColumnSpec):
    """Map labels to canonical codes on the few distinct values, not on every row."""
    cat = pd.Series(_categorical(s))
    labels = col.label_map()
    cats = [str(c).strip() for c in cat.cat.categories]
    mapped = [labels.get(c, labels.get(c.lower())) for c in cats]
    codes = np.asarray(cat.cat.codes)
    dtype = _code_dtype(tuple(col.codes))
    lookup = np.array([list(col.codes).index(m) if m is not None else -2 for m in mapped] + [-1],
                      dtype=np.int8 if len(col.codes) < 127 else np.int32)
    new_codes = lookup[codes]  # codes == -1 (missing) hits the last slot
    bad = new_codes == -2
    new_codes[bad] = -1
    out = pd.Series(pd.Categorical.from_codes(new_codes, dtype=dtype, validate=False), index=s.index)
    return out, bad


@lru_cache(maxsize=256)
def _code_dtype(codes: tuple[str, ...]) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(codes))


def _as_int(s: pd.Series, col: ColumnSpec):
    if col.codes and not pd.api.types.is_numeric_dtype(s.dtype):
        coded, bad = _as_code(s.astype("str").where(s.notna()).str.strip().str.replace(r"\.0$", "", regex=True), col)
        num = pd.to_numeric(coded.astype("object"), errors="coerce")
        return num.astype("Int64"), bad
    num, bad = _as_float(s, col)
    frac = num.notna() & (num != np.floor(num.fillna(0)))
    bad = frac.to_numpy() if bad is None else bad | frac.to_numpy()
    return num.where(~frac).round().astype("Int64"), bad


def _as_float(s: pd.Series, col: ColumnSpec):
    """Finite numbers only: inf, -inf and 1e400 are failures, never a sum of infinity."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        num = s.astype("float64")
        inf = np.isinf(num.to_numpy())
        return (num.where(~inf) if inf.any() else num), inf
    text = s.astype("str").where(s.notna()).str.strip()
    num = _parse_numbers(text)
    retry = num.isna() & text.notna()
    if retry.any():   # full-width digits (１２３．５) or separators: parse again, on those few values only
        num[retry] = _parse_numbers(text[retry].str.translate(_FULLWIDTH_NUMBER))
    num = num.where(~np.isinf(num.to_numpy()))
    return num, _present(s) & num.isna().to_numpy()


def _parse_numbers(text: pd.Series) -> pd.Series:
    """Plain numbers; a comma only as a thousands separator in 1,234,567.89 form (12,34 fails)."""
    comma = text.str.contains(",", regex=False).to_numpy(dtype=bool, na_value=False)
    if comma.any():
        ok = text.str.fullmatch(_THOUSANDS).to_numpy(dtype=bool, na_value=False)
        text = text.where(~comma, text.where(ok).str.replace(",", "", regex=False))
    return pd.to_numeric(text.where(text != ""), errors="coerce").astype("float64")


def _as_date(s: pd.Series, col: ColumnSpec):
    """Dates in DATE_YEARS only; anything else (2999-12-31, 0001-01-01) a failure, not an overflow."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return _native_dates(s)
    text = s.astype("str").where(s.notna()).str.strip()
    text = text.str.replace(r"\.0$", "", regex=True)  # 20240105.0 from a numeric column
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    year = pd.to_numeric(text.str[:4], errors="coerce")
    todo = text.notna() & (text != "")
    parse = todo & year.between(*DATE_YEARS)
    for shape, fmt in DATE_FORMATS:
        if not parse.any():
            break
        fits = parse & text.str.fullmatch(shape).to_numpy(dtype=bool, na_value=False)
        if not fits.any():
            continue
        day = text[fits].str.replace(r"[ T].*$", "", regex=True)
        parsed = pd.to_datetime(day, format=fmt, errors="coerce")
        ok = parsed.notna()
        out.loc[ok[ok].index] = parsed[ok].astype("datetime64[ns]")
        parse &= out.isna()
    return out.dt.normalize(), (todo & out.isna()).to_numpy() & _present(s)


def _native_dates(s: pd.Series):
    """Dates that arrived typed (Parquet, DataFrame): one unit, the date only, DATE_YEARS only."""
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_localize(None)
    unit, _ = np.datetime_data(s.dtype)
    raw = s.to_numpy()
    # compared with the bounds in the column's own unit: converting every date to years cost seconds
    low, high = (np.datetime64(f"{DATE_YEARS[0]}-01-01", unit), np.datetime64(f"{DATE_YEARS[1] + 1}-01-01", unit))
    out_of_range = ~np.isnat(raw) & ((raw < low) | (raw >= high))
    if out_of_range.any():
        s = s.where(~out_of_range)
    if _time_of_day(s.to_numpy(), unit).any():   # keep the date only
        s = s.dt.normalize()
    return s.astype("datetime64[ns]"), out_of_range   # one unit whatever the source (Parquet dates arrive as [ms])


def _time_of_day(raw: np.ndarray, unit: str) -> np.ndarray:
    """Where a datetime (inside DATE_YEARS) has a time of day. Up to microseconds those ticks (< 2**53) divide
    exactly in floating point, which numpy vectorises; int64 remainders cost several times as much per value."""
    per_day = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}.get(unit, 1)
    ticks = raw.view(np.int64)
    present = ~np.isnat(raw)
    if unit in ("s", "ms", "us"):
        days = ticks / per_day
        return present & (days != np.floor(days))
    return present & (ticks % per_day != 0)


def _as_bool(s: pd.Series, col: ColumnSpec):
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("boolean"), None
    cat = pd.Series(_categorical(s.astype("str").where(s.notna())))
    cats = [str(c).strip().lower() for c in cat.cat.categories]
    values = [BOOL_LABELS.get(c) for c in cats]
    codes = np.asarray(cat.cat.codes)
    # 0 = False, 1 = True, 2 = missing, 3 = unknown label
    lookup = np.array([(3 if v is None else int(v)) for v in values] + [2], dtype=np.int8)
    k = lookup[codes]
    out = pd.array(k == 1, dtype="boolean")
    out[(k == 2) | (k == 3)] = pd.NA
    return pd.Series(out, index=s.index), k == 3


def _as_period(s: pd.Series, col: ColumnSpec):
    text = s.astype("str").where(s.notna()).str.strip().str.replace(r"\.0$", "", regex=True)
    text = text.str.replace("/", "-", regex=False).str.replace(r"^(\d{4})(\d{2})$", r"\1-\2", regex=True)
    ok = text.str.fullmatch(r"\d{4}(-(0[1-9]|1[0-2]))?").to_numpy(dtype=bool, na_value=False)
    return text.where(ok), _present(s) & ~ok
