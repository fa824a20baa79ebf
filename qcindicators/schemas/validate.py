"""Validation of a set of tables: every failure at once, optional quarantine of bad rows."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Mapping

import numpy as np
import pandas as pd

from ..contract import TABLES
from ..errors import InputDataError
from ..tables import Tables
from .failures import concat_failures, empty_failures, make_failures
from .pandera_schemas import pandera_failures
from .rules import FACILITY_REF_COLUMNS, ROW_RULES, facility_codes, missing_parent

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

    Example:
        >>> import qcindicators as qci, pandas as pd
        >>> t = {"facilities": pd.DataFrame({"facility_id": ["F1"], "level": [2], "facility_type": ["general"],
        ...      "ownership": ["public"]})}
        >>> qci.validate(t).ok
        True
    """
    from ..tables import read_tables
    tables = read_tables(tables)
    names = [n for n in tables.names if columns is None or n in columns or n == "facilities"]
    frames, parts = {}, []
    for name in names:
        cols = None if columns is None else (list(columns.get(name, [])) or None)
        frame = tables.load(name, cols)
        frames[name] = frame
        scope = set(frame.columns) if cols is None else set(cols) | set(TABLES[name].required)
        rf = tables.read_failures(name, cols)
        parts.append(rf[rf["column"].isin(scope)])
        parts.append(pandera_failures(frame, name, None if cols is None else sorted(scope)))
        parts.append(_row_rule_failures(frame, name, scope))
    parts.append(_facility_reference_failures(frames))
    parts.append(_procedure_parent_failures(frames))
    failures = concat_failures(parts)
    if len(failures):
        failures = failures.drop_duplicates(["table", "column", "row"], keep="first").reset_index(drop=True)
    warnings = _orphan_drug_line_warnings(tables, frames)
    report = ValidationReport(failures, warnings, {n: len(f) for n, f in frames.items()}, tables)
    if len(failures) and on_invalid == "raise":
        raise InputDataError(f"输入数据未通过检查 / input data failed validation\n{report.summary()}", failures)
    if len(failures) and on_invalid == "quarantine":
        return _quarantine(report, frames, quarantine_dir)
    return report


def _row_rule_failures(frame: pd.DataFrame, table: str, scope: set[str]) -> pd.DataFrame:
    out = []
    for rule in ROW_RULES:
        if rule.table == table and all(c in frame.columns for c in rule.columns) and set(rule.columns) <= scope | {"facility_id"}:
            bad = rule.test(frame)
            out.append(make_failures(frame, table, rule.blame, np.flatnonzero(bad), rule.name, rule.zh, rule.en))
    return concat_failures(out)


def _facility_reference_failures(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    facilities = frames.get("facilities")
    if facilities is None:
        return empty_failures()
    out = []
    for table, cols in FACILITY_REF_COLUMNS.items():
        frame = frames.get(table)
        if frame is None:
            continue
        for col in cols:
            if col not in frame.columns:
                continue
            present = frame[col].notna().to_numpy()
            bad = present & (facility_codes(frame[col], facilities) < 0)
            out.append(make_failures(frame, table, col, np.flatnonzero(bad), "unknown_facility",
                                     "机构代码不在机构表（facilities）中", "facility not found in the facilities table"))
    return concat_failures(out)


def _procedure_parent_failures(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    proc, disc, fac = frames.get("procedures"), frames.get("discharges"), frames.get("facilities")
    if proc is None or disc is None or fac is None or "encounter_id" not in proc.columns:
        return empty_failures()
    bad = missing_parent(facility_codes(proc["facility_id"], fac), proc["encounter_id"],
                         facility_codes(disc["facility_id"], fac), disc["encounter_id"])
    return make_failures(proc, "procedures", "encounter_id", np.flatnonzero(bad), "unknown_encounter",
                         "手术操作对应的住院记录不在病案首页（同一机构）中",
                         "no discharge with this encounter_id in the same facility")


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


def _orphan_drug_line_warnings(tables: Tables, frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    if "drug_orders" in frames and "encounter_id" in frames["drug_orders"].columns:
        for parent in ("discharges", "visits"):
            if parent in tables and parent not in frames:
                frames = {**frames, parent: tables.load(parent, ["facility_id", "encounter_id" if parent == "discharges" else "visit_id"])}
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
    for table, rows in bad_rows.items():
        frame = frames[table]
        keep = np.ones(len(frame), bool)
        keep[rows] = False
        clean[table] = frame[keep].reset_index(drop=True)
        counts[table] = int(len(rows))
        if directory is not None:
            _write_quarantine(Path(directory), table, frame, rows, failures[failures["table"] == table])
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


def _write_quarantine(directory: Path, table: str, frame: pd.DataFrame, rows: np.ndarray, failures: pd.DataFrame) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    reasons = (failures.assign(reason=failures["column"].astype(str) + ": " + failures["message_zh"] + " / " + failures["message_en"])
               .groupby("row")["reason"].agg("; ".join))
    out = frame.iloc[rows].copy()
    out.insert(0, "_row", rows + 1)
    out.insert(1, "_reason", reasons.reindex(rows + 1).to_numpy())
    out.to_csv(directory / f"{table}.csv", index=False, encoding="utf-8-sig")
