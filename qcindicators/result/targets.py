"""Which target applies to which facility or group (first matching `when` wins)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..compile.conditions import condition_column
from ..errors import QCIError
from ..spec.model import TargetSpec

OPS = ["<=", ">=", "<", ">", "=="]


@dataclass
class UnitTargets:
    """Per unit (facility or group): target number (NaN = none), op index (−1 = none), and a flag
    for groups whose facilities disagree."""

    number: np.ndarray
    op: np.ndarray
    varies: np.ndarray


def facility_column(facilities: pd.DataFrame, name: str) -> pd.Series:
    """A facilities column for a condition; an optional column that is absent is all missing (the condition fails)."""
    if name in facilities.columns:
        return facilities[name].reset_index(drop=True)
    return pd.Series([None] * len(facilities), dtype=object)


def condition_mask(facilities: pd.DataFrame, when: str | None) -> np.ndarray:
    """Which facilities a condition selects: the plan's condition column, evaluated by the engine."""
    if not when:
        return np.ones(len(facilities), bool)
    col = condition_column(when)
    if col not in facilities.columns:
        raise QCIError(f"条件未编入计划 / the condition {when!r} was not compiled into the plan")
    return facilities[col].to_numpy(dtype=bool)


def facility_targets(targets: list[TargetSpec], facilities: pd.DataFrame) -> UnitTargets:
    n = len(facilities)
    number, op = np.full(n, np.nan), np.full(n, -1)
    undecided = np.ones(n, bool)
    for t in targets:
        hit = undecided & condition_mask(facilities, t.when)
        number[hit], op[hit] = t.number, OPS.index(t.op)
        undecided &= ~hit
    return UnitTargets(number, op, np.zeros(n, bool))


def group_targets(fac: UnitTargets, group_of_fac: np.ndarray, n_groups: int) -> UnitTargets:
    """A group takes a target only when every facility in it has that same target.

    A region of hospitals and township clinics is not judged against a target
    written for level ≥ 2 hospitals; such a group gets no target and a flag.
    A target for a region total belongs in a target set with `grain: region`.
    """
    frame = pd.DataFrame({"g": group_of_fac, "op": fac.op, "n": np.nan_to_num(fac.number, nan=-np.inf)}).drop_duplicates()
    counts = frame.groupby("g").size()
    single = frame[frame["g"].isin(counts[counts == 1].index) & (frame["op"] >= 0)]
    number, op = np.full(n_groups, np.nan), np.full(n_groups, -1)
    number[single["g"].to_numpy()] = single["n"].to_numpy()
    op[single["g"].to_numpy()] = single["op"].to_numpy()
    varies = np.zeros(n_groups, bool)
    varies[counts[counts > 1].index.to_numpy()] = True
    return UnitTargets(number, op, varies)


def tolerance(target: np.ndarray) -> np.ndarray:
    """Float noise (the order of a sum) must never decide 达标: values within 1e-9 relative count as equal."""
    return 1e-9 * np.maximum(1.0, np.abs(target))


def judge(value: np.ndarray, t: UnitTargets) -> np.ndarray:
    """met as float: 1, 0, or NaN (no target or no value). Broadcasts units × periods."""
    v = value
    num = t.number[:, None]
    tol = tolerance(num)
    res = np.full(v.shape, np.nan)
    for i, op in enumerate(OPS):
        rows = (t.op == i)[:, None] & ~np.isnan(v)
        cmp = {"<=": v <= num + tol, ">=": v >= num - tol, "<": v < num - tol, ">": v > num + tol,
               "==": np.abs(v - num) <= tol}[op]
        res = np.where(rows, cmp.astype(float), res)
    return res
