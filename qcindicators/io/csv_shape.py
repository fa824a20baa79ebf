"""A CSV's shape, checked on the bytes before pandas reads it.

pandas pads a short row with empty cells without a word, so a row that lost a field reads
as a row with missing values (or values in the wrong columns). Here every record must have
as many fields as the header, and a quote must close. Quotes are tracked by parity, so
commas and line breaks inside quoted fields are not counted; the separators and the quote
are ASCII bytes that never occur inside a UTF-8, GBK or GB18030 character.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputDataError

CHUNK = 1 << 24
NEWLINE, COMMA, QUOTE = 10, 44, 34
MAX_LISTED = 5


class _State:
    """What carries over from one chunk to the next: an open quote, and the record in progress."""

    def __init__(self) -> None:
        self.quoted, self.commas, self.length, self.lines_before, self.start_line = 0, 0, 0, 0, 1
        self.expected: int | None = None
        self.bad: list[tuple[int, int]] = []     # (line, fields), the first MAX_LISTED
        self.n_bad = 0


def check_csv_shape(path: Path) -> None:
    """Raise InputDataError naming the lines whose field count differs from the header's, or an open quote."""
    state = _State()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            _scan(np.frombuffer(chunk, np.uint8), state)
    if state.length:
        _records(np.array([state.commas]), np.array([state.length]), np.array([state.start_line]), state)
    if state.quoted:
        raise InputDataError(f"{path.name}: 第 {state.start_line} 行起的引号没有闭合 / unclosed quote starting at line "
                             f"{state.start_line}")
    if state.bad:
        listed = ", ".join(f"{line} ({n})" for line, n in state.bad) + (" …" if state.n_bad > len(state.bad) else "")
        raise InputDataError(f"{path.name}: {state.n_bad} 行的字段数与表头（{state.expected} 列）不一致，行号（字段数）：{listed} / "
                             f"{state.n_bad} row(s) whose number of fields differs from the header's {state.expected}, "
                             f"line (fields): {listed}")


def _scan(b: np.ndarray, state: _State) -> None:
    parity = np.bitwise_xor.accumulate((b == QUOTE).astype(np.uint8)) ^ np.uint8(state.quoted)
    outside = parity == 0
    newline = b == NEWLINE
    ends = np.flatnonzero(newline & outside)
    commas = np.flatnonzero((b == COMMA) & outside)
    all_newlines = np.flatnonzero(newline)
    per_record = np.diff(np.searchsorted(commas, ends), prepend=0)
    per_record[:1] += state.commas
    lengths = np.diff(ends, prepend=-1) - 1
    lengths[:1] += state.length
    # the physical line a record starts on: one more than the line breaks before its start
    starts = np.r_[state.start_line, state.lines_before + np.searchsorted(all_newlines, ends[:-1], side="right") + 1]
    blank = (lengths == 0) | ((lengths == 1) & (b[np.maximum(ends - 1, 0)] == 13))
    _records(per_record[~blank], lengths[~blank], starts[~blank], state)
    tail = ends[-1] + 1 if len(ends) else 0
    state.commas = int(len(commas) - np.searchsorted(commas, tail)) + (0 if len(ends) else state.commas)
    state.length = len(b) - tail + (0 if len(ends) else state.length)
    state.start_line = state.lines_before + int(np.searchsorted(all_newlines, tail - 1, side="right")) + 1 if len(ends) else state.start_line
    state.lines_before += len(all_newlines)
    state.quoted = int(parity[-1]) if len(parity) else state.quoted


def _records(commas: np.ndarray, lengths: np.ndarray, lines: np.ndarray, state: _State) -> None:
    if not len(commas):
        return
    if state.expected is None:
        state.expected = int(commas[0]) + 1
    wrong = np.flatnonzero(commas + 1 != state.expected)
    state.n_bad += len(wrong)
    state.bad.extend((int(lines[i]), int(commas[i]) + 1) for i in wrong[:max(MAX_LISTED - len(state.bad), 0)])
