"""The public verbs: compute, explain, catalog."""
from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from . import __version__
from .result.combine import Combiner
from .compile.plan import Plan, compile_plan
from .schemas.contract import TABLES
from .result.diagnostics import Diagnostics, Ledger
from .domain.reference import ddd_edition
from .engine.drug_codes import empty_code_table
from .engine.pandas_engine import PandasEngine
from .errors import InputDataError, MissingColumnError, MissingTableError, QCIError, did_you_mean
from .compile.feasibility import missing_inputs
from .result.result import Result
from .schemas.checker import Gate, TableChecker, key_failures, procedure_parent_failures, required_column_failures
from .spec.load import Catalog, builtin_catalog, load_definitions
from .stats.intervals import INTERVAL_METHODS, _z, interval_method
from .io.tables import Tables, read_tables

PERIODS = ("month", "quarter", "year")


def _catalog(definitions) -> Catalog:
    cat = builtin_catalog()
    if definitions is None:
        return cat
    user = definitions if isinstance(definitions, Catalog) else load_definitions(
        *([definitions] if isinstance(definitions, (str, Path)) else definitions))
    return cat.merged(user)


def catalog(definitions=None) -> pd.DataFrame:
    """The indicators known to qcindicators (plus `definitions`, a folder or Catalog of your own).

    Example:
        >>> import qcindicators as qci
        >>> "antibacterial_use_density" in set(qci.catalog()["id"])
        True
    """
    cat = _catalog(definitions)
    rows = [{"id": s.id, "name_zh": s.name.zh, "name_en": s.name.en, "unit": s.unit, "direction": s.direction,
             "kind": s.kind, "theme": s.theme, "source": s.source.document, "version": s.version,
             "file": Path(cat.origins.get(s.id, "")).name} for s in cat]
    return pd.DataFrame(rows).sort_values(["theme", "id"], na_position="last").reset_index(drop=True)


def _select(cat: Catalog, tables: Tables, indicators: Sequence[str] | None) -> tuple[list[str], pd.DataFrame]:
    """Requested ids (checked), or every indicator the tables can feed; and what cannot be computed."""
    if isinstance(indicators, str):
        indicators = [indicators]
    if indicators is not None:
        ids = [cat[i].id for i in indicators]   # unknown ids raise with a hint
        for i in ids:
            reasons = missing_inputs(i, cat, tables)
            if reasons:
                _raise_missing(i, reasons)
        return ids, pd.DataFrame(columns=["indicator", "reason"])
    ids, skipped = [], []
    for spec in cat:
        reasons = missing_inputs(spec.id, cat, tables)
        (skipped.append({"indicator": spec.id, "reason": ";".join(reasons)}) if reasons else ids.append(spec.id))
    return ids, pd.DataFrame(skipped, columns=["indicator", "reason"])


def _raise_missing(ident: str, reasons: list[str]) -> None:
    """Name everything missing at once: every table, then every column."""
    tables = [r.split(":", 1)[1] for r in reasons if r.startswith("missing_table:")]
    columns = [r.split(":", 1)[1] for r in reasons if r.startswith("missing_column:")]
    if tables:
        zh = "、".join(f"{t}（{TABLES[t].zh}）" for t in tables)
        raise MissingTableError(f"指标 {ident} 需要表 {zh}，但未提供 / indicator {ident!r} needs table(s) "
                                + ", ".join(repr(t) for t in tables) + ", which were not supplied")
    raise MissingColumnError(f"指标 {ident} 需要的列在数据中没有：{'、'.join(columns)} / indicator {ident!r} needs "
                             f"column(s) {', '.join(columns)}, which the data does not have")


def _groups(facilities: pd.DataFrame, by: Sequence[str]) -> tuple[np.ndarray, pd.DataFrame]:
    if not by:
        return np.zeros(len(facilities), np.int64), pd.DataFrame(index=[0])
    keys = facilities[list(by)]
    grouped = keys.groupby(list(by), dropna=False, sort=True, observed=True)
    return grouped.ngroup().to_numpy().astype(np.int64), grouped.size().reset_index()[list(by)]


def explain(indicators: Sequence[str] | str, definitions=None) -> str:
    """The plan that `compute` would run, as text, without touching any data.

    Example:
        >>> import qcindicators as qci
        >>> print(qci.explain("antibacterial_use_density").splitlines()[0])
        plan: 2 scan(s), 2 measure(s), 1 indicator node(s)
    """
    cat = _catalog(definitions)
    ids = [indicators] if isinstance(indicators, str) else list(indicators)
    return compile_plan(cat, [cat[i].id for i in ids]).explain()


