"""Checks of one batch of one table, and the few checks that need the whole table.

`validate()` and the engine both use these, so every rule exists once. Per batch:
values that could not be read, pandera's column rules, rules across columns, and
facilities that do not exist. Whole table (reading only the key columns): key
uniqueness and, for operations, that their stay exists.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..codes import arrow_text, strictly_increasing

from .contract import TABLES
from .failures import concat_failures, empty_failures, make_failures
from .pandera_schemas import pandera_failures
from .rules import FACILITY_REF_COLUMNS, ROW_RULES, facility_codes, missing_parent


class TableChecker:
    """Checks batches of `table` on the columns in `scope` (None: every column present)."""

    def __init__(self, table: str, scope: set[str] | None, facilities: pd.DataFrame | None):
        self.table, self.scope, self.facilities = table, scope, facilities

    def check(self, frame: pd.DataFrame, offset: int, read_failures: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        """(failures with whole-table row numbers, mask of failing rows in this batch)."""
        scope = set(frame.columns) if self.scope is None else (self.scope & set(frame.columns))
        parts = [read_failures[read_failures["column"].isin(scope)],
                 pandera_failures(frame, self.table, sorted(scope), check_keys=False)]
        for rule in ROW_RULES:
            if rule.table == self.table and set(rule.columns) <= scope:
                parts.append(make_failures(frame, self.table, rule.blame, np.flatnonzero(rule.test(frame)), rule.name, rule.zh, rule.en))
        if self.facilities is not None and self.table != "facilities":
            for col in FACILITY_REF_COLUMNS.get(self.table, []):
                if col in scope:
                    bad = frame[col].notna().to_numpy() & (facility_codes(frame[col], self.facilities) < 0)
                    parts.append(make_failures(frame, self.table, col, np.flatnonzero(bad), "unknown_facility",
                                               "机构代码不在机构表（facilities）中", "facility not found in the facilities table"))
        failures = concat_failures(parts)
        bad = np.zeros(len(frame), bool)
        rows = failures["row"].to_numpy(dtype=np.int64)
        bad[rows[rows > 0] - 1] = True
        if offset and len(failures):
            failures = failures.assign(row=np.where(rows > 0, rows + offset, 0))
        return failures, bad


def row_failures(tables, table: str, facilities: pd.DataFrame | None) -> pd.DataFrame:
    """Every row check on every column of `table`, as validate runs them, batch by batch."""
    checker = TableChecker(table, None, facilities)
    return concat_failures([checker.check(frame, offset, read_failures)[0]
                            for offset, frame, read_failures in tables.batches(table, tables.columns(table))])


def key_failures(tables, table: str) -> pd.DataFrame:
    """Duplicate keys over the whole table, reading only the key columns."""
    key = [c for c in TABLES[table].key if c in tables.columns(table)]
    if not key or (table == "drug_dictionary"):
        return empty_failures()
    frame = tables.load(table, key)[key]
    dup = duplicated_rows(frame, key)
    return make_failures(frame, table, "+".join(key), np.flatnonzero(dup), "unique_key",
                         f"键重复（{'+'.join(key)} 应唯一）", f"duplicate key ({'+'.join(key)} must be unique)",
                         values=None if not dup.any() else _key_text(frame, key, dup))


def duplicated_rows(frame: pd.DataFrame, key: list[str]) -> np.ndarray:
    """`frame.duplicated(key, keep=False)`: missing values equal each other, as in pandas."""
    if len(key) == 2 and pd.api.types.is_string_dtype(frame[key[1]].dtype) and len(frame) > 1:
        return _duplicated_within(frame[key[0]], frame[key[1]])
    return _duplicated_by_sort(frame, key)


def _duplicated_within(groups: pd.Series, ids: pd.Series) -> np.ndarray:
    """Ids repeated within a group (a facility): each group's ids hashed on their own by Arrow, and a
    group whose distinct count equals its size (nearly all of them) is done. Factorising and sorting
    20 million visit ids of a region at once took seven seconds."""
    g = pd.factorize(groups, use_na_sentinel=True)[0].astype(np.int32)
    if (g < 0).any():
        g = np.where(g < 0, g.max() + 1, g)                          # rows without a facility: a group of their own
    step = np.diff(g)
    order = None if (step >= 0).all() else np.argsort(g, kind="stable")    # an export grouped by facility: as is
    arr = arrow_text(ids, whole=False)
    if order is not None:
        arr, g = arr.take(pa.array(order)), g[order]
        step = np.diff(g)
    out = np.zeros(len(g), bool)
    cuts = np.flatnonzero(step) + 1
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(g)]):       # groups, not rows
        part = arr.slice(int(lo), int(hi - lo))
        if strictly_increasing(part) or len(pc.unique(part)) == len(part):
            continue
        part = part.combine_chunks() if isinstance(part, pa.ChunkedArray) else part
        first = np.asarray(pc.index_in(part, value_set=part).to_numpy(zero_copy_only=False), dtype=np.int64)
        again = np.flatnonzero(first != np.arange(len(part)))
        out[lo + again] = True
        out[lo + first[again]] = True
    if order is not None:
        unsorted = np.zeros(len(out), bool)
        unsorted[order] = out
        return unsorted
    return out


def _duplicated_by_sort(frame: pd.DataFrame, key: list[str]) -> np.ndarray:
    """By integer codes and one sort, not by hashing strings inside pandas."""
    codes = [pd.factorize(frame[c], use_na_sentinel=True)[0] for c in key]   # missing values equal each other, as in pandas
    n = len(frame)
    if n < 2:
        return np.zeros(n, bool)
    order = np.lexsort(codes[::-1])
    same = np.ones(n - 1, bool)
    for c in codes:
        c = c[order]
        same &= c[1:] == c[:-1]
    dup = np.zeros(n, bool)
    dup[1:] |= same
    dup[:-1] |= same
    out = np.zeros(n, bool)
    out[order] = dup
    return out


def _key_text(frame, key, mask):
    parts = [frame[c][mask].astype("object").astype(str).to_numpy() for c in key]
    out = parts[0]
    for p in parts[1:]:
        out = np.char.add(np.char.add(out.astype(str), "/"), p.astype(str))
    return out


def procedure_parent_failures(tables, facilities: pd.DataFrame) -> pd.DataFrame:
    """Operations whose stay is not in discharges (same facility): an error, not a warning."""
    if "procedures" not in tables or "discharges" not in tables:
        return empty_failures()
    proc = tables.load("procedures", ["facility_id", "encounter_id"])
    disc = tables.load("discharges", ["facility_id", "encounter_id"])
    bad = missing_parent(facility_codes(proc["facility_id"], facilities), proc["encounter_id"],
                         facility_codes(disc["facility_id"], facilities), disc["encounter_id"])
    return make_failures(proc, "procedures", "encounter_id", np.flatnonzero(bad), "unknown_encounter",
                         "手术操作对应的住院记录不在病案首页（同一机构）中", "no discharge with this encounter_id in the same facility")


def procedures_of_stays(tables, facilities: pd.DataFrame, stay_rows: np.ndarray) -> pd.DataFrame:
    """The procedures of set-aside stays (1-based discharge rows) go with them, as in validate's quarantine."""
    if not len(stay_rows) or "procedures" not in tables:
        return empty_failures()
    proc = tables.load("procedures", ["facility_id", "encounter_id"])
    gone = tables.load("discharges", ["facility_id", "encounter_id"]).iloc[np.asarray(stay_rows, np.int64) - 1]
    hit = ~missing_parent(facility_codes(proc["facility_id"], facilities), proc["encounter_id"],
                          facility_codes(gone["facility_id"], facilities), gone["encounter_id"])
    return make_failures(proc, "procedures", "encounter_id", np.flatnonzero(hit), "parent_quarantined",
                         "所属住院记录已被隔离", "its discharge was quarantined")


