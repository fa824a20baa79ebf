"""The unmapped-codes verb: every drug code the dictionary cannot count, without computing any indicator.

`compute` gives the same table as `result.unmapped_drugs` for the lines its plan reads; this reads
every drug line once, so a pharmacist can fix the dictionary before the month's figures are run.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .codes import codes_against
from .engine.columns import ScanContext
from .engine.drug_ledger import DrugLineLedger
from .engine.pandas_engine import BATCH_ROWS
from .errors import InputDataError, MissingTableError, QCIError
from .domain.ddd import audit as audit_canonical
from .io.coerce import canonicalise
from .io.tables import read_tables
from .result.diagnostics import Ledger
from .schemas.checker import Gate, TableChecker, required_column_failures
from .schemas.contract import TABLES

NEEDED = ("facilities", "drug_orders", "drug_dictionary")
LINE_COLUMNS = ("facility_id", "drug_code", "quantity", "order_date", "amount")


def unmapped_drugs(tables, period: str = "year", on_invalid: str = "raise", quarantine_dir=None,
                   facility: str | None = None, within: str | None = None) -> pd.DataFrame:
    """Drug codes not in the dictionary, and antibacterials without a DDD (and why), one row per code and reason.

    Lines, net quantity and amount, how many facilities and periods, sorted by the amount left uncounted.
    `facility` and `within` (a period label at `period`'s grain, e.g. "2024-06") narrow it to one hospital's month.

    Examples:
        >>> import pandas as pd, qcindicators as qci
        >>> t = {"facilities": pd.DataFrame({"facility_id": ["F1"], "level": [2], "facility_type": ["general"],
        ...                                  "ownership": ["public"]}),
        ...      "drug_dictionary": pd.DataFrame({"drug_code": ["D1"], "generic_name": ["阿莫西林胶囊"], "route": ["口服"]}),
        ...      "drug_orders": pd.DataFrame({"encounter_id": ["E1", "E2"], "facility_id": "F1", "setting": "inpatient",
        ...                                   "order_date": "2024-06-03", "drug_code": ["D1", "X9"], "quantity": [2.0, 3.0],
        ...                                   "amount": [8.0, 30.0]})}
        >>> qci.unmapped_drugs(t)[["drug_code", "reason", "lines", "amount"]].values.tolist()
        [['X9', 'not_in_dictionary', 1, 30.0], ['D1', 'no_strength', 1, 8.0]]
    """
    if period not in ("month", "quarter", "year"):
        raise QCIError(f"period 应为 month、quarter 或 year / period must be month, quarter or year, got {period!r}")
    tables = read_tables(tables)
    missing = [t for t in NEEDED if t not in tables]
    if missing:
        raise MissingTableError("缺少表 / missing table(s): " + ", ".join(f"{t}（{TABLES[t].zh}）" for t in missing))
    gate = Gate("quarantine" if on_invalid == "quarantine" else "raise", quarantine_dir)
    facilities, ledger = tables.load("facilities"), Ledger()
    ctx = ScanContext(tables, facilities, ledger, None, gate, BATCH_ROWS)
    ctx.drug_ledger = DrugLineLedger(facilities, period, ledger)
    gate.add(required_column_failures(tables, "drug_orders"))
    cols = [c for c in LINE_COLUMNS if c in tables.columns("drug_orders")]
    checker = TableChecker("drug_orders", set(cols), facilities)
    for offset, frame, read_failures in tables.batches("drug_orders", cols, BATCH_ROWS):
        bad = gate.check(checker, frame, offset, read_failures)
        lines = frame[~bad].reset_index(drop=True) if bad.any() else frame
        ctx.drug_attributes(lines, codes_against(lines["facility_id"], ctx.fac_index))
    resolved = ctx.drug_lookup().resolved
    ctx.finish()
    failures = gate.failures()
    if len(failures) and on_invalid != "quarantine":
        raise InputDataError(f"输入数据未通过检查 / input data failed validation: {len(failures)} failure(s); "
                             "run `qci validate` for the list", failures)
    if facility is None and within is None:
        return ledger.companions["unmapped_drugs"]
    return ctx.drug_ledger.codes.frame(resolved, facility, within)


def write_table(frame: pd.DataFrame, path: str | Path, sheet: str = "unmapped_drugs") -> Path:
    """.xlsx (one sheet) or .csv (UTF-8 with BOM, so Excel shows the Chinese)."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        frame.to_excel(path, sheet_name=sheet, index=False)
    elif path.suffix.lower() == ".csv":
        frame.to_csv(path, index=False, encoding="utf-8-sig")
    else:
        raise QCIError(f"不支持的输出格式 / unsupported output format {path.suffix!r}: use .xlsx or .csv")
    return path


def audit(dictionary: pd.DataFrame, everything: bool = False) -> pd.DataFrame:
    """A pharmacist's view of the mapping: per antibacterial-looking entry, what will be used and why.

    Examples:
        >>> import pandas as pd
        >>> from qcindicators.drugs import audit
        >>> a = audit(pd.DataFrame([{"drug_code": "1", "generic_name": "注射用头孢曲松钠", "route": "parenteral", "spec": "1g/支"}]))
        >>> a.loc[0, ["atc_code", "ddd", "ddd_per_unit"]].tolist()
        ['J01DD04', 2.0, 0.5]
    """
    return audit_canonical(canonicalise(dictionary, "drug_dictionary")[0], everything)    # raw labels (口服, 静滴) accepted
