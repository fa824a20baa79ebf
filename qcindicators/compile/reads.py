"""What a set of measures reads, derives, links and checks, table by table: decided here and only here.

Everything below follows from the contract's declarations (derivations, links, keys): a measure names
columns; a derived column brings its inputs and lookups; a stay's date or an exists() brings the link's
ids; every table read gets its whole-table checks (required columns, key uniqueness, and the parent
check of a required link), whether or not a measure happens to name its key.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from ..schemas.contract import DERIVATIONS, FACILITY_ATTRIBUTES, LINKS, TABLES
from ..spec.expr import columns
from .nodes import MeasureNode


@dataclass(frozen=True)
class TableRead:
    """Everything a run does with one table."""

    table: str
    needs: frozenset[str]        # columns the run cannot do without
    optional: frozenset[str]     # read when the table has them (a given column derived where missing; ledger records)
    derived: tuple[str, ...]     # columns derived on this table
    checks: tuple[str, ...]      # whole-table checks: required_columns, unique_key, parent:<table>

    def columns(self, have: Iterable[str]) -> list[str]:
        """The columns to read from a table whose headers are `have`."""
        return sorted((self.needs | self.optional) & set(have))


@dataclass
class Needs:
    """Accumulates what measures need, table by table."""

    need: dict[str, set[str]] = field(default_factory=dict)
    optional: dict[str, set[str]] = field(default_factory=dict)
    derived: dict[str, set[str]] = field(default_factory=dict)

    def add(self, table: str, cols: Iterable[str], optional: bool = False) -> None:
        (self.optional if optional else self.need).setdefault(table, set()).update(c for c in cols if c)

    def columns_of(self, table: str, cols: set[str]) -> None:
        """Columns a measure names on `table`: its own, derived ones (with their inputs), facility attributes."""
        attrs = (cols & set(FACILITY_ATTRIBUTES)) - set(TABLES[table].by_name)
        self.add("facilities", attrs)
        for c in cols - attrs:
            d = DERIVATIONS.get(table, {}).get(c)
            if d is None:
                self.add(table, [c])
                continue
            self.derived.setdefault(table, set()).add(c)
            self.add(table, d.inputs)
            self.add(table, d.records, optional=True)
            if d.given:
                self.add(table, [c], optional=True)
            for lookup in d.lookups:
                name, _, col = lookup.partition(".")
                self.add(name, [col] if col else TABLES[name].required)
                if not col:
                    self.add(name, TABLES[name].by_name, optional=True)

    def measure(self, m: MeasureNode) -> None:
        self.columns_of(m.table, m.columns())
        self.add(m.table, [TABLES[m.table].facility_column, m.facility])
        if m.on_stay_date:
            link = LINKS[("discharges", m.table)]
            self.add(m.table, [link.child_id])
            self.add("discharges", ["facility_id", link.parent_id, "discharge_date"])
        else:
            self.add(m.table, [m.basis])
        for child, cond in m.link_requests():
            link = LINKS[(m.table, child)]
            self.add(m.table, ["facility_id", link.parent_id])
            self.add(child, ["facility_id", link.child_id] + (["setting"] if link.settings else []))
            self.columns_of(child, columns(cond) if cond is not None else set())

    def tables(self) -> set[str]:
        return set(self.need) | set(self.derived)


def needs_of(measures: Iterable[MeasureNode], units: Iterable[str] = ()) -> Needs:
    """What `measures` need; `units`: columns below the facility to read where the table (or the stay) has them."""
    out = Needs()
    for m in measures:
        out.measure(m)
        for unit in units:
            src = m.unit_source(unit)
            if src is None:                       # every unit gets its facility's total
                continue
            table, col = src
            if table != m.table:                  # the stay's or visit's column
                link = LINKS[(table, m.table)]
                out.add(m.table, [link.child_id])
                out.add(table, ["facility_id", link.parent_id])
                out.add(table, [col], optional=True)
            elif col in DERIVATIONS.get(m.table, {}):
                out.columns_of(m.table, {col})
            else:
                out.add(m.table, [col], optional=True)
    return out


def table_reads(needs: Needs) -> dict[str, TableRead]:
    """Add every table's whole-table checks (and the columns they read) to what the measures need."""
    need = {t: set(c) for t, c in needs.need.items()}
    need.setdefault("facilities", set()).update(TABLES["facilities"].required)
    checks: dict[str, list[str]] = {}
    for t in list(need):
        spec = TABLES[t]
        need[t] |= set(spec.required)
        checks[t] = ["required_columns"] + (["unique_key"] if spec.key else [])
    for (parent, child), link in LINKS.items():
        if link.required and child in need:
            need[child] |= {"facility_id", link.child_id}
            need.setdefault(parent, set()).update({"facility_id", link.parent_id})
            checks.setdefault(parent, ["required_columns", "unique_key"])
            checks[child].append(f"parent:{parent}")
    for t in need:
        need[t] |= {c for c in TABLES[t].key if c in TABLES[t].by_name and TABLES[t].by_name[c].required}
    return {t: TableRead(t, frozenset(need[t]), frozenset(needs.optional.get(t, set()) - need[t]),
                         tuple(sorted(needs.derived.get(t, ()))), tuple(checks[t]))
            for t in sorted(need, key=list(TABLES).index)}


def missing(needs: Needs, headers: Mapping[str, Iterable[str]]) -> list[str]:
    """What the tables (by their headers) lack for these needs: missing_table:T, missing_column:T.c."""
    reasons = []
    for t in sorted(needs.tables() | {"facilities"}):
        if t not in headers:
            reasons.append(f"missing_table:{t}")
            continue
        have = set(headers[t])
        reasons += [f"missing_column:{t}.{c}" for c in sorted(needs.need.get(t, set()) - have)]
    return sorted(reasons)
