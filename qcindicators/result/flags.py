"""The flags a result row can carry, as bits while combining and as `;`-joined names in the tidy result."""
from __future__ import annotations

from enum import IntFlag

import numpy as np


class Flag(IntFlag):
    ZERO_DENOMINATOR = 1
    NO_PRIOR_PERIOD = 2
    SMALL_DENOMINATOR = 4
    TARGET_VARIES_IN_GROUP = 8
    ATTRIBUTE_NEEDS_FACILITY_GRAIN = 16
    IMPLAUSIBLE_VALUE = 32
    MEMBERS_CHANGED = 64        # a group's growth over facilities not all present in both periods
    PARTIAL_PERIOD = 128        # the data covers part of the period only
    BLANK_GROUP = 256           # the facilities whose `by` value is blank (a county left empty): not the region row
    NULL_VALUES = 512           # rows the measure wanted whose value to sum was missing: not counted, so not a 0

    @property
    def text(self) -> str:
        return self.name.lower()


def where(mask: np.ndarray, flag: Flag) -> np.ndarray:
    """`flag` on the cells of `mask`, 0 elsewhere (to `|=` into a grid of flags)."""
    return np.where(mask, int(flag), 0)


def flag_text(bits: int) -> str:
    """The names of the flags set in `bits`, `;`-joined, in a fixed order."""
    return ";".join(f.text for f in Flag if int(bits) & f)