def compute(tables, indicators: Sequence[str] | str | None = None, by: Sequence[str] | str = ("facility_id",),
            period: str = "month", targets: str | Path | None = None, definitions=None,
            on_invalid: str = "raise", quarantine_dir: str | Path | None = None, confidence: float = 0.95) -> Result:
    """Compute indicators from input tables.

    Args:
        tables: a `Tables`, a directory, or a dict of DataFrames.
        indicators: ids; None computes every indicator the tables can feed.
        by: facilities columns to group by (facility_id, county, city, level, ...), or [] for the region.
        period: "month", "quarter" or "year".
        targets: a shipped target-set name or a target-set YAML file; None uses the definitions' own targets.
        definitions: a folder, file(s) or Catalog of your own definitions, used alongside the built-ins.
        on_invalid: "raise" (default) stops on invalid input; "quarantine" sets bad rows aside and reports them.
        confidence: level of the intervals in ci_low/ci_high (Wilson for proportions, exact Poisson for rates).

    Example:
        >>> import qcindicators as qci
        >>> from qcindicators.synthetic import generate_tables, Size
        >>> r = qci.compute(generate_tables(Size(n_facilities=3)), ["ic_staff_per_250_beds"], period="year")
        >>> sorted(r.to_frame()["period"].unique())
        ['2023', '2024']
    """
    if period not in PERIODS:
        raise QCIError(f"period 应为 month、quarter 或 year / period must be one of {PERIODS}, got {period!r}." + did_you_mean(period, PERIODS))
    by = [by] if isinstance(by, str) else list(by)
    _z(confidence)
    tables = read_tables(tables)
    cat = _catalog(definitions)
    target_set = cat.target_set(targets) if targets is not None else None
    if "facilities" not in tables:
        raise MissingTableError("缺少机构表 facilities（每个指标都需要它来分组与判定目标）/ the facilities table is required "
                                "(every indicator groups and judges targets by it)")
    fac_cols = tables.columns("facilities")
    for col in by:
        if col not in fac_cols:
            raise QCIError(f"by 只能用机构表的列 / `by` takes facilities columns; {col!r} is not one." + did_you_mean(col, fac_cols))
    ids, skipped = _select(cat, tables, indicators)
    ids, skipped = _county_grouping(cat, ids, skipped, by, explicit=indicators is not None)
    plan = compile_plan(cat, ids)
    gate = Gate("quarantine" if on_invalid == "quarantine" else "raise", quarantine_dir)
    facilities = _checked_facilities(tables, gate)
    _whole_table_checks(plan, tables, facilities, gate)
    county_groups = _county_groups(plan, tables, facilities) if by == ["county"] else None
    if county_groups is not None:
        group_of_fac = county_groups.get_indexer(facilities["county"].astype(object))
        groups = pd.DataFrame({"county": county_groups.to_numpy(dtype=object)})
    else:
        group_of_fac, groups = _groups(facilities, by)
    ledger = Ledger()
    partials = PandasEngine().run(plan, tables, facilities, group_of_fac, len(groups), period, ledger, gate, county_groups)
    failures = gate.failures()
    if len(failures) and on_invalid != "quarantine":
        from .validate import ValidationReport
        summary = ValidationReport(failures, pd.DataFrame(columns=["table", "rule", "rows", "message_zh", "message_en"]),
                                   {}, tables).summary()
        raise InputDataError(f"输入数据未通过检查 / input data failed validation\n{summary}", failures)
    for table, n in gate.quarantined.items():
        ledger.add(table, "quarantined", n, "未通过检查的行已隔离，未使用", "rows that failed validation were set aside")
    combiner = Combiner(plan, partials, facilities, group_of_fac, groups, "facility_id" in by, target_set, confidence)
    combiner.run()
    counts = {t: tables.n_rows(t) for t in sorted({s.table for s in plan.scans} | {"facilities"}) if t in tables}
    provenance = _provenance(plan, cat, tables, counts, target_set, by, period, confidence)
    names = (facilities.set_index(facilities["facility_id"].astype(str))["facility_name"].astype(str)
             if "facility_name" in facilities else None)
    return Result(combiner.frame(), Diagnostics(ledger.frame()), provenance, plan.explain(), skipped,
                  specs={i: plan.specs[i] for i in plan.requested}, by=by, facility_names=names,
                  unmapped_drugs=ledger.companions.get("unmapped_drugs", empty_code_table()))


