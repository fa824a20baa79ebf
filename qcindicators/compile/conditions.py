"""Facility conditions (a target's `when`, a unit share's `where`, a class of facilities) as plan items.

They are compiled like any filter and evaluated once per run by the engine on the facilities (or on the
units below them), as boolean columns named by `condition_column`; judging targets then only looks the
masks up, it never evaluates an expression itself.
"""
from __future__ import annotations

from typing import Iterable

from ..spec.expr import parse, to_text


def condition_column(text: str) -> str:
    """The column holding a condition's value for each facility (named by its canonical text)."""
    return "when: " + to_text(parse(text))


def conditions_of(specs: Iterable, target_set=None, extra: Iterable[str] = ()) -> list[str]:
    """Every facility condition a run judges with: the definitions' targets, the target set's entries, unit shares."""
    out = []
    ids = set()
    for spec in specs:
        ids.add(spec.id)
        out += [t.when for t in spec.targets if t.when]
        if spec.kind == "unit_share" and spec.where:
            out.append(spec.where)
    if target_set is not None:
        out += [e.when for e in target_set.targets if e.when and e.indicator in ids]
    out += [w for w in extra if w]
    return list(dict.fromkeys(to_text(parse(w)) for w in out))
