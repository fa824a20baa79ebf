"""Checking a plan: every target of a target set, per unit and for the region, and what cannot be computed."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .api import catalog_of, compute, uses_county_from
from .compile.feasibility import missing_by_indicator
from .engine.conditions import with_conditions
from .result.grains import class_rows, entry_mask
from .result.result import Result
from .spec.expr import columns, parse
from .spec.model import CLASS_GRAINS
from .io.tables import read_tables


def target_sets(definitions=None) -> pd.DataFrame:
    """The shipped target sets (one per plan).

    Examples:
        >>> import qcindicators as qci
        >>> "plan-2024-city" in set(qci.target_sets()["id"])
        True
    """
    cat = catalog_of(definitions)
    return pd.DataFrame([{"id": t.id, "name_zh": t.name.zh, "name_en": t.name.en, "targets": len(t.targets),
                          "source": t.source.document} for t in cat.target_sets.values()]).sort_values("id", ignore_index=True)


def check(tables, targets: str | Path, by: Sequence[str] | str = ("facility_id",), period: str = "year",
          definitions=None, on_invalid: str = "raise", quarantine_dir=None, confidence: float = 0.95,
          withhold_small: bool = False, workers: int | None = None, scheduler: str | None = None) -> Result:
    """Every target of a plan: values, targets and 达标 per unit of `by` and for the whole region.

    Rows for the region have the `by` columns empty. Indicators the data cannot feed appear as one
    row each with NaN value and the flag `not_computable:<missing table or column>`. The result has
    the tidy columns of `compute` plus `target_set`; `result.summary` has one row per target.
    `withhold_small=True` leaves 达标 empty on rows flagged small_denominator (by default they are judged).

    Examples:
        >>> import qcindicators as qci
        >>> from qcindicators.synthetic import generate_tables, Size
        >>> r = qci.check(generate_tables(Size(n_facilities=4)), "plan-2024-city")
        >>> sorted(r.summary["indicator"])[:2]
        ['antibacterial_use_density', 'blood_from_donation_share']
    """
    by = [by] if isinstance(by, str) else list(by)
    tables = read_tables(tables)
    cat = catalog_of(definitions)
    ts = cat.target_set(targets)
    wanted = list(dict.fromkeys(t.indicator for t in ts.targets))
    reasons = missing_by_indicator(cat, wanted, tables)
    ok = [i for i in wanted if not reasons[i]]
    kw = dict(period=period, targets=targets, definitions=definitions, on_invalid=on_invalid, quarantine_dir=quarantine_dir,
              confidence=confidence, withhold_small=withhold_small, workers=workers, scheduler=scheduler)
    frames, first, specs = [], None, {}
    if ok:
        # one read of each table answers the units, the region and the per-facility values that class entries
        # are judged from (indicators grouped by the patient's county, 县域内就诊率, have county/region rows only)
        entries = _class_entries(tables, ts, ok, cat)
        groupings = [by] + ([[]] if by else []) + ([["facility_id"]] if entries and "facility_id" not in by else [])
        first = compute(tables, ok, by=groupings, **kw)
        specs.update(first.specs)
        union = list(dict.fromkeys(c for g in groupings for c in g))
        frames.append(_rows_of(first.frame, by, union).assign(grain="unit") if by else first.frame.iloc[0:0])
        frames.append(_rows_of(first.frame, [], union).assign(grain="region"))
        if entries:
            per_facility = _rows_of(first.frame, ["facility_id"], union)
            if "facility_id" not in by:
                frames.append(per_facility.assign(grain="facility"))
            frames.append(class_rows(per_facility, entries, facilities_with_conditions(tables, ts), {t.indicator: cat[t.indicator] for t in entries}))
    missing = not_computable_rows(reasons, cat)
    if len(missing):
        frames.append(missing)
    frame = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else pd.DataFrame()
    frame["target_set"] = ts.id
    extra = [c for c in ("facility_id", "county") if c not in by and c in frame.columns and frame[c].notna().any()]
    columns = ["indicator", *by, *extra, "period", "numerator", "denominator", "value", "unit", "target", "target_op", "met",
               "ci_low", "ci_high", "flags", "grain", "class", "criterion", "target_set"]
    frame = frame.reindex(columns=columns)
    frame["met"] = frame["met"].astype("boolean")
    for c in ("grain", "class", "criterion"):
        frame[c] = frame[c].astype(object).where(frame[c].notna(), "")
    result = Result(frame, first.diagnostics if first else pd.DataFrame(), first.provenance if first else {},
                    first.plan_text if first else "", pd.DataFrame([{"indicator": i, "reason": ";".join(r)} for i, r in reasons.items() if r],
                                                                   columns=["indicator", "reason"]),
                    specs=specs, by=by, facility_names=first.facility_names if first else None)
    result.summary = plan_summary(frame, ts, by, facilities_with_conditions(tables, ts))
    return result


def facilities_with_conditions(tables, ts) -> pd.DataFrame:
    """The facilities with the target set's conditions evaluated (the plan's conditions, by the engine)."""
    return with_conditions(tables.load("facilities"), [t.when for t in ts.targets if t.when])


def _class_entries(tables, ts, ok: list[str], cat) -> list:
    """Entries judged once over a class of facilities (share, count, mean, pooled total), from per-facility values."""
    have = set(tables.columns("facilities"))
    return [t for t in ts.targets if t.grain in CLASS_GRAINS and t.indicator in ok and not uses_county_from(cat, t.indicator)
            and not (t.when and columns(parse(t.when)) - have)]     # a class the data cannot name is not judged


def _rows_of(frame: pd.DataFrame, by: list[str], union: list[str]) -> pd.DataFrame:
    """The rows of one grouping in a result computed for several: its columns set, every other grouping column empty."""
    mask = np.ones(len(frame), bool)
    for c in union:
        mask &= (frame[c].notna() if c in by else frame[c].isna()).to_numpy()
    return frame[mask].drop(columns=[c for c in union if c not in by]).reset_index(drop=True)


def not_computable_rows(reasons: dict[str, list[str]], cat) -> pd.DataFrame:
    """One row per indicator the data cannot feed: NaN value and the flag not_computable:<what is missing>."""
    return pd.DataFrame([{"indicator": i, "period": None, "value": np.nan, "unit": cat[i].unit, "target": np.nan,
                          "target_op": "", "flags": "not_computable:" + ";".join(r)} for i, r in reasons.items() if r],
                        columns=["indicator", "period", "value", "unit", "target", "target_op", "flags"])


def plan_summary(frame: pd.DataFrame, ts, by: list[str], facilities: pd.DataFrame) -> pd.DataFrame:
    """`check(...).summary`: one row per target, how many units (or counties) met it, how many were judged,
    and the value for the region (latest period) at the entry's grain."""
    rows = []
    frame = _with_grain(frame, by)
    for t in ts.targets:
        f = frame[frame["indicator"] == t.indicator]
        units, region = _entry_rows(f, t, by, facilities)
        latest = region.dropna(subset=["period"]).sort_values("period").tail(1)
        if len(units) and units["period"].notna().any():
            units = units[units["period"] == units["period"].dropna().max()] if t.grain in CLASS_GRAINS else units
        rows.append({"indicator": t.indicator, "target": t.value or "（方向性目标 / direction only）", "when": t.when or "",
                     "grain": t.grain + (" per county" if t.per == "county" else ""), "criterion": t.criterion or "",
                     "text": t.text or "", "units_met": int((units["met"] == True).sum()),   # noqa: E712
                     "units_judged": int(units["met"].notna().sum()),
                     "region_period": latest["period"].iloc[0] if len(latest) else None,
                     "region_value": latest["value"].iloc[0] if len(latest) else np.nan,
                     "region_met": latest["met"].iloc[0] if len(latest) else pd.NA,
                     "status": _status(f, t, facilities)})
    return pd.DataFrame(rows)


