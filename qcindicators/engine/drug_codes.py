"""The codes behind the drug-line ledger: which drug codes were not counted, and why, per code.

A pharmacist fixes a dictionary one code at a time; a count of unmapped lines per facility does not
say which. Each batch is reduced to (code, reason, facility, period) sums by integer codes, so the
tally stays as small as the number of problem codes, however many lines there are.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..domain.ddd import PROBLEMS_ZH
from .periods import label

NOT_IN_DICTIONARY = "not_in_dictionary"
REASONS_ZH = {NOT_IN_DICTIONARY: "药品编码不在药品字典中，无法判断是否为抗菌药物", **PROBLEMS_ZH}
REASONS_EN = {
    NOT_IN_DICTIONARY: "drug code not in the drug dictionary: cannot tell whether it is an antibacterial",
    "no_atc": "antibacterial without an ATC code (none in the dictionary, none found from the generic name)",
    "ambiguous_atc": "the generic name matches several ATC codes and the route does not decide",
    "no_ddd": "no WHO DDD for this ATC and route, and the dictionary gives none",
    "route_needed": "the DDD differs by route and the dictionary has no route",
    "no_strength": "no strength per unit (neither strength nor 规格)",
    "unparseable_spec": "规格 (spec) cannot be parsed",
    "combination_split_unknown": "combination product whose spec does not give the reference ingredient",
    "unit_unconvertible": "strength unit cannot be converted to the DDD unit",
    "pack_size_unknown": "dispensed by the pack but the spec does not say how many units a pack holds",
}
COLUMNS = ["drug_code", "generic_name", "spec", "atc_code", "reason", "lines", "quantity", "amount", "facilities",
           "facility_ids", "periods", "first_period", "last_period", "reason_zh", "reason_en"]


class CodeTally:
    """Sums per (drug code, reason, facility, period), batch by batch."""

    def __init__(self, fac_ids: np.ndarray, grain: str):
        self.fac_ids, self.grain = fac_ids, grain
        self.parts: list[pd.DataFrame] = []

    def add(self, codes: pd.Series, hit: np.ndarray, reason: np.ndarray, fac: np.ndarray, period: np.ndarray,
            qty: np.ndarray, amount: np.ndarray) -> None:
        """The lines at positions `hit` were not counted, each for its `reason` (one per hit line)."""
        if not len(hit):
            return
        code, code_names = pd.factorize(pd.Series(codes.to_numpy()[hit]).astype("str"))
        why, why_names = pd.factorize(reason)
        part = pd.DataFrame({"c": code, "r": why, "f": fac[hit], "p": period[hit], "quantity": qty[hit],
                             "amount": amount[hit], "lines": np.ones(len(hit), np.int64)})
        part = part.groupby(["c", "r", "f", "p"], sort=False).sum(min_count=1).reset_index()
        self.parts.append(part.assign(drug_code=np.asarray(code_names, dtype=object)[part["c"]],
                                      reason=np.asarray(why_names, dtype=object)[part["r"]]).drop(columns=["c", "r"]))

    def frame(self, resolved: pd.DataFrame | None, facility: str | None = None, period: str | None = None) -> pd.DataFrame:
        """One row per (code, reason), the most amount left uncounted first; names from the dictionary.

        `facility`, `period` (a label at the tally's grain): only that facility's or period's lines."""
        if not self.parts:
            return empty_code_table()
        cells = pd.concat(self.parts, ignore_index=True)
        fac = cells["f"].to_numpy()
        cells["facility_id"] = np.append(self.fac_ids, None)[np.where(fac >= 0, fac, len(self.fac_ids))]
        per = cells["p"].to_numpy()
        cells["p"] = np.where(per >= 0, per, np.nan)      # undated lines: no period
        if facility is not None:
            cells = cells[cells["facility_id"] == str(facility)]
        if period is not None:
            labels = {p: self._label(p) for p in cells["p"].dropna().unique()}     # one label per distinct period
            cells = cells[cells["p"].map(labels) == period]
        if not len(cells):
            return empty_code_table()
        g = cells.groupby(["drug_code", "reason"], sort=False)
        out = g[["lines", "quantity", "amount"]].sum(min_count=1)
        out = out.join(g.agg(facilities=("facility_id", "nunique"), first=("p", "min"), last=("p", "max"),
                             periods=("p", "nunique"))).reset_index()
        ids = g["facility_id"].agg(lambda s: ",".join(sorted(s.dropna().astype(str).unique()))).reset_index(drop=True)
        out["facility_ids"] = ids.to_numpy()
        out["first_period"] = [self._label(p) for p in out.pop("first")]   # one label per problem code
        out["last_period"] = [self._label(p) for p in out.pop("last")]
        out["reason_zh"] = out["reason"].map(REASONS_ZH)
        out["reason_en"] = out["reason"].map(REASONS_EN)
        out = out.merge(_names(resolved), on="drug_code", how="left")     # per code, not per line
        out = out.sort_values(["amount", "lines", "drug_code"], ascending=[False, False, True], na_position="last")
        return out[COLUMNS].reset_index(drop=True)

    def cells(self) -> pd.DataFrame:
        """The per-(code, reason, facility, period) sums: what partitions of whole facilities add up."""
        return pd.concat(self.parts, ignore_index=True) if self.parts else pd.DataFrame()

    def _label(self, code: float) -> str | None:
        return None if np.isnan(code) else label(int(code), self.grain)


def merged_code_table(parts: list[dict], fac_ids: np.ndarray, grain: str) -> dict:
    """The companions of partitions (same facilities frame, disjoint facilities) → one code table."""
    cells = [p["drug_code_cells"] for p in parts if len(p.get("drug_code_cells", ()))]
    if not cells:
        return {}
    tally = CodeTally(fac_ids, grain)
    tally.parts = cells
    names = pd.concat([p["unmapped_drugs"] for p in parts if "unmapped_drugs" in p], ignore_index=True)
    return {"unmapped_drugs": tally.frame(names), "drug_code_cells": tally.cells()}


def empty_code_table() -> pd.DataFrame:
    """The unmapped-codes table with no rows (no problem code, or no drug line read)."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})


def _names(resolved: pd.DataFrame | None) -> pd.DataFrame:
    """generic name, spec and ATC of each dictionary code (a facility's own entry or the shared one: the first)."""
    cols = ["drug_code", "generic_name", "spec", "atc_code"]
    if resolved is None or not len(resolved):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    names = resolved.reindex(columns=cols).astype(object)
    names["drug_code"] = names["drug_code"].astype(str)
    return names.drop_duplicates("drug_code")
