"""Checking a plan: every target of a target set, per unit and for the region, and what cannot be computed."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .api import _catalog, compute
from .compile.feasibility import missing_by_indicator
from .result.result import Result
from .io.tables import read_tables


def target_sets(definitions=None) -> pd.DataFrame:
    """The shipped target sets (one per plan).

    Examples:
        >>> import qcindicators as qci
        >>> "plan-2024-city" in set(qci.target_sets()["id"])
        True
    """
    cat = _catalog(definitions)
    return pd.DataFrame([{"id": t.id, "name_zh": t.name.zh, "name_en": t.name.en, "targets": len(t.targets),
                          "source": t.source.document} for t in cat.target_sets.values()]).sort_values("id", ignore_index=True)


def check(tables, targets: str | Path, by: Sequence[str] | str = ("facility_id",), period: str = "year",
          definitions=None, on_invalid: str = "raise", quarantine_dir=None, confidence: float = 0.95,
          workers: int | None = None, scheduler: str | None = None) -> Result:
    """Every target of a plan: values, targets and 达标 per unit of `by` and for the whole region.

    Rows for the region have the `by` columns empty. Indicators the data cannot feed appear as one
    row each with NaN value and the flag `not_computable:<missing table or column>`. The result has
    the tidy columns of `compute` plus `target_set`; `result.summary` has one row per target.

    Examples:
        >>> import qcindicators as qci
        >>> from qcindicators.synthetic import generate_tables, Size
        >>> r = qci.check(generate_tables(Size(n_facilities=4)), "plan-2024-city")
        >>> sorted(r.summary["indicator"])[:2]
        ['antibacterial_use_density', 'clinical_pathway_completion_rate']
    """
    by = [by] if isinstance(by, str) else list(by)
    tables = read_tables(tables)
    cat = _catalog(definitions)
    ts = cat.target_set(targets)
    wanted = list(dict.fromkeys(t.indicator for t in ts.targets))
    reasons = missing_by_indicator(cat, wanted, tables)
    ok = [i for i in wanted if not reasons[i]]
    kw = dict(period=period, targets=targets, definitions=definitions, on_invalid=on_invalid, quarantine_dir=quarantine_dir,
              confidence=confidence, workers=workers, scheduler=scheduler)
    frames, first, specs = [], None, {}
    if ok:
        # one read of each table for the units and the region (indicators grouped by the patient's county,
        # 县域内就诊率, have no facility rows, only county/region ones)
        first = compute(tables, ok, by=[by, []] if by else [[]], **kw)
        frames.append(first.frame)
        specs.update(first.specs)
    missing = not_computable_rows(reasons, cat)
    if len(missing):
        frames.append(missing)
    frame = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else pd.DataFrame()
    frame["target_set"] = ts.id
    columns = ["indicator", *by, "period", "numerator", "denominator", "value", "unit", "target", "target_op", "met",
               "ci_low", "ci_high", "flags", "target_set"]
    frame = frame.reindex(columns=columns)
    frame["met"] = frame["met"].astype("boolean")
    result = Result(frame, first.diagnostics if first else pd.DataFrame(), first.provenance if first else {},
                    first.plan_text if first else "", pd.DataFrame([{"indicator": i, "reason": ";".join(r)} for i, r in reasons.items() if r],
                                                                   columns=["indicator", "reason"]),
                    specs=specs, by=by, facility_names=first.facility_names if first else None)
    result.summary = plan_summary(frame, ts, by, tables.load("facilities"))
    return result


def not_computable_rows(reasons: dict[str, list[str]], cat) -> pd.DataFrame:
    """One row per indicator the data cannot feed: NaN value and the flag not_computable:<what is missing>."""
    return pd.DataFrame([{"indicator": i, "period": None, "value": np.nan, "unit": cat[i].unit, "target": np.nan,
                          "target_op": "", "flags": "not_computable:" + ";".join(r)} for i, r in reasons.items() if r],
                        columns=["indicator", "period", "value", "unit", "target", "target_op", "flags"])


def _entry_facilities(when: str | None, facilities: pd.DataFrame) -> set[str]:
    """The facilities a target entry's condition selects."""
    from .engine.expr_eval import as_mask, evaluate
    from .spec.expr import parse
    from .result.targets import facility_column
    if not when:
        return set(facilities["facility_id"].astype(str))
    mask = as_mask(evaluate(parse(when), lambda c: facility_column(facilities, c), len(facilities)), len(facilities))
    return set(facilities["facility_id"].astype(str)[mask])


def plan_summary(frame: pd.DataFrame, ts, by: list[str], facilities: pd.DataFrame) -> pd.DataFrame:
    """`check(...).summary` from the unit and region rows of the set's indicators: one row per target,
    how many units met it, how many were judged, and the region value (latest period)."""
    rows = []
    for t in ts.targets:
        f = frame[frame["indicator"] == t.indicator]
        units = f[f[by].notna().all(axis=1)] if by else f.iloc[0:0]
        if "facility_id" in by:       # only the facilities this entry is about
            units = units[units["facility_id"].astype(str).isin(_entry_facilities(t.when, facilities))]
        region = f[f[by].isna().all(axis=1)] if by else f
        latest = region.dropna(subset=["period"]).sort_values("period").tail(1)
        rows.append({"indicator": t.indicator, "target": t.value or "（方向性目标 / direction only）", "when": t.when or "",
                     "grain": t.grain, "text": t.text or "", "units_met": int((units["met"] == True).sum()),   # noqa: E712
                     "units_judged": int(units["met"].notna().sum()),
                     "region_period": latest["period"].iloc[0] if len(latest) else None,
                     "region_value": latest["value"].iloc[0] if len(latest) else np.nan,
                     "region_met": latest["met"].iloc[0] if len(latest) else pd.NA,
                     "status": f["flags"].iloc[0] if len(f) and str(f["flags"].iloc[0]).startswith("not_computable") else
                               ("direction_only" if t.value is None else "computed")})
    return pd.DataFrame(rows)