def _status(f: pd.DataFrame, t, facilities: pd.DataFrame) -> str:
    """not_computable (the data lacks an input, or the facilities lack a column the condition names), direction_only, computed."""
    if len(f) and str(f["flags"].iloc[0]).startswith("not_computable"):
        return f["flags"].iloc[0]
    absent = sorted(columns(parse(t.when)) - set(facilities.columns)) if t.when else []
    if absent:      # an optional column (县人民医院) the data lacks: nobody is selected, which is not "nobody failed"
        return "not_computable:" + ";".join(f"missing_column:facilities.{c}" for c in absent)
    return "direction_only" if t.value is None else "computed"


def _with_grain(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Rows from `compute` (unit and region rows, no grain column yet) labelled as `check` labels them."""
    if "grain" in frame.columns:
        return frame
    unit = frame[by].notna().all(axis=1) if by else pd.Series(False, index=frame.index)
    return frame.assign(grain=np.where(unit, "unit", "region"), **{"class": "", "criterion": ""})


def _entry_rows(f: pd.DataFrame, t, by: list[str], facilities: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(unit rows, region rows) an entry is judged on: per `by` unit and region, or its class rows."""
    if t.grain in CLASS_GRAINS:
        mine = f[(f["grain"] == t.grain) & (f["class"] == (t.when or "")) & (f["criterion"] == (t.criterion or ""))]
        return (mine, mine.iloc[0:0]) if t.per == "county" else (mine.iloc[0:0], mine)
    units = f[f["grain"] == "unit"] if by else f.iloc[0:0]
    if "facility_id" in by and t.grain == "facility":       # only the facilities this entry is about
        ids = set(facilities["facility_id"].astype(str)[entry_mask(t.when, facilities)])
        units = units[units["facility_id"].astype(str).isin(ids)]
    return units, f[f["grain"] == "region"] if by else f[f["grain"] == "unit"]
