"""Can these tables feed this indicator? Answered from headers alone, before any data is read."""
from __future__ import annotations

from ..schemas.contract import DERIVED_COLUMNS, DERIVED_FROM_DICTIONARY, FACILITY_ATTRIBUTES, TABLES
from ..spec.checks import period_column
from ..spec.expr import columns, links, parse
from ..spec.load import Catalog


def missing_inputs(ident: str, catalog: Catalog, tables) -> list[str]:
    """Reasons the tables cannot feed `ident` (empty list: they can)."""
    spec = catalog[ident]
    if spec.of:
        return missing_inputs(spec.of, catalog, tables)
    reasons: list[str] = []
    if "facilities" not in tables:
        reasons.append("missing_table:facilities")
    for _, m in spec.measures():
        need = set()
        for text in (m.where, m.value):
            if text:
                node = parse(text)
                need |= columns(node)
                for child, cond in links(node):
                    need.add({"discharges": "encounter_id", "visits": "visit_id"}[m.table])
                    reasons += _child_missing(child, cond, tables)
        need -= set(FACILITY_ATTRIBUTES) - set(TABLES[m.table].by_name)
        derived = need & set(DERIVED_COLUMNS.get(m.table, {}))
        if derived:
            need = (need - derived) | {"drug_code", "quantity"}
            if "drug_dictionary" not in tables:
                reasons.append("missing_table:drug_dictionary")
            else:
                reasons += [f"missing_column:drug_dictionary.{DERIVED_FROM_DICTIONARY[c]}" for c in sorted(derived)
                            if c in DERIVED_FROM_DICTIONARY and DERIVED_FROM_DICTIONARY[c] not in tables.columns("drug_dictionary")]
        if m.table not in tables:
            reasons.append(f"missing_table:{m.table}")
            continue
        have = set(tables.columns(m.table))
        if "los_days" in need and m.table == "discharges" and "los_days" not in have:
            need = (need - {"los_days"}) | {"admit_date", "discharge_date"}
        if m.county_from:
            need.add(m.county_from)
        basis = period_column(m)
        if basis.startswith("discharges."):
            need.add("encounter_id")
            if "discharges" not in tables:
                reasons.append("missing_table:discharges")
        else:
            need.add(basis)
        reasons += [f"missing_column:{m.table}.{c}" for c in sorted(need - have)]
    return sorted(set(reasons))


def _child_missing(child: str, cond, tables) -> list[str]:
    """What an exists(child, cond) needs that the tables lack."""
    if child not in tables:
        return [f"missing_table:{child}"]
    need = (columns(cond) if cond is not None else set()) | {"encounter_id"}
    need -= set(FACILITY_ATTRIBUTES) - set(TABLES[child].by_name)
    out = []
    if need & set(DERIVED_COLUMNS.get(child, {})):
        need = (need - set(DERIVED_COLUMNS[child])) | {"drug_code", "quantity"}
        if "drug_dictionary" not in tables:
            out.append("missing_table:drug_dictionary")
    return out + [f"missing_column:{child}.{c}" for c in sorted(need - set(tables.columns(child)))]
