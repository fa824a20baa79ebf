"""Values that pass the contract but are implausible for one row (a stay of 45,000 days, a discharge of
10⁸ 元): still used, since they may be real, but never silently — counted per facility and period
in the ledger as `implausible_value`, naming the column, so a unit or date error is found."""
from __future__ import annotations

import numpy as np

from .periods import SPAN, label, month_codes, to_grain

# table -> (column, limit, 中文, English); the date that places a row in a period
LIMITS = {
    "discharges": (("los_days", 365, "实际住院天数超过 365 天（入院日期或单位可能有误）",
                    "length of stay over 365 days (a wrong admit date or unit?)"),
                   ("total_cost", 1e8, "住院总费用超过 1 亿元（单位可能有误，如按分填报）",
                    "total_cost over 100,000,000 元 (a wrong unit, e.g. fen?)")),
}
PERIOD_DATE = {"discharges": "discharge_date"}


def flag_implausible(table: str, reads: set[str], frame, get, fac: np.ndarray, good: np.ndarray, ctx,
                     grain: str) -> dict[str, np.ndarray]:
    """Ledger lines for the rows of this batch (those that passed the checks) beyond LIMITS, on columns the
    plan reads; returns {column: facility × period cells holding such rows} for the result's flags."""
    limits = [lim for lim in LIMITS.get(table, ()) if lim[0] in reads]
    date = PERIOD_DATE.get(table)
    cells: dict[str, np.ndarray] = {}
    if not limits or date not in frame.columns:
        return cells
    periods = to_grain(month_codes(frame[date]), grain)
    placed = good & (fac >= 0) & (periods >= 0) & (periods < SPAN[grain])
    n_fac = len(ctx.facilities)
    fac_ids = ctx.facilities["facility_id"].astype(str).to_numpy()
    for column, limit, zh, en in limits:
        values = np.asarray(get(column), dtype="float64")
        over = placed & (values > limit)
        if over.any():
            key = fac[over].astype(np.int64) * SPAN[grain] + periods[over]
            counts = np.bincount(key, minlength=n_fac * SPAN[grain]).reshape(n_fac, SPAN[grain])
            ctx.ledger.add_grid(table, "implausible_value", counts, fac_ids, lambda p: label(p, grain), zh, en,
                                affects=column)
            cells[column] = np.unique(key)
    return cells


def mark_measures(scans, cells: dict[str, np.ndarray], store: dict, size: int) -> None:
    """Measures reading a flagged column: their facility × period cells are marked (flag implausible_value)."""
    for scan in scans:
        for m in scan.measures:
            for column, keys in cells.items():
                if column in m.reads():
                    store.setdefault(m.key, (0, np.zeros(size)))[1][keys] = 1.0