def _uses_county_from(cat: Catalog, ident: str) -> bool:
    spec = cat[ident]
    return _uses_county_from(cat, spec.of) if spec.of else any(m.county_from for _, m in spec.measures())


def _county_grouping(cat: Catalog, ids: list[str], skipped: pd.DataFrame, by: list[str], explicit: bool):
    """Indicators grouped by a row's own county (县域内就诊率) exist by county or for the region only."""
    if by in ([], ["county"]):
        return ids, skipped
    bad = [i for i in ids if _uses_county_from(cat, i)]
    if bad and explicit:
        raise QCIError(f"指标 {', '.join(bad)} 按患者常住区县统计，只能按区县（by=['county']）或全区域（by=[]）计算 / "
                       f"{', '.join(bad)} group rows by the patient's county: use by=['county'] or by=[]")
    extra = pd.DataFrame([{"indicator": i, "reason": "grouping:county_or_region_only"} for i in bad], columns=["indicator", "reason"])
    return [i for i in ids if i not in bad], pd.concat([skipped, extra], ignore_index=True) if bad else skipped


def _county_groups(plan: Plan, tables: Tables, facilities: pd.DataFrame) -> pd.Index | None:
    """Counties of the facilities plus every county the rows name (residents from outside form their own groups)."""
    cols = {(m.table, m.county_from) for s in plan.scans for m in s.measures if m.county_from}
    if not cols:
        return None
    labels = set(facilities["county"].dropna().astype(str))
    for table, col in cols:
        values = tables.load(table, [col])[col]
        labels |= set(values.cat.categories.astype(str) if isinstance(values.dtype, pd.CategoricalDtype) else values.dropna().astype(str))
    ordered = sorted(labels) + ([np.nan] if facilities["county"].isna().any() else [])
    return pd.Index(ordered, dtype=object)


def _checked_facilities(tables: Tables, gate: Gate) -> pd.DataFrame:
    """The facilities table, checked whole before anything else: every other table is judged against it."""
    frame = tables.load("facilities")
    gate.add(required_column_failures(tables, "facilities"))
    gate.add(key_failures(tables, "facilities"))
    bad = gate.check(TableChecker("facilities", None, None), frame, 0, tables.read_failures("facilities"))
    return frame[~bad].reset_index(drop=True) if bad.any() else frame


def _whole_table_checks(plan: Plan, tables: Tables, facilities: pd.DataFrame, gate: Gate) -> None:
    """Checks that need a whole table, only where the plan reads the columns they are about."""
    reads = plan.table_columns()
    for table in {s.table for s in plan.scans}:
        gate.add(required_column_failures(tables, table))
        if TABLES[table].key and set(TABLES[table].key) <= reads.get(table, set()) and table != "discharges":
            gate.add(key_failures(tables, table))
    if "encounter_id" in reads.get("procedures", set()):
        gate.add(procedure_parent_failures(tables, facilities))


def _provenance(plan: Plan, cat: Catalog, tables: Tables, row_counts, target_set, by, period, confidence) -> dict:
    return {
        "library": {"name": "qcindicators", "version": __version__, "engine": "pandas", "pandas": pd.__version__},
        "computed_at": _dt.datetime.now().isoformat(timespec="seconds"),
        "request": {"by": ",".join(by) or "(region)", "period": period},
        "definitions": {i: f"v{s.version} · {s.source.document}" + (f" · {s.source.indicator}" if s.source.indicator else "")
                        for i, s in plan.specs.items()},
        "reference_tables": {"ddd": ddd_edition()},
        "intervals": {"level": confidence,
                      "methods": {i: INTERVAL_METHODS[interval_method(s)] for i, s in plan.specs.items()
                                  if i in plan.requested and s.kind not in ("growth", "unit_share")
                                  and interval_method(s) != "none"}},
        "target_set": (f"{target_set.id} · {target_set.source.document}" if target_set else "definitions' own targets"),
        "input_rows": dict(row_counts),
        "inputs": {n: (i["path"] or "DataFrame") + (f" ({i['encoding']})" if i["encoding"] else "")
                   for n, i in tables.source_info().items()},
    }