def required_column_failures(tables, table: str) -> pd.DataFrame:
    """Required columns missing from the headers (no data read)."""
    have = set(tables.columns(table))
    rows = []
    for col in TABLES[table].required:
        if col not in have:
            spec = TABLES[table].by_name[col]
            rows.append({"table": table, "column": col, "row": 0, "key": "", "value": None, "rule": "required_column",
                         "message_zh": f"缺少必填列 {spec.zh}（{col}）", "message_en": f"required column {col!r} is missing"})
    return pd.DataFrame(rows, columns=empty_failures().columns) if rows else empty_failures()


class Gate:
    """What happens to failing rows while a computation streams: collected, and set aside when asked.

    With on_invalid="raise" every failure of every batch is collected and raised together at the
    end, so one run lists them all; with "quarantine" the rows are left out, written to the
    quarantine folder with their reasons and counted.
    """

    def __init__(self, on_invalid: str, directory=None):
        self.on_invalid, self.directory = on_invalid, directory
        if on_invalid == "quarantine" and directory is not None:
            clear_quarantine(directory)      # a complete fresh set per run: never appended across runs
        self.parts: list[pd.DataFrame] = []
        self.quarantined: dict[str, int] = {}
        self._whole: dict[str, np.ndarray] = {}    # rows failed by whole-table checks (keys, parents)
        self._set_aside: dict[str, np.ndarray] = {}  # 1-based row numbers already counted, per table
        self._covered: set[str] = set()              # tables whose every row check ran whole (row_failures)

    def add(self, failures: pd.DataFrame, covers: str | None = None) -> None:
        """Failures found outside the batches (whole-table checks): their rows are left out too.
        `covers`: these are every row check of that table (row_failures), so batches need not repeat them."""
        if covers:
            self._covered.add(covers)
        if len(failures):
            self.parts.append(failures)
            for table, rows in failures[failures["row"] > 0].groupby("table")["row"]:
                self._whole[table] = np.union1d(self._whole.get(table, np.array([], np.int64)), rows.to_numpy(np.int64))

    def whole_rows(self, table: str) -> np.ndarray:
        """1-based rows of `table` failed by whole-table checks so far."""
        return self._whole.get(table, np.array([], np.int64))

    def check(self, checker: TableChecker, frame: pd.DataFrame, offset: int, read_failures: pd.DataFrame) -> np.ndarray:
        if checker.table in self._covered:
            failures, bad = empty_failures(), np.zeros(len(frame), bool)
        else:
            failures, bad = checker.check(frame, offset, read_failures)
        if len(failures):
            self.parts.append(failures)
        whole = self._whole.get(checker.table)
        if whole is not None:
            inside = whole[(whole > offset) & (whole <= offset + len(frame))] - offset - 1
            bad[inside] = True
        if bad.any():
            # a table read twice (by its scan and by exists()) sets a row aside once: counted and written once
            table = checker.table
            rows = np.flatnonzero(bad) + offset + 1
            seen = self._set_aside.get(table, np.array([], np.int64))
            new = ~np.isin(rows, seen)
            if new.any():
                self._set_aside[table] = np.union1d(seen, rows[new])
                self.quarantined[table] = len(self._set_aside[table])
                if self.on_invalid == "quarantine" and self.directory is not None:
                    fresh = np.zeros(len(frame), bool)
                    fresh[rows[new] - offset - 1] = True
                    self._write(table, frame, fresh, offset, failures)
        return bad

    def failures(self) -> pd.DataFrame:
        f = concat_failures(self.parts)
        return f.drop_duplicates(["table", "column", "row"], keep="first").reset_index(drop=True) if len(f) else f

    def _write(self, table, frame, bad, offset, failures) -> None:
        rows = np.flatnonzero(bad) + offset + 1
        known = concat_failures([failures] + [p[(p["table"] == table) & p["row"].isin(rows)] for p in self.parts])
        known = known.drop_duplicates(["column", "row"]) if len(known) else known
        write_quarantined(self.directory, table, frame[bad], rows, known)


