"""Progress bars for long runs: on a terminal only, never in logs or pipes, off with `--quiet`."""
from __future__ import annotations

from contextlib import contextmanager
import warnings
from tqdm.auto import tqdm

ENABLED: bool | None = None        # None: only when stderr is a terminal; False: never (--quiet)
MIN_ROWS = 2_000_000               # a table pass shows a bar only when the table is at least this long


@contextmanager
def bar(total: int | None, desc: str, unit: str = "it", min_total: int = 0):
    """A tqdm bar that removes itself when done; a no-op object when disabled or the job is small."""
    with warnings.catch_warnings():     # a notebook without ipywidgets gets the text bar, without a warning
        warnings.simplefilter("ignore")
    disable = ENABLED is False or (min_total > 0 and (total is None or total < min_total))
    with tqdm(total=total, desc=desc, unit=unit, unit_scale=True, leave=False,
              disable=True if disable else (None if ENABLED is None else False)) as b:
        yield b


def set_enabled(value: bool | None) -> None:
    global ENABLED
    ENABLED = value
