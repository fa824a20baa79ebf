"""The plan: the one place that knows what a computation reads, derives, links, checks and computes.

Measures are deduplicated by their canonical text, so the discharge count that twenty indicators divide
by is computed once; measures of one table share one pass (`ScanNode`); exists() requests on a child
table are answered in the read of that table. The plan is plain data: `explain()` prints it, and
feasibility (`missing`), the engine and the checks read it without deciding anything of their own.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping

from ..schemas.contract import DERIVATIONS, TABLES
from ..spec.checks import period_column
from ..spec.expr import Op, parse
from ..spec.load import Catalog
from ..spec.model import IndicatorSpec, MeasureSpec
from .conditions import conditions_of
from .explain import explain_plan
from .nodes import GrowthNode, IndicatorNode, LinkRequest, MeasureNode, ScanNode, UnitShareNode
from .reads import Needs, TableRead, missing, needs_of, table_reads


@dataclass
class Plan:
    scans: list[ScanNode]
    nodes: list[IndicatorNode | GrowthNode | UnitShareNode]   # bases before what builds on them
    requested: list[str]
    specs: dict[str, IndicatorSpec] = field(default_factory=dict)
    reads: dict[str, TableRead] = field(default_factory=dict)
    links: tuple[LinkRequest, ...] = ()
    needs: dict[str, Needs] = field(default_factory=dict)      # per indicator, for feasibility
    units: tuple[str, ...] = ()     # columns below the facility the request groups by (dept_code, prescriber_id, …)
    conditions: tuple[str, ...] = ()   # facility conditions targets and unit shares are judged with
    target_set: object = None          # the request's target set (None: the definitions' own targets)

    @property
    def zero_based(self) -> set[str]:
        """Measures of count indicators: a (unit, period) with rows in the table but no event counts 0, not missing."""
        return {k for n in self.nodes if isinstance(n, IndicatorNode) and n.kind == "count" for k in n.numerator}

    def unit_support(self, headers: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
        """Per unit column, the measures that have a value per unit: their row (or its stay or visit) has the
        column, or the definition gives every unit its facility's total (a sum or count, not a distinct count)."""
        out = {}
        for unit in self.units:
            out[unit] = set()
            for m in self.measures():
                src = m.unit_source(unit)
                if m.county_from or (src is None and m.agg == "count_distinct"):
                    continue
                if src is None or src[1] in set(headers.get(src[0], ())) or src[1] in DERIVATIONS.get(src[0], {}):
                    out[unit].add(m.key)
        return out

    def missing(self, headers: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
        """Per requested indicator, what the tables (given by their headers) lack: empty when they can feed it."""
        return {i: missing(self.needs[i], headers) for i in self.requested}

    def measures(self) -> list[MeasureNode]:
        return [m for s in self.scans for m in s.measures]

    def scans_of(self, table: str) -> list[ScanNode]:
        return [s for s in self.scans if s.table == table]

    def links_from(self, child: str) -> list[LinkRequest]:
        return [r for r in self.links if r.child == child]

    def passes(self) -> list[str]:
        """Tables to read, one pass each, a child table before the parent whose exists() it answers."""
        tables = list(dict.fromkeys([s.table for s in self.scans] + [r.child for r in self.links]))
        children = {r.child for r in self.links}
        return sorted(tables, key=lambda t: (t not in children, list(TABLES).index(t)))

    def explain(self) -> str:
        return explain_plan(self)


def _measure_nodes(m: MeasureSpec, units: tuple[str, ...] = ()) -> list[MeasureNode]:
    """A measure → its partial aggregates. A mean is a sum and a count of non-null values.

    Where a row goes below the facility matters only for the units asked for: measures that differ only
    in other units' sources stay one measure.
    """
    where = parse(m.where) if m.where is not None else None
    basis = period_column(m)
    value = parse(m.value) if m.value is not None else None
    fac = m.facility or TABLES[m.table].facility_column
    units = tuple(sorted((u, src) for u, src in (m.unit_from or {}).items() if u in units))
    if m.agg == "mean":
        nonnull = Op("notnull", (value,))
        cwhere = nonnull if where is None else Op("and", (where, nonnull))
        return [MeasureNode(m.table, basis, "sum", value, where, fac, m.county_from, units),
                MeasureNode(m.table, basis, "count", None, cwhere, fac, m.county_from, units)]
    return [MeasureNode(m.table, basis, m.agg, value, where, fac, m.county_from, units)]


def _order(catalog: Catalog, ids: list[str]) -> list[str]:
    """The requested indicators and what they build on, bases first."""
    order: list[str] = []

    def visit(i: str) -> None:
        if i in order:
            return
        spec = catalog[i]
        if spec.of:
            visit(spec.of)
        order.append(i)

    for i in ids:
        visit(i)
    return order


def _indicator_node(spec: IndicatorSpec, measures: dict[str, MeasureNode], own: list[MeasureNode], units: tuple[str, ...]):
    if spec.kind == "growth":
        return GrowthNode(spec.id, spec.of, spec.compare)
    if spec.kind == "unit_share":
        return UnitShareNode(spec.id, spec.of, parse(spec.where) if spec.where else None)
    keys: dict[str, list[list[str]]] = {}
    for path, m in spec.measures():
        ms = _measure_nodes(m, units)
        for mn in ms:
            measures.setdefault(mn.key, mn)
        own.extend(ms)
        keys.setdefault(path[0], []).append([mn.key for mn in ms])
    if spec.kind == "mean":
        num, den = (keys["measure"][0][0],), (keys["measure"][0][1],)
    elif spec.kind in ("count", "attribute"):
        num, den = (keys["measure"][0][0],), ()
    else:
        num, den = tuple(k[0] for k in keys["numerator"]), tuple(k[0] for k in keys["denominator"])
    return IndicatorNode(spec.id, spec.kind, num, den, spec.scale)


def compile_plan(catalog: Catalog, ids: list[str], units: Iterable[str] = (), target_set=None) -> Plan:
    """Compile the indicators `ids` (and whatever they build on) into one plan; `units`: columns below
    the facility the request also groups by (each read where a table, or a row's stay, has it)."""
    order = _order(catalog, ids)
    units = tuple(dict.fromkeys(units))
    measures: dict[str, MeasureNode] = {}
    own: dict[str, list[MeasureNode]] = {}
    nodes = []
    for i in order:
        own[i] = []
        nodes.append(_indicator_node(catalog[i], measures, own[i], units))
        if catalog[i].of:
            own[i] += own[catalog[i].of]
    scans: dict[tuple[str, str, str], list[MeasureNode]] = {}
    for mn in measures.values():
        scans.setdefault((mn.table, mn.basis, mn.facility), []).append(mn)
    links = {LinkRequest(m.table, child, cond).memo: LinkRequest(m.table, child, cond)
             for m in measures.values() for child, cond in m.link_requests()}
    plan = Plan([ScanNode(t, b, tuple(ms), f) for (t, b, f), ms in scans.items()], nodes, list(ids),
                {i: catalog[i] for i in order}, table_reads(needs_of(measures.values(), units)), tuple(links.values()),
                {i: needs_of(own[i]) for i in order}, units,
                tuple(conditions_of([catalog[i] for i in order], target_set)), target_set)
    for t in plan.passes():
        plan.reads[t] = replace(plan.reads[t], every_column=True)
    return plan