def clear_quarantine(directory) -> None:
    """Start a run's quarantine set afresh: remove the TABLE.csv files an earlier run left (and nothing else)."""
    directory = Path(directory)
    for name in TABLES:
        (directory / f"{name}.csv").unlink(missing_ok=True)


def write_quarantined(directory, table: str, rows: pd.DataFrame, row_numbers: np.ndarray, failures: pd.DataFrame) -> None:
    """Append set-aside rows to DIRECTORY/TABLE.csv with their 1-based row numbers and reasons.

    A cell that failed holds the value as read (not the missing value it was coerced to). The files hold
    patient-level rows, so they are created readable by their owner only."""
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    reasons = (failures.assign(reason=failures["column"].astype(str) + ": " + failures["message_zh"] + " / " + failures["message_en"])
               .groupby("row")["reason"].agg("; ".join))
    out = _as_read(rows.reset_index(drop=True), row_numbers, failures)
    out.insert(0, "_row", row_numbers)
    out.insert(1, "_reason", reasons.reindex(row_numbers).to_numpy())
    path = directory / f"{table}.csv"
    new = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with open(fd, "a", encoding="utf-8-sig" if new else "utf-8", newline="") as fh:
        out.to_csv(fh, index=False, header=new)


def _as_read(rows: pd.DataFrame, row_numbers: np.ndarray, failures: pd.DataFrame) -> pd.DataFrame:
    """The failing cells put back to their values as read, from the failure table."""
    pos = pd.Index(row_numbers)
    for column, f in failures[failures["column"].isin(rows.columns)].groupby("column"):
        at = pos.get_indexer(f["row"].to_numpy())
        ok = at >= 0
        if ok.any():
            values = rows[column].astype(object).to_numpy(copy=True)
            values[at[ok]] = f["value"].to_numpy()[ok]
            rows = rows.assign(**{column: values})
    return rows
