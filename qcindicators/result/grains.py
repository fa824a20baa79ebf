"""Targets a plan judges once over a class of facilities, whatever `by` the user chose.

"二级医院电子病历 5 级达标率 ≥ 80 %" is the share of the 二级 hospitals at level 5 or more, judged once for the
region; "三级医院 7 级 ≥ 2 家" counts them; "平均级别 ≥ 3" is their mean; "公立医院医护比总体 1:2" pools the
public hospitals' nurses and physicians. Each is computed here from the per-facility values (which stay in
the result beneath it), for the region or for each county (`per: county`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..spec.model import TARGET_RE, IndicatorSpec, TargetSetEntry
from .targets import condition_mask, facility_column, tolerance

CLASS_UNITS = {"facility_share": ("%", "%"), "facility_count": ("facilities", "家")}


def entry_mask(when: str | None, facilities: pd.DataFrame) -> np.ndarray:
    """The facilities a target entry's condition selects (an absent optional column selects none)."""
    return condition_mask(facilities, when)


def compare(values: np.ndarray, target: str | None) -> np.ndarray:
    """1.0 where `values` meet `target` ("<= 40"), 0.0 where not, NaN where there is no value or no target."""
    values = np.asarray(values, dtype=float)
    if not target:
        return np.full(values.shape, np.nan)
    op, number = TARGET_RE.match(target).groups()
    number = float(number)
    tol = tolerance(np.asarray(number))
    hit = {"<=": values <= number + tol, ">=": values >= number - tol, "<": values < number - tol,
           ">": values > number + tol, "==": np.abs(values - number) <= tol}[op]
    return np.where(np.isnan(values), np.nan, hit.astype(float))


def class_rows(frame: pd.DataFrame, entries: list[TargetSetEntry], facilities: pd.DataFrame,
               specs: dict[str, IndicatorSpec]) -> pd.DataFrame:
    """One row per class entry, county (if `per: county`) and period, in the columns of the check result."""
    parts = [_entry_rows(frame, e, facilities, specs[e.indicator]) for e in entries if e.indicator in specs]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _member_grid(frame: pd.DataFrame, e: TargetSetEntry, facilities: pd.DataFrame) -> tuple[pd.DataFrame, list, list]:
    """Every member of the class × every period the indicator has: its value, numerator and denominator (NaN if none)."""
    rows = frame[(frame["indicator"] == e.indicator) & frame["facility_id"].notna()]
    periods = sorted(rows["period"].dropna().astype(str).unique())
    ids = facilities["facility_id"].astype(str)
    members = ids[entry_mask(e.when, facilities)]
    index = pd.MultiIndex.from_product([members, periods], names=["facility_id", "period"])
    got = rows.assign(facility_id=rows["facility_id"].astype(str), period=rows["period"].astype(str))
    grid = got.set_index(["facility_id", "period"])[["value", "numerator", "denominator"]].reindex(index).reset_index()
    county = facility_column(facilities, "county").astype(object).to_numpy()
    grid["group"] = pd.Series(county, index=ids.to_numpy()).reindex(grid["facility_id"]).to_numpy() if e.per == "county" else ""
    return grid, periods, (sorted(set(pd.Series(county).dropna().astype(str))) if e.per == "county" else [""])


def _entry_rows(frame: pd.DataFrame, e: TargetSetEntry, facilities: pd.DataFrame, spec: IndicatorSpec) -> pd.DataFrame:
    grid, periods, groups = _member_grid(frame, e, facilities)
    if not periods:
        return pd.DataFrame()
    grid["has"] = grid["value"].notna().astype(float)
    grid["ok"] = np.nan_to_num(compare(grid["value"].to_numpy(), e.criterion))
    grid["v"] = grid["value"].fillna(0.0)
    sums = grid.groupby(["group", "period"], dropna=False)[["has", "ok", "v", "numerator", "denominator"]].sum(min_count=0)
    size = grid.groupby(["group", "period"], dropna=False).size().rename("members")
    full = pd.MultiIndex.from_product([groups, periods], names=["group", "period"])
    out = sums.join(size).reindex(full).fillna({"has": 0, "ok": 0, "v": 0, "members": 0,
                                                 "numerator": 0, "denominator": 0}).reset_index()
    num, den, value = _aggregate(e.grain, out, spec.scale)
    unit = CLASS_UNITS.get(e.grain, (spec.unit,))[0]
    missing = (out["members"] - out["has"]).astype(int).to_numpy()
    flags = [";".join(f for f in (("zero_denominator" if np.isnan(v) else ""),
                                   (f"facilities_without_value:{m}" if m else "")) if f) for v, m in zip(value, missing)]
    met = compare(value, e.value)
    return pd.DataFrame({
        "indicator": e.indicator, "county": out["group"].where(out["group"] != "", None) if e.per == "county" else None,
        "period": out["period"], "numerator": num, "denominator": den, "value": value, "unit": unit,
        "target": float(TARGET_RE.match(e.value).group(2)) if e.value else np.nan,
        "target_op": TARGET_RE.match(e.value).group(1) if e.value else "",
        "met": pd.array(np.where(np.isnan(met), None, met == 1), dtype="boolean"),
        "ci_low": np.nan, "ci_high": np.nan, "flags": flags, "grain": e.grain, "class": e.when or "",
        "criterion": e.criterion or ""})


def _aggregate(grain: str, out: pd.DataFrame, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(numerator, denominator, value) of each group and period."""
    has, ok = out["has"].to_numpy(float), out["ok"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if grain == "facility_share":
            return ok, has, np.where(has > 0, ok / has * 100, np.nan)
        if grain == "facility_count":
            return ok, np.full(len(out), np.nan), ok
        if grain == "facility_mean":
            v = out["v"].to_numpy(float)
            return v, has, np.where(has > 0, v / has, np.nan)
        n, d = out["numerator"].to_numpy(float), out["denominator"].to_numpy(float)
        return n, d, np.where(d > 0, n / d * scale, np.nan)
