"""The report's first page: hospitals × the plan's indicators, each cell the value, its 达标 and the change.

One long frame of cells (a row per unit × indicator, the region first) that the HTML page lays out as a
table (or as cards on a phone) and the workbook as a sheet; both read the same formatted text.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .format import MARKS, NOT_MET, arrows, format_values, met_labels, prior_year

MAX_INDICATORS = 12      # beyond this a 1280 px page cannot show a column per indicator; the rest are in the appendix
CELL_COLUMNS = ["unit_name", "is_region", "indicator", "name_zh", "period", "value", "text", "met", "mark", "arrow",
                "before", "target_text"]


def scorecard_indicators(rows: pd.DataFrame, plan_ids: list[str] | None) -> list[str]:
    """The plan's indicators in the plan's order; without a plan, those with a target (then the rest)."""
    present = list(dict.fromkeys(rows["indicator"]))
    if plan_ids is not None:
        ids = [i for i in dict.fromkeys(plan_ids) if i in set(present)]
    else:
        targeted = set(rows.loc[rows["target_text"] != "", "indicator"])
        ids = [i for i in present if i in targeted] or present
    return ids[:MAX_INDICATORS]


def scorecard_cells(rows: pd.DataFrame, ids: list[str], kinds: dict[str, str]) -> pd.DataFrame:
    """One row per unit × indicator at each indicator's latest period, with last year's value and the arrow.

    `rows` is `Report.rows()`: facility and region rows, names and target text already attached.
    """
    f = rows[rows["indicator"].isin(ids)]
    latest = f.groupby("indicator")["period"].transform("max")
    now = f[f["period"] == latest]
    unit_key = now["facility_name"].astype(str)
    ids_all = f["facility_id"].astype(object).where(f["facility_id"].notna(), "").astype(str)
    before = f.assign(_unit=ids_all).set_index(["indicator", "_unit", "period"])["value"]
    key = pd.MultiIndex.from_arrays([now["indicator"], ids_all[now.index], prior_year(now["period"])])
    prev = before[~before.index.duplicated()].reindex(key).to_numpy()
    has_target = now["target_text"].astype(str) != ""
    met = met_labels(now["met"], has_target)
    cells = pd.DataFrame({
        "unit_name": unit_key.to_numpy(), "is_region": now["facility_id"].isna().to_numpy(),
        "indicator": now["indicator"].to_numpy(), "name_zh": now["name_zh"].to_numpy(),
        "period": now["period"].to_numpy(), "value": now["value"].to_numpy(dtype="float64", na_value=np.nan),
        "text": format_values(now["value"], now["unit"], now["indicator"].map(kinds)).to_numpy(),
        "met": met.to_numpy(), "mark": met.map(MARKS).to_numpy(),
        "arrow": arrows(now["value"].reset_index(drop=True), pd.Series(prev)).to_numpy(),
        "before": prev, "target_text": now["target_text"].to_numpy()})
    order = {i: n for n, i in enumerate(ids)}
    misses = cells.assign(_miss=cells["met"] == NOT_MET).groupby("unit_name")["_miss"].transform("sum")
    cells = cells.assign(_region=~cells["is_region"], _misses=-misses, _ind=cells["indicator"].map(order))
    cells = cells.sort_values(["_region", "_misses", "unit_name", "_ind"], kind="stable")
    return cells[CELL_COLUMNS].reset_index(drop=True)


def column_heads(cells: pd.DataFrame) -> pd.DataFrame:
    """Per indicator: its name, period and target (or 'varies by hospital'), for the scorecard's header."""
    g = cells.groupby("indicator", sort=False)
    targets = g["target_text"].agg(lambda t: _one_target(t[t != ""]))
    return pd.DataFrame({"name_zh": g["name_zh"].first(), "period": g["period"].first(), "target": targets})


def _one_target(t: pd.Series) -> str:
    values = t.unique()
    if len(values) == 0:
        return "无目标 no target"
    return values[0] if len(values) == 1 else "目标因医院而异 target varies by hospital"


def tally(cells: pd.DataFrame) -> dict[str, int]:
    """What the scorecard says in numbers: hospitals, and hospital × indicator cells by 达标 (the region apart)."""
    units = cells[~cells["is_region"]]
    judged = units[units["met"].isin(["达标", NOT_MET])]
    missing = judged.assign(_miss=judged["met"] == NOT_MET).groupby("unit_name")["_miss"].any()
    return {"hospitals": int(units["unit_name"].nunique()), "indicators": int(cells["indicator"].nunique()),
            "met": int((units["met"] == "达标").sum()), "not_met": int((units["met"] == NOT_MET).sum()),
            "not_judged": int((units["met"] == "不判定").sum()),
            "hospitals_missing": int(missing.sum()), "hospitals_judged": int(len(missing))}
