"""A plan as text: what a run will read, derive, link, check and compute, without touching data."""
from __future__ import annotations

from ..schemas.contract import TABLES
from ..spec.expr import to_text
from .nodes import GrowthNode, IndicatorNode
from .targets import targets_for


def explain_plan(plan) -> str:
    lines = [f"plan: {len(plan.scans)} scan(s), {len(plan.measures())} measure(s), {len(plan.nodes)} indicator node(s)"]
    lines.append("tables (one read each):")
    for t, r in plan.reads.items():
        text = f"  {t}: reads {'every column (all checked), needing ' if r.every_column else ''}{', '.join(sorted(r.needs))}"
        if r.optional:
            text += f"; if present {', '.join(sorted(r.optional))}"
        if r.derived:
            text += f"; derives {', '.join(r.derived)}"
        lines.append(text + f"; checks {', '.join(r.checks)}")
    for r in plan.links:
        settings = f" ({', '.join(r.link.settings)} rows)" if r.link.settings else ""
        cond = to_text(r.cond) if r.cond is not None else "any row"
        lines.append(f"link: {r.parent}.{r.link.parent_id} ← {r.child}.{r.link.child_id}{settings}: exists where {cond}")
    for i, s in enumerate(plan.scans, 1):
        unit = "facility" if s.facility == TABLES[s.table].facility_column else s.facility
        lines.append(f"scan {i}: {s.table} by {unit} × period of {s.basis}")
        lines += [f"  - {m.text}" for m in s.measures]
    for c in plan.conditions:
        lines.append(f"condition (on each facility, for targets): {c}")
    source = f"target set {plan.target_set.id}" if plan.target_set is not None else "the definitions' own"
    for i in plan.requested:
        for grain, region in (("facility", False), ("region", True)):
            for t in targets_for(plan.specs[i], plan.target_set, region) if i in plan.specs else ():
                if region and t in targets_for(plan.specs[i], plan.target_set, False):
                    continue
                when = f" when {t.when}" if t.when else ""
                lines.append(f"target ({source}, {grain}): {i} {t.value}{when}")
    lines.append("indicators:")
    measures = {m.key: m for m in plan.measures()}
    for n in plan.nodes:
        mark = "" if n.id in plan.requested else "  (helper)"
        if isinstance(n, IndicatorNode):
            den = f" ÷ {_sum(n.denominator, measures)}" if n.denominator else ""
            lines.append(f"  {n.id} [{n.kind}] = {_sum(n.numerator, measures)}{den}"
                         + (f" × {n.scale:g}" if n.scale != 1 else "") + mark)
        elif isinstance(n, GrowthNode):
            lines.append(f"  {n.id} [growth {n.lag}] = ({n.base} − {n.base}[prior]) ÷ {n.base}[prior] × 100" + mark)
        else:
            w = f" where {to_text(n.where)}" if n.where is not None else ""
            lines.append(f"  {n.id} [unit_share] = units meeting the target of {n.base}{w} ÷ units judged × 100" + mark)
    return "\n".join(lines)


def _sum(keys, measures) -> str:
    return " + ".join(measures[k].text for k in keys)
