"""The checks the plan lists that need a whole table (keys, operations' stays), run where the rows are.

A key that includes the facility (a stay, a visit, a facility's report for a period) and an operation's stay
are questions about one facility's rows. In a run over partitions of whole facilities they are answered in
each partition, so no process ever holds a whole region's ids (the visits' keys of a province would not fit);
the checks that need the whole table whatever the layout (headers, a referral id unique across facilities,
the shared dictionary) run once, in the process that plans the run.
"""
from __future__ import annotations

from enum import Enum

import pandas as pd

from ..compile.plan import Plan
from ..errors import QCIError
from ..io.partitions import SHARED, as_pieces, plan_partitions
from ..schemas.checker import (Gate, key_failures, procedure_parent_failures, procedures_of_stays,
                               required_column_failures, row_failures)
from ..schemas.contract import TABLES
from ..schemas.failures import concat_failures


class Where(Enum):
    ALL = "all"              # one process: every check
    SHARED = "shared"        # the planning process of a partitioned run: checks that need the whole table
    PARTITION = "partition"  # one partition: the checks of its own facilities


def whole_table_checks(plan: Plan, tables, facilities: pd.DataFrame, gate: Gate, where: Where = Where.ALL) -> None:
    """The whole-table checks the plan lists for every table it reads (facilities are checked first, apart).

    The row checks of a table the engine streams run in that same pass, on every column (so the rows set
    aside never depend on what else was requested); a table read only for its keys (the stays that date
    drug lines) is checked whole here.
    """
    for table, read in plan.reads.items():
        if table == "facilities" or table not in tables:
            continue
        for check in read.checks:
            if not _runs_here(table, check, where):
                continue
            if check == "required_columns":
                gate.add(required_column_failures(tables, table))
            elif check == "unique_key":
                gate.add(_key_failures(tables, table))        # a duplicated stay would be counted twice
            elif check == "parent:discharges" and table == "procedures":
                gate.add(procedure_parent_failures(tables, facilities))
                if gate.on_invalid == "quarantine":          # the operations of a set-aside stay go with it: the
                    gate.add(row_failures(tables, "discharges", facilities), covers="discharges")   # stays, checked first
                    gate.add(procedures_of_stays(tables, facilities, gate.whole_rows("discharges")))
            else:
                raise QCIError(f"计划中的检查无法执行 / the plan asks for a check this engine does not know: {table} {check}")
        if table not in plan.passes() and table != "drug_dictionary" and _runs_here(table, "rows", where):
            gate.add(row_failures(tables, table, facilities), covers=table)


# a key that includes the facility is checked over this many rows at most at a time (shares of whole facilities)
KEY_CHECK_ROWS = 4_000_000


def _key_failures(tables, table: str) -> pd.DataFrame:
    """Duplicate keys; a large table whose key includes the facility, a share of whole facilities at a time,
    so the memory of the check does not grow with the region (row numbers stay those of `tables`)."""
    spec, rows = TABLES[table], tables.known_rows(table) or 0
    if spec.facility_column not in spec.key or rows <= KEY_CHECK_ROWS:
        return key_failures(tables, table)
    try:
        shares = plan_partitions(tables, [table], -(-rows // KEY_CHECK_ROWS))
    except QCIError:
        return key_failures(tables, table)
    outer, parts = as_pieces(tables.source(table)), []
    for share in shares:
        found = key_failures(tables.with_sources(share), table)
        if len(found):
            parts.append(found.assign(row=share[table].rows_in(outer, found["row"].to_numpy())))
    return concat_failures(parts)


def _runs_here(table: str, check: str, where: Where) -> bool:
    if where is Where.ALL:
        return True
    spec = TABLES[table]
    local = table not in SHARED and (check in ("rows", "parent:discharges")
                                     or (check == "unique_key" and spec.facility_column in spec.key))
    return local == (where is Where.PARTITION)
