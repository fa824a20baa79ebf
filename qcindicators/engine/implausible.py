"""Values that pass the contract but are implausible for one row (a stay of 45,000 days, a discharge of
10⁸ 元): still used, since they may be real, but never silently — counted per facility and period
in the ledger as `implausible_value`, naming the column, and flagged on the result rows that used them."""
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


def implausible_rows(table: str, frame, get, good: np.ndarray) -> dict[str, np.ndarray]:
    """{column: rows of this batch, among those that passed the checks, beyond the column's limit}."""
    out = {}
    for column, limit, _, _ in LIMITS.get(table, ()):
        if column in frame.columns or column == "los_days":        # los_days may be derived from the dates
            over = good & (np.asarray(get(column), dtype="float64") > limit)
            if over.any():
                out[column] = over
    return out


def report_implausible(table: str, rows: dict[str, np.ndarray], frame, fac: np.ndarray, ctx, grain: str) -> None:
    """Ledger lines per facility and period for the implausible rows of a batch."""
    date = PERIOD_DATE.get(table)
    if not rows or date not in frame.columns:
        return
    periods = to_grain(month_codes(frame[date]), grain)
    placed = (fac >= 0) & (periods >= 0) & (periods < SPAN[grain])
    n_fac = len(ctx.facilities)
    fac_ids = ctx.facilities["facility_id"].astype(str).to_numpy()
    for column, limit, zh, en in LIMITS[table]:
        if column in rows:
            over = rows[column] & placed
            if not over.any():           # nearly always: no grid of every facility × period to scan
                continue
            key = fac[over].astype(np.int64) * SPAN[grain] + periods[over]
            counts = np.bincount(key, minlength=n_fac * SPAN[grain]).reshape(n_fac, SPAN[grain])
            ctx.ledger.add_grid(table, "implausible_value", counts, fac_ids, lambda p: label(p, grain), zh, en,
                                affects=column)
