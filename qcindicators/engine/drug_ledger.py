"""Drug lines that could not be counted, per facility and period: lines, quantities, amounts, shares.

Fed batch by batch; arrays are facility × period on the fixed period axis, so batches add up.
Also the plausibility checks a pharmacist asks for: lines above 100 DDDs, and antibacterials whose
returns exceed what was dispensed (net quantity below zero for a facility, drug and period).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..codes import add_counts
from ..domain.ddd import DrugLookup
from ..result.diagnostics import Ledger
from .drug_codes import NOT_IN_DICTIONARY, CodeTally
from .periods import SPAN, label, month_codes, to_grain

CHECKS = {
    "unmapped_drug_code": ("药品编码不在药品字典中，无法判断是否为抗菌药物",
                           "drug_code not in the drug dictionary: cannot tell whether it is an antibacterial"),
    "implausible_line_ddd": ("单条超过 100 DDD，可能是单位错误（如按盒计数）",
                             "a single line above 100 DDDs: probably a unit error (packs counted as units?)"),
    # the use rates test lines, not a stay's net (docs/antibacterial.md, known limitation): say where it can matter
    "antibacterial_return_lines": ("抗菌药物退药明细：DDD 与金额已冲抵，但使用率按发药明细计人，全部退药的住院仍计为使用者",
                                   "antibacterial returns: netted in DDDs and amounts, but the use rates count a stay "
                                   "by its dispensed lines, so a stay whose antibacterials were all returned still counts"),
}


class DrugLineLedger:
    def __init__(self, facilities: pd.DataFrame, grain: str, ledger: Ledger):
        self.fac_ids = facilities["facility_id"].astype(str).to_numpy()
        self.grain, self.ledger = grain, ledger
        self.cells = len(self.fac_ids) * SPAN[grain] + 1          # last cell: no facility or no date
        self.totals = np.zeros(self.cells)
        self.sums: dict[str, list[np.ndarray]] = {}             # check -> [rows, quantity, amount]
        self.nets: list[pd.Series] = []
        self.codes = CodeTally(self.fac_ids, grain)            # the same lines, per drug code

    def add_batch(self, lines: pd.DataFrame, fac: np.ndarray, attrs: dict, lookup: DrugLookup,
                  months: np.ndarray | None = None) -> None:
        """`months`: the lines' order months, where the caller has them already."""
        if months is None and "order_date" in lines:
            months = month_codes(lines["order_date"])
        period = to_grain(months, self.grain) if months is not None else np.full(len(lines), -1)
        ok = (fac >= 0) & (period >= 0) & (period < SPAN[self.grain])
        cell = np.where(ok, fac * SPAN[self.grain] + period, self.cells - 1)
        add_counts(self.totals, cell)
        qty = lines["quantity"].to_numpy(dtype=float)
        amount = lines["amount"].to_numpy(dtype=float) if "amount" in lines else np.full(len(lines), np.nan)
        # problems as integer codes of the dictionary's few problem texts, never a string per line
        problems = lookup.problems
        problem = lookup.problem[attrs["row"]]
        unmapped = attrs["row"] < 0
        masks = {"unmapped_drug_code": unmapped, "implausible_line_ddd": np.abs(attrs["ddd_count"]) > 100,
                 "antibacterial_return_lines": np.asarray(attrs["is_antibacterial"], dtype=bool) & (qty < 0)}
        for k in np.unique(problem[problem >= 0]):
            masks[f"antibacterial_without_ddd:{problems[k]}"] = problem == k
        for check, mask in masks.items():
            if mask.any():
                self._add(check, cell[mask], qty[mask], amount[mask])
        hit = np.flatnonzero(unmapped | (problem >= 0))
        reason = np.append(np.asarray(problems, dtype=object), NOT_IN_DICTIONARY)[problem[hit]]   # −1: not in the dictionary
        self.codes.add(lines["drug_code"], hit, reason, fac, np.where((period >= 0) & (period < SPAN[self.grain]), period, -1),
                       qty, amount)
        abx = attrs["is_antibacterial"] & ok
        if abx.any():       # net quantity per facility × period × drug, to catch returns above what was dispensed
            key = cell[abx].astype(np.int64) * (len(lookup.resolved) + 1) + attrs["row"][abx]
            self.nets.append(pd.Series(qty[abx]).groupby(key).sum())

    def _add(self, check: str, cell: np.ndarray, qty: np.ndarray, amount: np.ndarray) -> None:
        acc = self.sums.setdefault(check, [np.zeros(self.cells) for _ in range(3)])
        add_counts(acc[0], cell)
        add_counts(acc[1], cell, np.where(np.isnan(qty), 0, qty))
        add_counts(acc[2], cell, np.where(np.isnan(amount), 0, amount))

    def finish(self, n_dictionary_rows: int, resolved: pd.DataFrame | None = None) -> None:
        if self.nets:
            net = pd.concat(self.nets).groupby(level=0).sum()
            neg = net[net < 0]
            if len(neg):
                cell = (neg.index.to_numpy() // (n_dictionary_rows + 1)).astype(np.int64)
                self._add("returns_exceed_dispensed", cell, neg.to_numpy(), np.full(len(neg), np.nan))
        for check, (rows, qty, amount) in self.sums.items():
            zh, en = CHECKS.get(check, None) or _message(check)
            grid = rows[:-1].reshape(len(self.fac_ids), SPAN[self.grain])
            share = np.divide(rows[:-1], self.totals[:-1], out=np.zeros(self.cells - 1), where=self.totals[:-1] > 0)
            self.ledger.add_grid("drug_orders", check, grid, self.fac_ids, lambda p: label(p, self.grain), zh, en,
                                 quantity=qty[:-1].reshape(grid.shape), amount=amount[:-1].reshape(grid.shape),
                                 share=share.reshape(grid.shape))
            if rows[-1]:
                self.ledger.add("drug_orders", check, int(rows[-1]), zh, en, quantity=float(qty[-1]))
        self.ledger.companions["unmapped_drugs"] = self.codes.frame(resolved)
        self.ledger.companions["drug_code_cells"] = self.codes.cells()


def _message(check: str) -> tuple[str, str]:
    if check == "returns_exceed_dispensed":
        return ("该药本期退药多于发药（净数量为负），请核对退药记录", "returns exceed what was dispensed for this drug in the period (net quantity below zero)")
    reason = check.split(":", 1)[1]
    return (f"抗菌药物无法计算 DDD，未计入 DDD 数：{reason}", f"antibacterial line without DDDs ({reason}); not counted in DDD sums")
