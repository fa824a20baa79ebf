"""The diagnostics ledger: every row not used, and why, with counts per facility and period."""
from __future__ import annotations

import numpy as np
import pandas as pd
from ..display import CSS, html_table

LEDGER_COLUMNS = ["table", "facility_id", "period", "check", "rows", "quantity", "amount", "share", "affects",
                  "message_zh", "message_en"]
TEXT = pd.Series(["text"]).dtype        # what this pandas makes of text: str under pandas 3, object under 2.2
LEDGER_DTYPES = {c: {"rows": np.dtype("int64")}.get(c, np.dtype("float64") if c in ("quantity", "amount", "share") else TEXT)
                 for c in LEDGER_COLUMNS}


class Ledger:
    def __init__(self) -> None:
        self._parts: list[pd.DataFrame] = []
        self.companions: dict[str, pd.DataFrame] = {}     # detail tables beside the ledger (unmapped_drugs)

    def add(self, table: str, check: str, rows: int, zh: str, en: str, facility_id=None, period=None,
            quantity: float = np.nan, affects: str = "") -> None:
        if rows:
            self._parts.append(pd.DataFrame([{"table": table, "facility_id": facility_id, "period": period,
                                              "check": check, "rows": int(rows), "quantity": quantity, "amount": np.nan, "share": np.nan,
                                              "affects": affects, "message_zh": zh, "message_en": en}],
                                            columns=LEDGER_COLUMNS))

    def add_grid(self, table: str, check: str, counts: np.ndarray, fac_ids: np.ndarray, label_of,
                 zh: str, en: str, quantity: np.ndarray | None = None, affects: str = "",
                 amount: np.ndarray | None = None, share: np.ndarray | None = None) -> None:
        """counts: facilities × periods; one ledger row per non-zero cell; label_of(period code) -> text.

        `share`: the rows as a share of all rows of that facility and period (0–1)."""
        f, p = np.nonzero(counts)
        if not len(f):
            return
        self._parts.append(pd.DataFrame({
            "table": table, "facility_id": fac_ids[f], "period": [label_of(int(i)) for i in p], "check": check,
            "rows": counts[f, p].astype(np.int64), "quantity": quantity[f, p] if quantity is not None else np.nan,
            "amount": amount[f, p] if amount is not None else np.nan, "share": share[f, p] if share is not None else np.nan,
            "affects": affects, "message_zh": zh, "message_en": en}, columns=LEDGER_COLUMNS))

    def extend(self, frame: pd.DataFrame) -> None:
        if len(frame):
            self._parts.append(frame.reindex(columns=LEDGER_COLUMNS))

    def frame(self) -> pd.DataFrame:
        """The ledger, one row per (table, facility, period, check, affects): batches summed."""
        if not self._parts:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in LEDGER_COLUMNS})
        f = pd.concat([_typed(p) for p in self._parts], ignore_index=True)
        keys = ["table", "facility_id", "period", "check", "affects", "message_zh", "message_en"]
        f = f.groupby(keys, dropna=False, sort=False).agg(rows=("rows", "sum"), quantity=("quantity", lambda q: q.sum(min_count=1)),
                                                           amount=("amount", lambda q: q.sum(min_count=1)),
                                                           share=("share", lambda q: q.sum(min_count=1)))
        return f.reset_index()[LEDGER_COLUMNS]


def _typed(part: pd.DataFrame) -> pd.DataFrame:
    """Every part in the ledger's own dtypes, so concatenating them never depends on which parts happen to be all
    missing in a column (pandas 2.2 warns and decides differently from pandas 3 when they are)."""
    if all(part[c].dtype == t for c, t in LEDGER_DTYPES.items()):
        return part
    return part.astype(LEDGER_DTYPES)


class Diagnostics(pd.DataFrame):
    """The ledger: a DataFrame that, shown in a notebook, says what it is and formats its numbers.

    Anything derived from it (a filter, a groupby) is a plain DataFrame.
    """

    @property
    def _constructor(self):
        return pd.DataFrame

    def _repr_html_(self) -> str:
        if not len(self):
            return "<p><b>诊断 / diagnostics</b>：无 / none — every input row was used</p>"
        rows = int(pd.to_numeric(self["rows"], errors="coerce").sum()) if "rows" in self else 0
        head = (f"<p><b>诊断 / diagnostics</b> · {len(self)} 条 entries · {rows:,} 行未使用或需注意 rows not used or "
                f"flagged · 按表、机构、时期与原因 by table, facility, period and reason</p>")
        return f"<style>{CSS}</style>{head}{html_table(self, max_rows=60)}"
