"""Error classes. Bad definitions and bad data are different errors.

Every message is bilingual (中文 first, then English) because the people who
read them are hospital analysts as often as developers.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Iterable


class QCIError(Exception):
    """Root of every error qcindicators raises on purpose."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A ' Did you mean: x?' hint, or '' when nothing is close."""
    close = difflib.get_close_matches(str(name), sorted(set(map(str, choices))), n=3, cutoff=0.6)
    if not close:
        return ""
    return " 您是否想写 / Did you mean: " + ", ".join(close) + "?"


@dataclass(frozen=True)
class DefinitionIssue:
    """One problem found while loading definitions; many are raised together."""

    file: str
    line: int | None
    indicator: str | None
    key: str | None
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        who = f" [{self.indicator}]" if self.indicator else ""
        key = f" {self.key}:" if self.key else ""
        return f"{where}{who}{key} {self.message}"


class DefinitionError(QCIError, ValueError):
    """A definition (YAML) is wrong. Carries every issue found, with file and line."""

    def __init__(self, issues: list[DefinitionIssue] | str):
        if isinstance(issues, str):
            issues = [DefinitionIssue("<definition>", None, None, None, issues)]
        self.issues = list(issues)
        head = f"指标定义有 {len(self.issues)} 处错误 / {len(self.issues)} problem(s) in indicator definitions:"
        super().__init__("\n".join([head] + ["  - " + str(i) for i in self.issues]))


class ExpressionError(QCIError, ValueError):
    """An expression is outside the whitelisted grammar (wrapped into DefinitionError by the loader)."""


class InputDataError(QCIError, ValueError):
    """Input tables break the contract. `failures` is the tidy failure table."""

    def __init__(self, message: str, failures: Any = None):
        self.failures = failures
        super().__init__(message)


class UnknownTableError(QCIError, KeyError):
    """A table name that the contract does not know."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class MissingTableError(QCIError, KeyError):
    """An indicator needs a table that was not supplied."""

    def __str__(self) -> str:
        return str(self.args[0])


class MissingColumnError(QCIError, KeyError):
    """An indicator needs an optional column that the table does not have."""

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownIndicatorError(QCIError, KeyError):
    """An indicator id that neither the catalog nor the user's definitions hold."""

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownTargetSetError(QCIError, KeyError):
    """A target-set name or path that cannot be found."""

    def __str__(self) -> str:
        return str(self.args[0])


class QCIWarning(UserWarning):
    """Something the user should know that does not stop the run (e.g. no Chinese font for figures)."""
