"""Which targets an indicator is judged against: the target set's entries for it, else its own."""
from __future__ import annotations

from ..spec.model import IndicatorSpec, TargetSetSpec, TargetSpec


def targets_for(spec: IndicatorSpec, target_set: TargetSetSpec | None, region: bool) -> list[TargetSpec]:
    """The target set's entries for this indicator replace the definition's own targets; an indicator the
    set does not list keeps its own. Entries judged over a class of facilities (share, count, mean, class
    total) are judged by the plan check, not here."""
    listed = [e for e in target_set.targets if e.indicator == spec.id] if target_set is not None else []
    if not listed:
        return list(spec.targets)
    entries = [e for e in listed if e.value is not None]
    facility = [e.as_target() for e in entries if e.grain == "facility"]
    regional = [e.as_target() for e in entries if e.grain == "region"]
    return (regional + facility) if region else facility
