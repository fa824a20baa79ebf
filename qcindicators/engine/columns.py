"""Columns a scan may read: the table's own, facility attributes (by integer take), and derived ones."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..codes import codes_against
from ..schemas.contract import DERIVED_COLUMNS, FACILITY_ATTRIBUTES, TABLES
from ..result.diagnostics import Ledger
from ..domain.ddd import drug_line_attributes, resolve_dictionary
from ..errors import MissingColumnError, did_you_mean


class ColumnProvider:
    """Lazily builds each column once per scan; never modifies the input frame."""

    def __init__(self, frame: pd.DataFrame, table: str, fac: np.ndarray, context: "ScanContext", offset: int | None = None):
        self.frame, self.table, self.fac, self.ctx = frame, table, fac, context
        self.offset = offset      # the batch's first row in the whole table, when it is a batch of it
        self._cache: dict[str, pd.Series] = {}
        self._drug: dict | None = None

    def exists(self, child: str, cond) -> pd.Series:
        """True where this row (a stay or visit) has a child row meeting `cond`."""
        matched = self.ctx.child_matches(self.table, child, cond)
        index = self.ctx.parent_index(self.table)
        keys = index.row_keys_of(self.offset, len(self.frame))
        if keys is None:
            keys = index.key_of(self.fac, self.frame[PARENT_ID[self.table]])
        return pd.Series(sorted_member(keys, matched) & (keys >= 0))

    def __call__(self, name: str) -> pd.Series:
        if name not in self._cache:
            self._cache[name] = self._build(name)
        return self._cache[name]

    def _build(self, name: str) -> pd.Series:
        if name == "los_days" and self.table == "discharges":
            return derive_los_days(self.frame, self.ctx.ledger)
        if name == "direction" and self.table == "referrals":
            return derive_direction(self.frame, self.ctx)
        if name in self.frame.columns:
            return self.frame[name]
        if name in DERIVED_COLUMNS.get(self.table, {}):
            if self._drug is None:
                self._drug = self.ctx.drug_attributes(self.frame, self.fac, self.offset)
            return pd.Series(self._drug[name])
        if name in FACILITY_ATTRIBUTES and name not in TABLES[self.table].by_name:
            return self.ctx.facility_attribute(name, self.fac)
        raise MissingColumnError(
            f"表 {self.table} 缺少列 {name!r}（指标 {', '.join(self.ctx.users_of(self.table, name)) or '?'} 需要）/ "
            f"table {self.table!r} has no column {name!r}, needed by "
            f"{', '.join(self.ctx.users_of(self.table, name)) or 'the plan'}." + did_you_mean(name, self.frame.columns))


def derive_los_days(frame: pd.DataFrame, ledger: Ledger) -> pd.Series:
    """实际住院天数: as given, else discharge − admit in days with a same-day stay counting 1."""
    days = (frame["discharge_date"] - frame["admit_date"]).dt.days.astype("float64")
    derived = days.where(days > 0, 1.0).where(days.notna())
    if "los_days" not in frame.columns:
        return derived
    given = frame["los_days"].astype("float64")
    filled = given.isna() & derived.notna()
    if filled.any():
        ledger.add("discharges", "los_days_derived", int(filled.sum()),
                   "实际住院天数缺失，已由出入院日期推算", "los_days missing; derived from the dates")
    return given.where(given.notna(), derived)


def derive_direction(frame: pd.DataFrame, ctx: "ScanContext") -> pd.Series:
    """转诊方向: as given, else from the two facilities' levels (to a higher level: up; lower: down)."""
    level = ctx.facilities["level"].to_numpy(dtype=float, na_value=np.nan)
    level = np.append(level, np.nan)
    a = level[codes_against(frame["from_facility_id"], ctx.fac_index)]
    b = level[codes_against(frame["to_facility_id"], ctx.fac_index)]
    derived = pd.Categorical(np.where(b > a, "up", np.where(b < a, "down", None)), categories=["up", "down"])
    given = frame["direction"] if "direction" in frame.columns else pd.Series(pd.Categorical([None] * len(frame), categories=["up", "down"]))
    filled = given.isna().to_numpy() & ~pd.isna(derived)
    if filled.any():
        ctx.ledger.add("referrals", "direction_derived", int(filled.sum()), "转诊方向缺失，已按双方医院级别推定",
                       "direction missing; derived from the two facilities' levels")
    same = given.isna().to_numpy() & pd.isna(derived)
    if same.any():
        ctx.ledger.add("referrals", "direction_unknown", int(same.sum()), "转诊方向缺失且双方级别相同，无法判定上转或下转",
                       "direction missing and both facilities have the same level: neither up nor down")
    return given.astype(derived.dtype).where(~filled, pd.Series(derived))


