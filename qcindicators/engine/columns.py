"""Columns a scan may read: the table's own, facility attributes (by integer take), and derived ones."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..codes import arrow_text, codes_against, run_of, run_starts
from ..compile.nodes import LinkRequest
from ..domain.ddd import DrugLookup, drug_line_attributes, resolve_dictionary
from ..errors import MissingColumnError, did_you_mean
from ..result.diagnostics import Ledger
from ..schemas.checker import TableChecker, required_column_failures
from ..schemas.contract import DERIVATIONS, FACILITY_ATTRIBUTES, LINKS, TABLES
from ..spec.expr import columns, parse
from .links import ParentIndex, sorted_member
from .periods import month_codes


class ColumnProvider:
    """Lazily builds each column once per scan; never modifies the input frame."""

    def __init__(self, frame: pd.DataFrame, table: str, fac: np.ndarray, context: "ScanContext", offset: int | None = None):
        self.frame, self.table, self.fac, self.ctx = frame, table, fac, context
        self.offset = offset      # the batch's first row in the whole table, when it is a batch of it
        self._cache: dict[str, pd.Series] = {}
        self._months: dict[str, np.ndarray] = {}
        self._keys: dict[tuple[str, str], np.ndarray] = {}
        self._factorized: dict[str, tuple[np.ndarray, pd.Index]] = {}
        self._runs: dict[str, tuple | None] = {}
        self.memo: dict[str, object] = {}       # subexpressions evaluated on this batch (expr_eval.evaluate)
        self._drug: dict | None = None

    def parent_keys(self, parent: str, child_id: str) -> np.ndarray:
        """Each row's key among the rows of its `parent` (stays, visits), −1 where not found: looked up once per
        batch, however many exists() requests, cohort dates and units ask for it."""
        if (parent, child_id) not in self._keys:
            self._keys[(parent, child_id)] = self.ctx.parent_index(parent).key_of(self.fac, self.frame[child_id],
                                                                                  self.runs(child_id))
        return self._keys[(parent, child_id)]

    def runs(self, column: str) -> tuple | None:
        """(Arrow text of a text column, first rows of its runs of one value within a facility — None where runs
        do not halve the rows), once per batch for the parent lookups and distinct counts that both use them;
        None for a column that is not Arrow text."""
        if column not in self._runs:
            s = self(column)
            text = arrow_text(s) if hasattr(s.array, "__arrow_array__") else None
            self._runs[column] = None if text is None else (text, run_starts(text, self.fac))
        return self._runs[column]

    def factorized(self, column: str) -> tuple[np.ndarray, pd.Index]:
        """(code of each row's value, the distinct values; −1 where missing), once per batch. A text column's
        runs of one value (a stay's drug lines) are hashed once per run."""
        if column not in self._factorized:
            s = self(column)
            text, starts = self.runs(column) or (None, None)
            if starts is None:
                codes, uniques = pd.factorize(s, use_na_sentinel=True)
            else:       # Arrow's own hash of the run heads (pandas' factorize of Arrow strings costs 4× as much)
                heads = pc.dictionary_encode(text.take(pa.array(starts)))
                head_codes = pc.fill_null(heads.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
                codes, uniques = head_codes[run_of(starts, len(s))], heads.dictionary.to_pandas()
            self._factorized[column] = (np.asarray(codes), pd.Index(uniques))
        return self._factorized[column]

    def months(self, column: str) -> np.ndarray:
        """The month code of each row's date in `column` (every scan and ledger of the batch shares it)."""
        if column not in self._months:
            self._months[column] = month_codes(self(column))
        return self._months[column]

    def exists(self, child: str, cond) -> pd.Series:
        """True where this row (a stay or visit) has a child row meeting `cond` (answered by the child's read)."""
        link = LINKS[(self.table, child)]
        matched = self.ctx.matches[LinkRequest(self.table, child, cond).memo]
        index = self.ctx.parent_index(self.table)
        keys = index.row_keys_of(self.offset, len(self.frame))
        if keys is None:
            keys = index.key_of(self.fac, self.frame[link.parent_id])
        return pd.Series(sorted_member(keys, matched) & (keys >= 0))

    def __call__(self, name: str) -> pd.Series:
        if name not in self._cache:
            self._cache[name] = self._build(name)
        return self._cache[name]

    def _build(self, name: str) -> pd.Series:
        if name in DERIVATIONS.get(self.table, {}):
            return DERIVERS[(self.table, name)](self, name)
        if name in self.frame.columns:
            return self.frame[name]
        if name in FACILITY_ATTRIBUTES and name not in TABLES[self.table].by_name:
            return self.ctx.facility_attribute(name, self.fac)
        raise MissingColumnError(
            f"表 {self.table} 缺少列 {name!r}（指标 {', '.join(self.ctx.users_of(self.table, name)) or '?'} 需要）/ "
            f"table {self.table!r} has no column {name!r}, needed by "
            f"{', '.join(self.ctx.users_of(self.table, name)) or 'the plan'}." + did_you_mean(name, self.frame.columns))


    def drug_attribute(self, name: str) -> pd.Series:
        if self._drug is None:
            months = self.months("order_date") if "order_date" in self.frame.columns else None
            self._drug = self.ctx.drug_attributes(self.frame, self.fac, self.offset, months)
        return pd.Series(self._drug[name])


def derive_los_days(frame: pd.DataFrame, ledger: Ledger) -> pd.Series:
    """实际住院天数: as given, else discharge − admit in days with a same-day stay counting 1."""
    days = (frame["discharge_date"] - frame["admit_date"]).dt.days.astype("float64")
    derived = days.where(days > 0, 1.0).where(days.notna())
    if "los_days" not in frame.columns:
        return derived
    given = frame["los_days"].astype("float64")
    zero = given == 0           # 实际住院天数 0: a same-day stay, which the derivation counts 1 (TABLES.md)
    if zero.any():
        ledger.add("discharges", "los_days_zero_as_one", int(zero.sum()),
                   "实际住院天数为 0（当日出入院），按 1 天计", "los_days 0 (a same-day stay) counted as 1 day, as derived")
        given = given.where(~zero, 1.0)
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


# How each derivation the contract declares is made (the contract says from what; this says how).
DERIVERS = {
    ("discharges", "los_days"): lambda get, name: derive_los_days(get.frame, get.ctx.ledger),
    ("referrals", "direction"): lambda get, name: derive_direction(get.frame, get.ctx),
    **{("drug_orders", c): ColumnProvider.drug_attribute for c in DERIVATIONS["drug_orders"]},
}


class ScanContext:
    """What the scans of one run share: facilities, parent indexes, exists() answers, the drug dictionary, the ledger."""

    def __init__(self, tables, facilities: pd.DataFrame, ledger: Ledger, plan, gate, batch_rows: int):
        self.tables, self.facilities, self.ledger, self.plan, self.gate = tables, facilities, ledger, plan, gate
        self.batch_rows = batch_rows
        self.fac_index = pd.Index(facilities["facility_id"].astype("str"))
        self.drug_ledger = None       # set by the engine, which knows the period grain
        self.matches: dict[tuple, np.ndarray] = {}      # exists() requests → sorted keys of matching parents
        self._resolved: DrugLookup | None = None
        self._parents: dict[str, ParentIndex] = {}
        self._ledger_batches: set[int] = set()

    def users_of(self, table: str, column: str) -> list[str]:
        """Indicators of the plan whose measures on `table` read `column` (for error messages)."""
        return [ident for ident, spec in self.plan.specs.items()
                if any(m.table == table and any(column in columns(parse(t)) for t in (m.where, m.value) if t)
                       for _, m in spec.measures())]

    def stays(self) -> ParentIndex:
        return self.parent_index("discharges")

    def parent_index(self, table: str) -> ParentIndex:
        """Stays (or visits) by integer key, built once per computation (their key is checked by the plan's checks)."""
        if table not in self._parents:
            id_col = next(k.parent_id for k in LINKS.values() if k.parent == table)
            date = "discharge_date" if table == "discharges" else None
            have = set(self.tables.columns(table))
            units = sorted({src[1] for m in self.plan.measures() for u in self.plan.units
                            for src in [m.unit_source(u)] if src and src[0] == table and src[1] in have})
            frame = self.tables.load(table, ["facility_id", id_col] + ([date] if date else []) + units)
            self._parents[table] = ParentIndex(frame, id_col, self.fac_index, date, units)
        return self._parents[table]

    def facility_attribute(self, name: str, fac: np.ndarray) -> pd.Series:
        col = self.facilities[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = np.append(np.asarray(col.cat.codes), -1)[fac]
            return pd.Series(pd.Categorical.from_codes(codes, categories=col.cat.categories))
        values = col.to_numpy(dtype=float if col.dtype == "Int64" else object, na_value=np.nan if col.dtype == "Int64" else None)
        return pd.Series(np.append(values, np.nan if col.dtype == "Int64" else None)[fac])

    def drug_lookup(self) -> DrugLookup:
        if self._resolved is None:      # checked through the gate like any table; failing entries are left out
            d = self.tables.load("drug_dictionary")
            self.gate.add(required_column_failures(self.tables, "drug_dictionary"))
            bad = self.gate.check(TableChecker("drug_dictionary", None, self.facilities), d, 0,
                                  self.tables.read_failures("drug_dictionary"))
            d = d[~bad].reset_index(drop=True) if bad.any() else d
            dict_fac = (codes_against(d["facility_id"], self.fac_index)
                        if "facility_id" in d.columns else np.full(len(d), -1))
            self._resolved = DrugLookup(resolve_dictionary(d), dict_fac, len(self.fac_index))
        return self._resolved

    def drug_attributes(self, lines: pd.DataFrame, fac: np.ndarray, offset: int | None = None,
                        months: np.ndarray | None = None) -> dict:
        lookup = self.drug_lookup()
        attrs = drug_line_attributes(lines, lookup, fac)
        # the ledger sees each batch of drug lines once
        if offset is None or offset not in self._ledger_batches:
            self.drug_ledger.add_batch(lines, fac, attrs, lookup, months)
            if offset is not None:
                self._ledger_batches.add(offset)
        return attrs

    def finish(self) -> None:
        """Close the ledgers that summarise over the whole run."""
        if self._resolved is not None:
            self.drug_ledger.finish(len(self._resolved.resolved), self._resolved.resolved)
