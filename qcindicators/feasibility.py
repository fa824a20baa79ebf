"""Can these tables feed this indicator? Answered from headers alone, before any data is read."""
from __future__ import annotations

from .contract import DERIVED_COLUMNS, FACILITY_ATTRIBUTES, TABLES
from .spec.checks import period_column
from .spec.expr import columns, parse
from .spec.load import Catalog


def missing_inputs(ident: str, catalog: Catalog, tables) -> list[str]:
    """Reasons the tables cannot feed `ident` (empty list: they can)."""
    spec = catalog[ident]
    if spec.of:
        return missing_inputs(spec.of, catalog, tables)
    reasons: list[str] = []
    if "facilities" not in tables:
        reasons.append("missing_table:facilities")
    for m in spec.measures().values():
        need = set()
        for text in (m.where, m.value):
            if text:
                need |= columns(parse(text))
        need -= set(FACILITY_ATTRIBUTES) - set(TABLES[m.table].by_name)
        derived = need & set(DERIVED_COLUMNS.get(m.table, {}))
        if derived:
            need = (need - derived) | {"drug_code", "quantity"}
            if "drug_dictionary" not in tables:
                reasons.append("missing_table:drug_dictionary")
        if m.table not in tables:
            reasons.append(f"missing_table:{m.table}")
            continue
        have = set(tables.columns(m.table))
        if "los_days" in need and m.table == "discharges" and "los_days" not in have:
            need = (need - {"los_days"}) | {"admit_date", "discharge_date"}
        basis = period_column(m)
        if basis.startswith("discharges."):
            need.add("encounter_id")
            if "discharges" not in tables:
                reasons.append("missing_table:discharges")
        else:
            need.add(basis)
        reasons += [f"missing_column:{m.table}.{c}" for c in sorted(need - have)]
    return sorted(set(reasons))
