"""The plan: one scan per (table, period basis) holding every measure that reads it.

Measures are deduplicated by their canonical text, so the discharge count that
twenty indicators divide by is computed once. The plan is plain data:
`explain()` prints it without touching any table.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..schemas.contract import DERIVED_COLUMNS, FACILITY_ATTRIBUTES, TABLES
from ..spec.checks import period_column
from ..spec.expr import Node, Op, columns, links, parse, to_text

PARENT_ID = {"discharges": "encounter_id", "visits": "visit_id"}
from ..spec.load import Catalog
from ..spec.model import IndicatorSpec, MeasureSpec


@dataclass(frozen=True)
class MeasureNode:
    """One partial aggregate (sum, count, count_distinct or max) per facility and period."""

    table: str
    basis: str
    agg: str
    value: Node | None
    where: Node | None
    facility: str = "facility_id"
    county_from: str | None = None

    @property
    def key(self) -> str:
        v = to_text(self.value) if self.value is not None else "*"
        w = f" where {to_text(self.where)}" if self.where is not None else ""
        by = "" if self.facility == TABLES[self.table].facility_column else f" by {self.facility}"
        county = f" by county of {self.county_from}" if self.county_from else ""
        return f"{self.table}[{self.basis}]: {self.agg}({v}){w}{by}{county}"

    def reads(self) -> set[str]:
        out = {self.county_from} if self.county_from else set()
        for n in (self.value, self.where):
            if n is not None:
                out |= columns(n)
                if links(n):
                    out.add(PARENT_ID[self.table])
        return out

    def child_reads(self) -> dict[str, set[str]]:
        """Columns of child tables that exists() conditions read."""
        out: dict[str, set[str]] = {}
        for n in (self.value, self.where):
            for child, cond in (links(n) if n is not None else []):
                out.setdefault(child, set()).update((columns(cond) if cond is not None else set()) | {"facility_id", "encounter_id"})
        return out


@dataclass(frozen=True)
class ScanNode:
    """One pass over one table: every measure of that table and period basis, fused."""

    table: str
    basis: str
    measures: tuple[MeasureNode, ...]
    facility: str = "facility_id"

    def reads(self) -> set[str]:
        """Columns of the table itself (facility attributes and derived columns resolved elsewhere)."""
        cols = {TABLES[self.table].facility_column, self.facility}
        if not self.basis.startswith("discharges."):
            cols.add(self.basis)
        for m in self.measures:
            cols |= m.reads()
        return {c for c in cols if c}


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


@dataclass
class Plan:
    scans: list[ScanNode]
    nodes: list[IndicatorNode | GrowthNode | UnitShareNode]   # bases before what builds on them
    requested: list[str]
    specs: dict[str, IndicatorSpec] = field(default_factory=dict)

    def table_columns(self) -> dict[str, set[str]]:
        """Input columns each table must supply (derived columns replaced by what they are made from)."""
        out: dict[str, set[str]] = {}
        for s in self.scans:
            cols = s.reads()
            attrs = (cols & set(FACILITY_ATTRIBUTES)) - set(TABLES[s.table].by_name)
            out.setdefault("facilities", set()).update(attrs)
            derived = cols & set(DERIVED_COLUMNS.get(s.table, {}))
            cols = (cols - derived - set(FACILITY_ATTRIBUTES)) | (set(TABLES[s.table].by_name) & cols)
            if derived:
                cols |= {"drug_code", "quantity", "setting"}
                out.setdefault("drug_dictionary", set()).update(c.name for c in TABLES["drug_dictionary"].columns)
            if s.basis.startswith("discharges."):
                cols.add("encounter_id")
                out.setdefault("discharges", set()).update({"facility_id", "encounter_id", "discharge_date"})
            if s.table == "discharges" and "los_days" in cols:
                cols |= {"admit_date", "discharge_date"}
            out.setdefault(s.table, set()).update(cols)
            for m in s.measures:
                for child, ccols in m.child_reads().items():
                    out.setdefault(child, set()).update(ccols)
        out.setdefault("facilities", set()).update(TABLES["facilities"].required)
        return out

    def explain(self) -> str:
        lines = [f"plan: {len(self.scans)} scan(s), {sum(len(s.measures) for s in self.scans)} measure(s), "
                 f"{len(self.nodes)} indicator node(s)"]
        for i, s in enumerate(self.scans, 1):
            unit = "facility" if s.facility == TABLES[s.table].facility_column else s.facility
            lines.append(f"scan {i}: {s.table} by {unit} × period of {s.basis}; reads {', '.join(sorted(s.reads()))}")
            for m in s.measures:
                lines.append(f"  - {m.key.split(': ', 1)[1]}")
        lines.append("indicators:")
        for n in self.nodes:
            mark = "" if n.id in self.requested else "  (helper)"
            if isinstance(n, IndicatorNode):
                text = lambda keys: " + ".join(k.split(": ", 1)[1] for k in keys)   # noqa: E731
                den = f" ÷ {text(n.denominator)}" if n.denominator else ""
                lines.append(f"  {n.id} [{n.kind}] = {text(n.numerator)}{den}"
                             + (f" × {n.scale:g}" if n.scale != 1 else "") + mark)
            elif isinstance(n, GrowthNode):
                lines.append(f"  {n.id} [growth {n.lag}] = ({n.base} − {n.base}[prior]) ÷ {n.base}[prior] × 100" + mark)
            else:
                w = f" where {to_text(n.where)}" if n.where is not None else ""
                lines.append(f"  {n.id} [unit_share] = units meeting the target of {n.base}{w} ÷ units judged × 100" + mark)
        return "\n".join(lines)


def _measure_nodes(m: MeasureSpec) -> list[MeasureNode]:
    """A measure → its partial aggregates. A mean is a sum and a count of non-null values."""
    where = parse(m.where) if m.where is not None else None
    basis = period_column(m)
    value = parse(m.value) if m.value is not None else None
    fac = m.facility or TABLES[m.table].facility_column
    if m.agg == "mean":
        nonnull = Op("notnull", (value,))
        cwhere = nonnull if where is None else Op("and", (where, nonnull))
        return [MeasureNode(m.table, basis, "sum", value, where, fac, m.county_from),
                MeasureNode(m.table, basis, "count", None, cwhere, fac, m.county_from)]
    return [MeasureNode(m.table, basis, m.agg, value, where, fac, m.county_from)]


def compile_plan(catalog: Catalog, ids: list[str]) -> Plan:
    """Compile the indicators `ids` (and whatever they build on) into one plan."""
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
    measures: dict[str, MeasureNode] = {}
    nodes: list = []
    for i in order:
        spec = catalog[i]
        if spec.kind == "growth":
            nodes.append(GrowthNode(i, spec.of, spec.compare))
            continue
        if spec.kind == "unit_share":
            nodes.append(UnitShareNode(i, spec.of, parse(spec.where) if spec.where else None))
            continue
        keys: dict[str, list[str]] = {}
        for path, m in spec.measures():
            ms = _measure_nodes(m)
            for mn in ms:
                measures.setdefault(mn.key, mn)
            keys.setdefault(path[0], []).append([mn.key for mn in ms])
        if spec.kind == "mean":
            num, den = (keys["measure"][0][0],), (keys["measure"][0][1],)
        elif spec.kind in ("count", "attribute"):
            num, den = (keys["measure"][0][0],), ()
        else:
            num, den = tuple(k[0] for k in keys["numerator"]), tuple(k[0] for k in keys["denominator"])
        nodes.append(IndicatorNode(i, spec.kind, num, den, spec.scale))
    scans: dict[tuple[str, str, str], list[MeasureNode]] = {}
    for mn in measures.values():
        scans.setdefault((mn.table, mn.basis, mn.facility), []).append(mn)
    plan_scans = [ScanNode(t, b, tuple(ms), f) for (t, b, f), ms in scans.items()]
    return Plan(plan_scans, nodes, list(ids), {i: catalog[i] for i in order})
