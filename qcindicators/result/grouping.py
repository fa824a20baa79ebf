"""Groupings: which group each facility (and each county label of a row) falls in, for one `by`."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class Grouping:
    """One `by`: facility → group, the groups' labels, and (by county only) county label → group."""

    columns: list[str]
    group_of_fac: np.ndarray
    groups: pd.DataFrame
    group_of_county: np.ndarray | None = None    # per county label of the partials; None: rows go by facility

    @property
    def facility_grain(self) -> bool:
        return "facility_id" in self.columns


def grouping_of(facilities: pd.DataFrame, by: list[str], county_labels: list[str] | None) -> Grouping:
    """`county_labels`: the counties rows named for measures grouped by the row's own county (if any).

    By county, those measures put each row in the group of its own county, and residents of counties
    without a facility form groups of their own.
    """
    if by == ["county"] and county_labels is not None:
        labels = sorted(set(facilities["county"].dropna().astype(str)) | set(county_labels))
        ordered = pd.Index(labels + ([np.nan] if facilities["county"].isna().any() else []), dtype=object)
        return Grouping(by, ordered.get_indexer(facilities["county"].astype(object)).astype(np.int64),
                        pd.DataFrame({"county": ordered.to_numpy(dtype=object)}),
                        ordered.get_indexer(pd.Index(county_labels, dtype=object)).astype(np.int64))
    if not by:
        return Grouping(by, np.zeros(len(facilities), np.int64), pd.DataFrame(index=[0]))
    grouped = facilities[list(by)].groupby(list(by), dropna=False, sort=True, observed=True)
    return Grouping(by, grouped.ngroup().to_numpy().astype(np.int64), grouped.size().reset_index()[list(by)])
