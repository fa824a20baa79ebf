"""Validation of a set of tables: every failure at once, optional quarantine of bad rows."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Mapping

import numpy as np
import pandas as pd

from .schemas.contract import TABLES
from .errors import InputDataError
from .io.tables import Tables
from .schemas.checker import (TableChecker, clear_quarantine, key_failures, procedure_parent_failures,
                              required_column_failures, write_quarantined)
from .schemas.failures import concat_failures, make_failures
from .schemas.rules import facility_codes, missing_parent
from .io.tables import read_tables

OnInvalid = Literal["raise", "quarantine", "report"]
WARNING_COLUMNS = ["table", "rule", "rows", "message_zh", "message_en"]


@dataclass
class ValidationReport:
    """Every failure found (`failures`), warnings, and what was quarantined.

    `tables` is the input to use afterwards: the same tables, or, after
    quarantine, the tables without the rows set aside.
    """

    failures: pd.DataFrame
    warnings: pd.DataFrame
    row_counts: dict[str, int]
    tables: Tables
    quarantined: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return len(self.failures) == 0 or bool(self.quarantined)

    def summary(self, max_rows: int = 50) -> str:
        lines = [f"{t}: {n} 行/rows" + (f", 隔离/quarantined {self.quarantined[t]}" if self.quarantined.get(t) else "")
                 for t, n in self.row_counts.items()]
        if len(self.failures):
            lines.append(f"\n{len(self.failures)} 处错误 / failures:")
            by_rule = self.failures.groupby(["table", "column", "rule"], dropna=False, sort=False).size()
            for (t, c, r), n in by_rule.items():
                lines.append(f"  {t}.{c} [{r}]: {n}")
            lines.append("")
            shown = self.failures.head(max_rows)
            for rec in shown.itertuples(index=False):
                where = f"{rec.table} 第{rec.row}行/row {rec.row}" if rec.row else rec.table
                key = f" ({rec.key})" if rec.key else ""
                val = f" 值/value={rec.value!r}" if rec.value is not None else ""
                lines.append(f"  {where}{key} {rec.column}:{val} — {rec.message_zh} / {rec.message_en}")
            if len(self.failures) > max_rows:
                lines.append(f"  … 另有 {len(self.failures) - max_rows} 处 / and {len(self.failures) - max_rows} more")
        else:
            lines.append("\n全部通过 / all checks passed")
        for rec in self.warnings.itertuples(index=False):
            lines.append(f"  警告/warning {rec.table} [{rec.rule}]: {rec.rows} — {rec.message_zh} / {rec.message_en}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{self.summary(20)}</pre>" + (self.failures.head(200).to_html(index=False) if len(self.failures) else "")


def validate(tables: Tables | Mapping, columns: Mapping[str, list[str]] | None = None,
             on_invalid: OnInvalid = "report", quarantine_dir: str | Path | None = None) -> ValidationReport:
    """Check tables against the contract; report every failure in one pass.

    Args:
        tables: a `Tables` (or anything `read_tables` accepts).
        columns: {table: columns} to restrict the checks to what a computation reads; None checks all.
        on_invalid: "report" returns the report; "raise" raises `InputDataError` when anything
            fails; "quarantine" sets failing rows aside (written to `quarantine_dir` if given).

    Examples:
        >>> import qcindicators as qci, pandas as pd
        >>> t = {"facilities": pd.DataFrame({"facility_id": ["F1"], "level": [2], "facility_type": ["general"],
        ...      "ownership": ["public"]})}
        >>> qci.validate(t).ok
        True
    """
    tables = read_tables(tables)
    names = [n for n in tables.names if columns is None or n in columns or n == "facilities"]
    facilities = tables.load("facilities") if "facilities" in tables else None
    parts, counts = [], {}
    for name in names:
        parts.append(required_column_failures(tables, name))
        scope = None if columns is None else set(columns.get(name, [])) | {TABLES[name].facility_column or ""}
        cols = tables.columns(name) if scope is None else sorted(scope & set(tables.columns(name)))
        checker = TableChecker(name, scope, facilities)
        n = 0
        for offset, frame, read_failures in tables.batches(name, cols):
            parts.append(checker.check(frame, offset, read_failures)[0])
            n = offset + len(frame)
        counts[name] = n
        if scope is None or set(TABLES[name].key) <= scope:
            parts.append(key_failures(tables, name))
    if "procedures" in names and (columns is None or "encounter_id" in columns.get("procedures", [])) and facilities is not None:
        parts.append(procedure_parent_failures(tables, facilities))
    failures = concat_failures(parts)
    if len(failures):
        failures = failures.drop_duplicates(["table", "column", "row"], keep="first").reset_index(drop=True)
    warnings = _orphan_drug_line_warnings(tables) if columns is None else pd.DataFrame(columns=WARNING_COLUMNS)
    report = ValidationReport(failures, warnings, counts, tables)
    if len(failures) and on_invalid == "raise":
        raise InputDataError(f"输入数据未通过检查 / input data failed validation\n{report.summary()}", failures)
    if len(failures) and on_invalid == "quarantine":
        return _quarantine(report, {n: tables.load(n) for n in set(failures["table"]) | {"facilities"} | (
            {"discharges", "procedures"} & set(tables.names))}, quarantine_dir)
    return report


def orphan_drug_lines(frames: dict[str, pd.DataFrame]) -> tuple[np.ndarray, dict[str, int]]:
    """Mask of drug lines whose encounter is not found, and counts by setting."""
    drug, fac = frames.get("drug_orders"), frames.get("facilities")
    if drug is None or fac is None or "encounter_id" not in drug.columns:
        return np.zeros(0, bool), {}
    mask = np.zeros(len(drug), bool)
    counts = {}
    dfac = facility_codes(drug["facility_id"], fac)
    setting = drug["setting"].astype("object").to_numpy()
    for parent_name, settings, id_col in (("discharges", ["inpatient"], "encounter_id"),
                                          ("visits", ["outpatient", "emergency"], "visit_id")):
        parent = frames.get(parent_name)
        rows = np.isin(setting, settings)
        if parent is None or not rows.any():
            continue
        miss = missing_parent(dfac[rows], drug["encounter_id"][rows], facility_codes(parent["facility_id"], fac), parent[id_col])
        mask[np.flatnonzero(rows)[miss]] = True
        counts[parent_name] = int(miss.sum())
    return mask, counts


def _orphan_drug_line_warnings(tables: Tables) -> pd.DataFrame:
    if "drug_orders" not in tables or "facilities" not in tables or "encounter_id" not in tables.columns("drug_orders"):
        return pd.DataFrame(columns=WARNING_COLUMNS)
    frames = {"facilities": tables.load("facilities"),
              "drug_orders": tables.load("drug_orders", ["facility_id", "setting", "encounter_id"])}
    for parent, key in (("discharges", "encounter_id"), ("visits", "visit_id")):
        if parent in tables and key in tables.columns(parent):
            frames[parent] = tables.load(parent, ["facility_id", key])
    _, counts = orphan_drug_lines(frames)
    rows = [{"table": "drug_orders", "rule": "orphan_line", "rows": n,
             "message_zh": f"用药明细找不到对应的{'住院记录' if p == 'discharges' else '门急诊就诊'}（可能仍在院或抽取范围不同）",
             "message_en": f"drug lines whose encounter is not in {p} (still in hospital, or a different extract window)"}
            for p, n in counts.items() if n]
    return pd.DataFrame(rows, columns=WARNING_COLUMNS)


def _quarantine(report: ValidationReport, frames: dict[str, pd.DataFrame], directory) -> ValidationReport:
    failures = report.failures
    whole = failures[failures["row"] == 0]
    if len(whole):
        raise InputDataError("有整表级错误，无法隔离行 / table-level failures cannot be quarantined (e.g. a missing "
                             f"required column)\n{report.summary()}", failures)
    bad_rows = {t: np.unique(g["row"].to_numpy() - 1) for t, g in failures.groupby("table")}
    if "discharges" in bad_rows and "procedures" in frames:
        extra = _procedures_of_quarantined(frames, bad_rows["discharges"])
        if len(extra):
            cascade = make_failures(frames["procedures"], "procedures", "encounter_id", extra, "parent_quarantined",
                                    "所属住院记录已被隔离", "its discharge was quarantined")
            failures = concat_failures([failures, cascade])
            bad_rows["procedures"] = np.union1d(bad_rows.get("procedures", np.array([], np.int64)), extra)
    clean, counts = {}, {}
    if directory is not None:
        clear_quarantine(directory)
    for table, rows in bad_rows.items():
        frame = frames[table]
        keep = np.ones(len(frame), bool)
        keep[rows] = False
        clean[table] = frame[keep].reset_index(drop=True)
        counts[table] = int(len(rows))
        if directory is not None:
            write_quarantined(directory, table, frame.iloc[rows], rows + 1, failures[failures["table"] == table])
    report.failures = failures
    report.quarantined = counts
    report.tables = report.tables.replace(clean)
    return report


def _procedures_of_quarantined(frames, disc_rows: np.ndarray) -> np.ndarray:
    disc, proc, fac = frames["discharges"], frames["procedures"], frames["facilities"]
    gone = disc.iloc[disc_rows]
    hit = ~missing_parent(facility_codes(proc["facility_id"], fac), proc["encounter_id"],
                          facility_codes(gone["facility_id"], fac), gone["encounter_id"])
    return np.flatnonzero(hit)
