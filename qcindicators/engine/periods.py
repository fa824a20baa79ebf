"""Period codes: integers that sort and subtract (months since 1970, quarters, years)."""
from __future__ import annotations

import numpy as np
import pandas as pd

MONTHS_PER = {"month": 1, "quarter": 3, "year": 12}
# a fixed absolute axis, 1970 to 2100, so partials of any batch, file or engine line up by addition
SPAN = {"month": 131 * 12, "quarter": 131 * 4, "year": 131}
YOY_LAG = {"month": 12, "quarter": 4, "year": 1}


_DAYS = np.arange(np.datetime64("1970-01-01"), np.datetime64("2101-01-01"))
_MONTH_OF_DAY = _DAYS.astype("datetime64[M]").astype(np.int64)      # a lookup table: day → month, 1970–2100


def month_codes(dates: pd.Series) -> np.ndarray:
    """Months since 1970-01 (−1 where missing, −2 outside 1970–2100), by table lookup rather than calendar maths."""
    values = dates.to_numpy() if not isinstance(dates, np.ndarray) else dates
    unit, _ = np.datetime_data(values.dtype)
    per_day = {"D": 1, "s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}[unit]
    ticks = values.view(np.int64)
    day = np.floor_divide(ticks, per_day)
    inside = (day >= 0) & (day < len(_MONTH_OF_DAY))
    months = np.where(inside, _MONTH_OF_DAY[np.where(inside, day, 0)], -2)
    return np.where(np.isnat(values), -1, months)


def to_grain(months: np.ndarray, grain: str) -> np.ndarray:
    """Month codes at a coarser grain; months themselves unchanged (not copied: callers never write to them)."""
    if MONTHS_PER[grain] == 1:
        return months
    return np.where(months >= 0, months // MONTHS_PER[grain], months)


def label(code: int, grain: str) -> str:
    if grain == "year":
        return str(1970 + code)
    if grain == "quarter":
        return f"{1970 + code // 4}Q{code % 4 + 1}"
    return f"{1970 + code // 12}-{code % 12 + 1:02d}"


def reported_months(period: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """facility_periods.period → (first, last month code) each row covers: a year its twelve months, a month
    itself; −1 where not a period."""
    text = period.astype("str").where(period.notna(), "").to_numpy(dtype=str)
    year = pd.to_numeric(pd.Series(text).str.slice(0, 4), errors="coerce").to_numpy()
    month = pd.to_numeric(pd.Series(text).str.slice(5, 7), errors="coerce").to_numpy()
    first = np.where(np.isnan(year), -1, (np.nan_to_num(year) - 1970) * 12 + np.nan_to_num(month, nan=1) - 1)
    last = np.where(np.isnan(month) & ~np.isnan(year), first + 11, first)
    return first.astype(np.int64), last.astype(np.int64)


def reported_period_codes(period: pd.Series, grain: str, fac: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """facility_periods.period ('YYYY' or 'YYYY-MM') → (codes, too_coarse mask, superseded mask).

    An annual row cannot be split into months or quarters: it is reported, not spread. A facility that reported
    a year both whole and by month is counted once at period='year', from its annual row: the monthly rows of that
    year are `superseded` (reported, not added to it).
    """
    text = period.astype("str").where(period.notna(), "").to_numpy(dtype=str)
    year = pd.to_numeric(pd.Series(text).str.slice(0, 4), errors="coerce").to_numpy()
    month = pd.to_numeric(pd.Series(text).str.slice(5, 7), errors="coerce").to_numpy()
    annual = np.isnan(month) & ~np.isnan(year)
    months = np.where(np.isnan(year), -1, (np.nan_to_num(year) - 1970) * 12 + np.nan_to_num(month, nan=1) - 1).astype(np.int64)
    codes = to_grain(months, grain)
    too_coarse = annual & (grain != "year")
    superseded = np.zeros(len(text), bool)
    if grain == "year" and annual.any():
        fac_year = fac.astype(np.int64) * 10_000 + np.nan_to_num(year).astype(np.int64)
        superseded = ~annual & ~np.isnan(year) & np.isin(fac_year, fac_year[annual])
    return np.where(too_coarse | superseded | np.isnan(year), -1, codes), too_coarse, superseded
