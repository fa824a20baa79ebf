"""The steps of a plan: small immutable nodes that only describe (the engine runs them)."""
from __future__ import annotations

from dataclasses import dataclass

from ..schemas.contract import LINKS, STAY_DATE, TABLES
from ..spec.expr import Node, columns, links, to_text


@dataclass(frozen=True)
class MeasureNode:
    """One partial aggregate (sum, count, count_distinct or max) per unit and period."""

    table: str
    basis: str
    agg: str
    value: Node | None
    where: Node | None
    facility: str = "facility_id"
    county_from: str | None = None
    unit_from: tuple[tuple[str, str], ...] = ()     # unit column below the facility → the column that places a row

    @property
    def key(self) -> str:
        v = to_text(self.value) if self.value is not None else "*"
        w = f" where {to_text(self.where)}" if self.where is not None else ""
        by = "" if self.facility == TABLES[self.table].facility_column else f" by {self.facility}"
        county = f" by county of {self.county_from}" if self.county_from else ""
        units = f" units from {', '.join(f'{u}={s}' for u, s in self.unit_from)}" if self.unit_from else ""
        return f"{self.table}[{self.basis}]: {self.agg}({v}){w}{by}{county}{units}"

    def unit_source(self, unit: str) -> tuple[str, str] | None:
        """(table, column) whose value places a row in `unit` below the facility; None: the facility's total."""
        source = dict(self.unit_from).get(unit, unit)
        if source == "facility":
            return None
        parent, _, col = source.rpartition(".")
        return (parent or self.table, col)

    @property
    def text(self) -> str:
        """The key without its table and basis, as `explain` lists it under its scan."""
        return self.key.split(": ", 1)[1]

    def columns(self) -> set[str]:
        """Columns of this table the measure names (derived and facility attributes included)."""
        out = {self.county_from} if self.county_from else set()
        for n in (self.value, self.where):
            if n is not None:
                out |= columns(n)
        return out

    def link_requests(self) -> list[tuple[str, Node | None]]:
        """The exists(child, condition) requests of this measure: (child table, condition)."""
        return [req for n in (self.value, self.where) if n is not None for req in links(n)]

    @property
    def on_stay_date(self) -> bool:
        return self.basis == STAY_DATE


@dataclass(frozen=True)
class ScanNode:
    """Every measure of one table, one period basis and one facility column, fused in one pass."""

    table: str
    basis: str
    measures: tuple[MeasureNode, ...]
    facility: str = "facility_id"


@dataclass(frozen=True)
class LinkRequest:
    """exists(child, cond) asked of `parent` rows: answered in the one read of the child table."""

    parent: str
    child: str
    cond: Node | None

    @property
    def memo(self) -> tuple:
        return (self.parent, self.child, to_text(self.cond) if self.cond is not None else "")

    @property
    def link(self):
        return LINKS[(self.parent, self.child)]


@dataclass(frozen=True)
class IndicatorNode:
    """ratio / proportion / rate / mean / count / attribute: measures → value."""

    id: str
    kind: str
    numerator: tuple[str, ...]      # measure keys, added up
    denominator: tuple[str, ...]    # empty for kinds without a denominator
    scale: float


@dataclass(frozen=True)
class GrowthNode:
    id: str
    base: str
    lag: str   # "yoy" | "pop"


@dataclass(frozen=True)
class UnitShareNode:
    id: str
    base: str
    where: Node | None
