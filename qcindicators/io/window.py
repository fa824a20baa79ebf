"""What a caller may push into a database's WHERE: a window of whole months and a list of facilities.

The hook is explicit: `read_tables(url, window=Window("2023-01", "2024-12", facilities=["F01"]))`.
Only rows that cannot change a number inside the window are left out, and `compute` then drops
(or flags) every result row the window does not cover, so a narrower read never becomes a quietly
different number.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import QCIError

# the date that puts a row in a period (spec/checks.py: DEFAULT_PERIOD_FROM); lines of a stay are also
# read when their stay was discharged inside the window (see database.py: _window_clause)
OWN_DATE = {"discharges": "discharge_date", "drug_orders": "order_date", "visits": "visit_date",
            "referrals": "referral_date", "satisfaction_surveys": "survey_date"}
STAY_CHILDREN = ("drug_orders", "procedures")
SUBSET_FLAG = "facility_subset"


@dataclass(frozen=True)
class Window:
    """Whole months `start`..`end` (inclusive, 'YYYY-MM'), and optionally only these facilities."""

    start: str | None = None
    end: str | None = None
    facilities: tuple[str, ...] = ()

    def __post_init__(self):
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(value)):
                raise QCIError(f"时间窗应为整月 YYYY-MM / window {name} must be a whole month YYYY-MM, got {value!r}")
        if self.start and self.end and self.start > self.end:
            raise QCIError(f"时间窗起点晚于终点 / window starts after it ends: {self.start} > {self.end}")
        object.__setattr__(self, "facilities", tuple(str(f) for f in self.facilities))

    @property
    def bounds(self) -> tuple[np.datetime64 | None, np.datetime64 | None]:
        """[first day, first day after the window): half-open, so a timestamp on the last day counts."""
        lo = np.datetime64(self.start, "D") if self.start else None
        hi = (np.datetime64(self.end, "M") + 1).astype("datetime64[D]") if self.end else None
        return lo, hi

    def describe(self) -> str:
        parts = []
        if self.start or self.end:
            parts.append(f"months {self.start or '…'}..{self.end or '…'}")
        if self.facilities:
            parts.append(f"{len(self.facilities)} facilities")
        return ", ".join(parts) or "none"

    def covers(self, periods: pd.Series) -> np.ndarray:
        """Which period labels ('YYYY-MM', 'YYYYQn', 'YYYY') lie wholly inside the window."""
        text = periods.astype("str")
        year = pd.to_numeric(text.str.slice(0, 4), errors="coerce")
        quarter = pd.to_numeric(text.str.extract(r"Q(\d)$")[0], errors="coerce")
        month = pd.to_numeric(text.str.extract(r"-(\d{2})$")[0], errors="coerce")
        first = np.where(month.notna(), month, np.where(quarter.notna(), quarter * 3 - 2, 1))
        last = np.where(month.notna(), month, np.where(quarter.notna(), quarter * 3, 12))
        lo = (year * 12 + first - 1).to_numpy(dtype=float)
        hi = (year * 12 + last - 1).to_numpy(dtype=float)
        ok = ~np.isnan(lo)
        if self.start:
            ok &= lo >= int(self.start[:4]) * 12 + int(self.start[5:]) - 1
        if self.end:
            ok &= hi <= int(self.end[:4]) * 12 + int(self.end[5:]) - 1
        return ok


def trim_to_window(frame: pd.DataFrame, window: Window | None, by: list[str]) -> pd.DataFrame:
    """Result rows the window covers; with a facility list, other facilities' rows go and wider groups are flagged."""
    if window is None or not len(frame):
        return frame
    keep = window.covers(frame["period"]) if (window.start or window.end) else np.ones(len(frame), bool)
    flag = np.zeros(len(frame), bool)
    if window.facilities:
        # rows of one facility (or a unit inside one) outside the list go; wider groups are flagged
        own = frame["facility_id"].notna().to_numpy() if "facility_id" in by else np.zeros(len(frame), bool)
        if own.any():
            keep &= ~own | frame["facility_id"].astype("str").isin(window.facilities).to_numpy()
        flag = keep & ~own
    out = frame[keep].reset_index(drop=True)
    if flag.any():
        old = out["flags"].fillna("").astype("str")
        out["flags"] = old.where(old == "", old + ";") + SUBSET_FLAG
    return out