class ScanContext:
    """What scans share: facilities, the drug dictionary resolution, the ledger."""

    def __init__(self, tables, facilities: pd.DataFrame, ledger: Ledger, plan, gate):
        self.tables, self.facilities, self.ledger, self.plan, self.gate = tables, facilities, ledger, plan, gate
        self.fac_index = pd.Index(facilities["facility_id"].astype("str"))
        self.county_groups: pd.Index | None = None
        self.drug_ledger = None       # set by the engine, which knows the period grain
        self._resolved: tuple | None = None
        self._parents: dict[str, ParentIndex] = {}
        self._matches: dict[tuple, np.ndarray] = {}
        self._ledger_batches: set[int] = set()
        self.zero_based: set[str] = set()   # measures of count indicators (set by the engine)

    def users_of(self, table: str, column: str) -> list[str]:
        """Indicators of the plan whose measures on `table` read `column` (for error messages)."""
        from ..spec.expr import columns, parse
        return [ident for ident, spec in self.plan.specs.items()
                if any(m.table == table and any(column in columns(parse(t)) for t in (m.where, m.value) if t)
                       for _, m in spec.measures())]

    def stays(self) -> "ParentIndex":
        return self.parent_index("discharges")

    def parent_index(self, table: str) -> "ParentIndex":
        """Stays (or visits) by integer key, built once per computation, their key checked once."""
        if table not in self._parents:
            from ..schemas.checker import key_failures
            self.gate.add(key_failures(self.tables, table))
            cols = ["facility_id", PARENT_ID[table]] + (["discharge_date"] if table == "discharges" else [])
            self._parents[table] = ParentIndex(self.tables.load(table, cols), PARENT_ID[table], self.fac_index,
                                               "discharge_date" if table == "discharges" else None)
        return self._parents[table]

    def child_matches(self, parent: str, child: str, cond) -> np.ndarray:
        """Sorted keys of the parents with at least one child row meeting `cond`."""
        memo = _link_memo(parent, child, cond)
        if memo not in self._matches:
            self._read_links(child, [(parent, cond)])
        return self._matches[memo]

    def prefetch_links(self) -> None:
        """Every exists() of the plan on one child table answered in one read of that table.

        Drug lines feed several person counts (stays with antibacterials, class I operations with
        prophylaxis, visits with antibacterials); reading 60 million lines once for all of them
        instead of once each is most of what those indicators cost.
        """
        from ..spec.expr import links
        wanted: dict[str, dict[tuple, tuple]] = {}
        for scan in self.plan.scans:
            for m in scan.measures:
                for node in (m.value, m.where):
                    for child, cond in (links(node) if node is not None else []):
                        wanted.setdefault(child, {})[_link_memo(scan.table, child, cond)] = (scan.table, cond)
        for child, requests in wanted.items():
            todo = [r for memo, r in requests.items() if memo not in self._matches]
            if todo:
                self._read_links(child, todo)

    def _read_links(self, child: str, requests: list[tuple[str, object]]) -> None:
        """One read of `child` answering (parent, condition) requests: the parent keys each one matches."""
        from ..schemas.checker import TableChecker
        from ..spec.expr import columns
        from .expr_eval import as_mask, evaluate
        cols = {"facility_id", "encounter_id"}
        for parent, cond in requests:
            cols |= columns(cond) if cond is not None else set()
            if (parent, child) in LINK_SETTINGS:
                cols.add("setting")
        have = set(self.tables.columns(child))
        raw = cols & have
        if cols & set(DERIVED_COLUMNS.get(child, {})):      # drug attributes: and what the drug ledger records
            raw |= {"drug_code", "quantity"} | ({"order_date", "amount"} & have)
        checker = TableChecker(child, raw, self.facilities)
        pending = [_PendingKeys(self.parent_index(parent)) for parent, _ in requests]
        from .pandas_engine import BATCH_ROWS
        for offset, frame, read_failures in self.tables.batches(child, sorted(raw), BATCH_ROWS):
            good = ~self.gate.check(checker, frame, offset, read_failures)
            fac = codes_against(frame["facility_id"], self.fac_index)
            get = ColumnProvider(frame, child, fac, self, offset)   # columns built once per batch, shared by the requests
            for (parent, cond), keys in zip(requests, pending):
                keep = good.copy()
                if (parent, child) in LINK_SETTINGS:
                    keep &= frame["setting"].isin(LINK_SETTINGS[(parent, child)]).to_numpy()
                if cond is not None:
                    keep &= as_mask(evaluate(cond, get, len(frame)), len(frame))
                keys.add(fac[keep], frame["encounter_id"][keep])
        for (parent, cond), keys in zip(requests, pending):
            self._matches[_link_memo(parent, child, cond)] = keys.keys()

    def facility_attribute(self, name: str, fac: np.ndarray) -> pd.Series:
        col = self.facilities[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = np.append(np.asarray(col.cat.codes), -1)[fac]
            return pd.Series(pd.Categorical.from_codes(codes, categories=col.cat.categories))
        values = col.to_numpy(dtype=float if col.dtype == "Int64" else object, na_value=np.nan if col.dtype == "Int64" else None)
        return pd.Series(np.append(values, np.nan if col.dtype == "Int64" else None)[fac])

    def resolved_dictionary(self) -> tuple[pd.DataFrame, np.ndarray]:
        if self._resolved is None:      # checked through the gate like any table; failing entries are left out
            from ..schemas.checker import TableChecker, required_column_failures
            d = self.tables.load("drug_dictionary")
            self.gate.add(required_column_failures(self.tables, "drug_dictionary"))
            bad = self.gate.check(TableChecker("drug_dictionary", None, self.facilities), d, 0,
                                  self.tables.read_failures("drug_dictionary"))
            d = d[~bad].reset_index(drop=True) if bad.any() else d
            resolved = resolve_dictionary(d)
            dict_fac = (codes_against(d["facility_id"], self.fac_index)
                        if "facility_id" in d.columns else np.full(len(d), -1))
            self._resolved = (resolved, dict_fac)
        return self._resolved

    def drug_attributes(self, lines: pd.DataFrame, fac: np.ndarray, offset: int | None = None) -> dict:
        resolved, dict_fac = self.resolved_dictionary()
        attrs = drug_line_attributes(lines, resolved, fac, dict_fac)
        # the ledger sees each batch of drug lines once, however many reads of the table the plan makes
        # (the scan's and exists()'s read the same batches: both use BATCH_ROWS)
        if offset is None or offset not in self._ledger_batches:
            self.drug_ledger.add_batch(lines, fac, attrs, resolved)
            if offset is not None:
                self._ledger_batches.add(offset)
        return attrs


PARENT_ID = {"discharges": "encounter_id", "visits": "visit_id"}
# which child rows may belong to a parent: inpatient drug lines to stays, the others to visits
LINK_SETTINGS = {("discharges", "drug_orders"): ("inpatient",), ("visits", "drug_orders"): ("outpatient", "emergency")}


def _link_memo(parent: str, child: str, cond) -> tuple:
    from ..spec.expr import to_text
    return (parent, child, to_text(cond) if cond is not None else "")


def sorted_member(keys: np.ndarray, sorted_unique: np.ndarray) -> np.ndarray:
    """np.isin for a sorted, unique right side: a binary search, not a hash of both sides per batch."""
    if not len(sorted_unique):
        return np.zeros(len(keys), bool)
    pos = np.searchsorted(sorted_unique, keys).clip(0, len(sorted_unique) - 1)
    return sorted_unique[pos] == keys


class _PendingKeys:
    """Child rows' parent ids gathered over batches and looked up together.

    Arrow's index_in hashes its whole value set (every stay or visit id) on each call; per 1M-row
    batch of drug lines that is most of the work. Gathering the kept rows and looking them up a few
    million at a time hashes the parent ids a few times instead of once per batch.
    """

    FLUSH_ROWS = 8_000_000

    def __init__(self, index: "ParentIndex"):
        self.index, self.facs, self.ids, self.rows = index, [], [], 0
        self.found = [np.zeros(0, np.int64)]

    def add(self, fac: np.ndarray, ids: pd.Series) -> None:
        self.facs.append(fac)
        self.ids.append(ids)
        self.rows += len(fac)
        if self.rows >= self.FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self.rows:
            keys = self.index.key_of(np.concatenate(self.facs), pd.concat(self.ids, ignore_index=True))
            self.found.append(np.unique(keys[keys >= 0]))
        self.facs, self.ids, self.rows = [], [], 0

    def keys(self) -> np.ndarray:
        self._flush()
        return np.unique(np.concatenate(self.found))


class ParentIndex:
    """(facility, id) of a stay or visit → integer key; one hash of the parent's ids, then searchsorted."""

    def __init__(self, frame: pd.DataFrame, id_col: str, fac_index: pd.Index, date_col: str | None = None):
        from ..codes import StringIndex
        from .periods import month_codes
        self.uniques = StringIndex(frame[id_col])
        self.width = len(self.uniques) + 1
        key = codes_against(frame["facility_id"], fac_index) * self.width + self.uniques.positions(frame[id_col])
        self.row_keys = key             # in the table's row order: a batch of the parent table slices it
        order = np.argsort(key, kind="stable")
        self.keys = key[order]
        self.months = month_codes(frame[date_col])[order] if date_col else None

    def row_keys_of(self, offset: int | None, n: int) -> np.ndarray | None:
        """Keys of rows offset … offset+n of the parent table itself, without hashing their ids again."""
        if offset is None or offset + n > len(self.row_keys):
            return None
        return self.row_keys[offset:offset + n]

    def key_of(self, fac: np.ndarray, ids: pd.Series) -> np.ndarray:
        """Each row's parent key; −1 where the id is unknown."""
        pos = self.uniques.positions(ids)
        return np.where((pos >= 0) & (fac >= 0), fac * self.width + pos, -1)

    def discharge_months(self, fac: np.ndarray, encounter_ids: pd.Series) -> np.ndarray:
        """Discharge month of each row's stay; −1 where the stay is not found."""
        key = self.key_of(fac, encounter_ids)
        if not len(self.keys):
            return np.full(len(fac), -1, np.int64)
        pos = np.searchsorted(self.keys, key).clip(0, len(self.keys) - 1)
        return np.where((key >= 0) & (self.keys[pos] == key), self.months[pos], -1)
