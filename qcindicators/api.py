"""The public verbs: compute, explain, catalog."""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd

from . import __version__
from .result.combine import Combiner, concat_results
from .result.grouping import grouping_of
from .compile.plan import Plan, compile_plan
from .schemas.contract import TABLES
from .result.diagnostics import Diagnostics, Ledger
from .domain.reference import ddd_edition
from .engine.conditions import with_conditions
from .engine.drug_codes import empty_code_table
from .engine.pandas_engine import PandasEngine
from .engine.memory import run_allocator
from .engine.parallel import default_workers, run_partitioned
from .engine.table_checks import Where, whole_table_checks
from .errors import InputDataError, MissingColumnError, MissingTableError, QCIError, did_you_mean
from .compile.feasibility import missing_by_indicator
from .result.result import Result
from .schemas.checker import Gate, TableChecker, key_failures, required_column_failures
from .spec.load import Catalog, builtin_catalog, load_definitions
from .stats.intervals import INTERVAL_METHODS, z_of_level, interval_method
from .io.tables import Tables, read_tables
from .io.window import trim_to_window
from .validate import ValidationReport

PERIODS = ("month", "quarter", "year")


def catalog_of(definitions) -> Catalog:
    cat = builtin_catalog()
    if definitions is None:
        return cat
    user = definitions if isinstance(definitions, Catalog) else load_definitions(
        *([definitions] if isinstance(definitions, (str, Path)) else definitions))
    return cat.merged(user)


def catalog(definitions=None) -> pd.DataFrame:
    """The indicators known to qcindicators (plus `definitions`, a folder or Catalog of your own).

    Examples:
        >>> import qcindicators as qci
        >>> "antibacterial_use_density" in set(qci.catalog()["id"])
        True
    """
    cat = catalog_of(definitions)
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
        for i, reasons in missing_by_indicator(cat, ids, tables).items():
            if reasons:
                _raise_missing(i, reasons)
        return ids, pd.DataFrame(columns=["indicator", "reason"])
    reasons = missing_by_indicator(cat, [s.id for s in cat], tables)
    skipped = [{"indicator": i, "reason": ";".join(r)} for i, r in reasons.items() if r]
    return [i for i, r in reasons.items() if not r], pd.DataFrame(skipped, columns=["indicator", "reason"])


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


def explain(indicators: Sequence[str] | str, definitions=None, by=("facility_id",), targets=None) -> str:
    """The plan that `compute` would run, as text, without touching any data.

    `by` matters for units below the facility: `by=["facility_id", "dept_code"]` shows which column
    places each measure's rows in a department (a drug line: its stay's discharge department).

    Examples:
        >>> import qcindicators as qci
        >>> print(qci.explain("antibacterial_use_density").splitlines()[0])
        plan: 2 scan(s), 2 measure(s), 1 indicator node(s)
        >>> "units from dept_code=discharges.dept_code" in qci.explain("antibacterial_use_density", by=["facility_id", "dept_code"])
        True
    """
    cat = catalog_of(definitions)
    ids = [indicators] if isinstance(indicators, str) else list(indicators)
    units = _units_below_facility(groupings_of(by), [c.name for c in TABLES["facilities"].columns])
    target_set = cat.target_set(targets) if targets is not None else None
    return compile_plan(cat, [cat[i].id for i in ids], units, target_set).explain()


def compute(tables, indicators: Sequence[str] | str | None = None, by=("facility_id",),
            period: str | Sequence[str] = "month", targets: str | Path | None = None, definitions=None,
            on_invalid: str = "raise", quarantine_dir: str | Path | None = None, confidence: float = 0.95,
            workers: int | None = None, scheduler: str | None = None, withhold_small: bool = False) -> Result:
    """Compute indicators from input tables.

    Args:
        tables: a `Tables`, a directory, or a dict of DataFrames.
        indicators: ids; None computes every indicator the tables can feed.
        by: facilities columns to group by (facility_id, county, city, level, ...), or [] for the region;
            or several groupings at once, `[["facility_id"], ["county"], []]`, all from one read of each
            table (the result is their concatenation, `by` columns empty where a grouping lacks them).
        period: "month", "quarter" or "year"; or several, e.g. ["year", "month"], from the same read.
        targets: a shipped target-set name or a target-set YAML file; None uses the definitions' own targets.
        definitions: a folder, file(s) or Catalog of your own definitions, used alongside the built-ins.
        on_invalid: "raise" (default) stops on invalid input; "quarantine" sets bad rows aside and reports them.
        confidence: level of the intervals in ci_low/ci_high (Wilson for proportions, exact Poisson for rates).
        workers: processes over partitions of whole facilities (None: the machine's cores when the data is
            large enough to gain, else 1). Parquet whose row groups each hold one facility, or `write_partitioned`
            output; the numbers are the same as in one process.
        scheduler: "local" (a Dask LocalCluster of `workers` processes) or a Dask scheduler address
            ("tcp://host:8786"): the same per-partition work as Dask tasks (pip install "qcindicators[dask]").
        withhold_small: leave `met` empty where the denominator is small (flag small_denominator); by default
            达标 is judged on every value and the flag and interval say how much to trust it.

    Examples:
        >>> import qcindicators as qci
        >>> from qcindicators.synthetic import generate_tables, Size
        >>> r = qci.compute(generate_tables(Size(n_facilities=3)), ["ic_staff_per_250_beds"], period="year")
        >>> sorted(r.to_frame()["period"].unique())
        ['2023', '2024']
        >>> both = qci.compute(generate_tables(Size(n_facilities=3)), ["ic_staff_per_250_beds"],
        ...                    by=[["facility_id"], []], period="year")
        >>> int(both.to_frame()["facility_id"].isna().sum())    # the two region rows
        2
    """
    views = [View(p, tuple(g)) for p in periods_of(period) for g in groupings_of(by)]
    return compute_views(tables, views, indicators, targets, definitions, on_invalid, quarantine_dir, confidence,
                         workers, scheduler, withhold_small)


@dataclass(frozen=True)
class View:
    """One grouping at one period grain, of some indicators (None: every indicator computed)."""

    period: str
    by: tuple[str, ...] = ()
    indicators: tuple[str, ...] | None = None


def compute_views(tables, views: Sequence[View], indicators: Sequence[str] | str | None = None,
                  targets: str | Path | None = None, definitions=None, on_invalid: str = "raise",
                  quarantine_dir: str | Path | None = None, confidence: float = 0.95, workers: int | None = None,
                  scheduler: str | None = None, withhold_small: bool = False) -> Result:
    """`compute` of several views from one read of each table: a view is a grouping at a period grain for
    some of the indicators (a report judges every indicator by year and draws a few by month). The result
    is the concatenation of the views' rows; the arguments are those of `compute`.

    Examples:
        >>> import qcindicators as qci
        >>> from qcindicators.api import View, compute_views
        >>> from qcindicators.synthetic import generate_tables, Size
        >>> r = compute_views(generate_tables(Size(n_facilities=3)), [View("year", ("facility_id",)),
        ...                   View("month", (), ("ic_staff_per_250_beds",))], ["ic_staff_per_250_beds", "bed_occupancy_rate"])
        >>> f = r.to_frame()
        >>> sorted(f.loc[f["period"].str.len() == 7, "indicator"].unique())       # the monthly rows
        ['ic_staff_per_250_beds']
    """
    views = [View(v.period, (v.by,) if isinstance(v.by, str) else tuple(v.by),
                  None if v.indicators is None else tuple([v.indicators] if isinstance(v.indicators, str) else v.indicators))
             for v in views]
    groupings = [list(g) for g in dict.fromkeys(v.by for v in views)]
    periods = periods_of([v.period for v in views])
    z_of_level(confidence)
    tables = read_tables(tables)
    cat = catalog_of(definitions)
    target_set = cat.target_set(targets) if targets is not None else None
    if "facilities" not in tables:
        raise MissingTableError("缺少机构表 facilities（每个指标都需要它来分组与判定目标）/ the facilities table is required "
                                "(every indicator groups and judges targets by it)")
    units = _units_below_facility(groupings, tables.columns("facilities"))
    ids, skipped = _select(cat, tables, indicators)
    per_grouping, skipped = _county_grouping(cat, ids, skipped, groupings, explicit=indicators is not None)
    plan = compile_plan(cat, [i for i in ids if any(i in g for g in per_grouping)], units, target_set)
    gate = Gate("quarantine" if on_invalid == "quarantine" else "raise", quarantine_dir)
    facilities = _checked_facilities(tables, gate)
    ledger = Ledger()
    partials = _run(plan, tables, facilities, periods, ledger, gate, workers, scheduler, on_invalid)
    _raise_or_count_failures(gate, ledger, tables, on_invalid)
    wanted_in = dict(zip(map(tuple, groupings), per_grouping))
    frames = [combine_grouping(plan, partials, v.period, facilities, list(v.by),
                               [i for i in wanted_in[tuple(v.by)] if v.indicators is None or i in v.indicators],
                               target_set, confidence, withhold_small) for v in views]
    columns = list(dict.fromkeys(c for g in groupings for c in g))
    counts = {t: tables.n_rows(t) for t in plan.reads if t in tables}
    provenance = _provenance(plan, cat, tables, counts, target_set, groupings, periods, confidence)
    names = (facilities.set_index(facilities["facility_id"].astype(str))["facility_name"].astype(str)
             if "facility_name" in facilities else None)
    return Result(trim_to_window(concat_results(frames, columns), tables.window, columns), Diagnostics(ledger.frame()),
                  provenance, plan.explain(), skipped,
                  specs={i: plan.specs[i] for i in plan.requested}, by=columns, facility_names=names,
                  unmapped_drugs=ledger.companions.get("unmapped_drugs", empty_code_table()))


def _run(plan: Plan, tables: Tables, facilities: pd.DataFrame, periods: list[str], ledger: Ledger, gate: Gate,
         workers: int | None, scheduler: str | None, on_invalid: str) -> dict:
    """The partials: in this process, or over partitions of whole facilities in processes or on Dask."""
    with run_allocator():
        return _partials(plan, tables, facilities, periods, ledger, gate, workers, scheduler, on_invalid)


def _partials(plan: Plan, tables: Tables, facilities: pd.DataFrame, periods: list[str], ledger: Ledger, gate: Gate,
              workers: int | None, scheduler: str | None, on_invalid: str) -> dict:
    explicit = scheduler is not None or (workers or 1) > 1
    n = (workers or 2) if scheduler else (workers if workers is not None else default_workers(plan, tables))
    n = 1 if on_invalid == "quarantine" and not explicit else n
    if explicit and on_invalid == "quarantine":
        raise QCIError("隔离模式只在单进程中运行 / on_invalid='quarantine' runs in one process: drop workers/scheduler")
    if n > 1 or scheduler:
        whole_table_checks(plan, tables, facilities, gate, Where.SHARED)
        try:
            part = run_partitioned(plan, tables, facilities, periods, n, scheduler)   # each checks its own facilities
        except QCIError:
            if explicit:
                raise
        else:
            ledger.extend(part.ledger)
            ledger.companions.update(part.companions)
            gate.add(part.failures)
            return part.partials
        whole_table_checks(plan, tables, facilities, gate, Where.PARTITION)     # the layout cannot be split: here
    else:
        whole_table_checks(plan, tables, facilities, gate, Where.ALL)
    return PandasEngine().run(plan, tables, facilities, periods, ledger, gate)


def groupings_of(by) -> list[list[str]]:
    """`by` as a list of groupings: "county" → [["county"]]; ["a", "b"] → [["a", "b"]]; [["a"], []] as is."""
    if isinstance(by, str):
        return [[by]]
    by = list(by)
    if by and all(isinstance(g, (list, tuple)) for g in by):
        return [list(g) for g in by]
    if any(isinstance(g, (list, tuple)) for g in by):
        raise QCIError("by 应为列名列表，或多个分组（列表的列表）/ `by` is a list of columns, or a list of groupings "
                       f"(lists of columns), not a mix: {by!r}")
    return [by]


def periods_of(period) -> list[str]:
    """`period` as a list of grains, each checked."""
    periods = [period] if isinstance(period, str) else list(dict.fromkeys(period))
    if not periods:
        raise QCIError("period 不能为空 / period must name at least one of month, quarter, year")
    for p in periods:
        if p not in PERIODS:
            raise QCIError(f"period 应为 month、quarter 或 year / period must be one of {PERIODS}, got {p!r}."
                           + did_you_mean(str(p), PERIODS))
    return periods


UNIT_COLUMNS = ("dept_code", "prescriber_id", "doctor_id", "drug_code", "atc_code", "antibacterial_grade")


def _units_below_facility(groupings: list[list[str]], fac_cols: list[str]) -> list[str]:
    """Columns of the case tables a grouping names (dept_code, …): always inside a facility, one per grouping."""
    units = []
    for g in groupings:
        below = [c for c in g if c not in fac_cols]
        for col in below:
            if col not in UNIT_COLUMNS:
                raise QCIError(f"by 只能用机构表的列或科室/医师/药品列 / `by` takes facilities columns or a unit below the "
                               f"facility ({', '.join(UNIT_COLUMNS)}); {col!r} is neither."
                               + did_you_mean(col, list(fac_cols) + list(UNIT_COLUMNS)))
        if below and (len(below) > 1 or set(g) - set(below) != {"facility_id"}):
            raise QCIError(f"科室、医师、药品单位总在机构之内：by=['facility_id', {below[0]!r}] / units below the facility "
                           f"are always inside one: use by=['facility_id', {below[0]!r}] (one such column), not {g!r}")
        units += below
    return list(dict.fromkeys(units))


def combine_grouping(plan: Plan, partials: dict, period: str, facilities: pd.DataFrame, by: list[str], ids: list[str],
             target_set, confidence, withhold_small: bool = False) -> pd.DataFrame:
    unit = next((c for c in by if c in plan.units), None)
    part = partials[(period, unit)]
    if unit is not None:
        facilities = facilities.iloc[part.units["facility"].to_numpy()].reset_index(drop=True).assign(
            **{unit: part.units[unit].to_numpy(dtype=object)})
        ids, missing = _computable_below_facility(plan, part, ids, unit)
    county_labels = next((c.labels for c in part.county.values()), None)
    facilities = with_conditions(facilities, plan.conditions)
    combiner = Combiner(plan, part, facilities, grouping_of(facilities, by, county_labels), target_set, confidence,
                        withhold_small)
    combiner.run()
    frame = combiner.frame(ids)
    return pd.concat([frame, missing], ignore_index=True) if unit is not None and len(missing) else frame


def _computable_below_facility(plan: Plan, part, ids: list[str], unit: str) -> tuple[list[str], pd.DataFrame]:
    """Indicators whose every measure has a value per `unit`; the others as not_computable rows, not an error."""
    nodes = {n.id: n for n in plan.nodes}

    def keys(i):
        n = nodes[i]
        return keys(n.base) if hasattr(n, "base") and not hasattr(n, "where") else set(getattr(n, "numerator", ())) | set(getattr(n, "denominator", ()))

    ok = [i for i in ids if not hasattr(nodes[i], "where") and plan.specs[i].kind != "attribute" and not (keys(i) & part.unsupported)]
    rows = [{"indicator": i, "unit": plan.specs[i].unit, "flags": f"not_computable:grain:{unit}"} for i in ids if i not in ok]
    return ok, pd.DataFrame(rows, columns=["indicator", "unit", "flags"])


def _raise_or_count_failures(gate: Gate, ledger: Ledger, tables: Tables, on_invalid: str) -> None:
    failures = gate.failures()
    if len(failures) and on_invalid != "quarantine":
        summary = ValidationReport(failures, pd.DataFrame(columns=["table", "rule", "rows", "message_zh", "message_en"]),
                                   {}, tables).summary()
        raise InputDataError(f"输入数据未通过检查 / input data failed validation\n{summary}", failures)
    for table, n in gate.quarantined.items():
        ledger.add(table, "quarantined", n, "未通过检查的行已隔离，未使用", "rows that failed validation were set aside")


def uses_county_from(cat: Catalog, ident: str) -> bool:
    """Whether an indicator groups rows by their own county column (县域内就诊率): by county or region only."""
    spec = cat[ident]
    return uses_county_from(cat, spec.of) if spec.of else any(m.county_from for _, m in spec.measures())


def _county_grouping(cat: Catalog, ids: list[str], skipped: pd.DataFrame, groupings: list[list[str]], explicit: bool):
    """Per grouping, the indicators it can have: those grouped by a row's own county exist by county or for the region only."""
    bad = [i for i in ids if uses_county_from(cat, i)]
    per = [ids if g in ([], ["county"]) else [i for i in ids if i not in bad] for g in groupings]
    nowhere = [i for i in bad if not any(i in g for g in per)]
    if nowhere and explicit:
        raise QCIError(f"指标 {', '.join(nowhere)} 按患者常住区县统计，只能按区县（by=['county']）或全区域（by=[]）计算 / "
                       f"{', '.join(nowhere)} group rows by the patient's county: use by=['county'] or by=[]")
    extra = pd.DataFrame([{"indicator": i, "reason": "grouping:county_or_region_only"} for i in nowhere], columns=["indicator", "reason"])
    return per, pd.concat([skipped, extra], ignore_index=True) if nowhere else skipped


def _checked_facilities(tables: Tables, gate: Gate) -> pd.DataFrame:
    """The facilities table, checked whole before anything else: every other table is judged against it."""
    frame = tables.load("facilities")
    gate.add(required_column_failures(tables, "facilities"))
    gate.add(key_failures(tables, "facilities"))
    bad = gate.check(TableChecker("facilities", None, None), frame, 0, tables.read_failures("facilities"))
    return frame[~bad].reset_index(drop=True) if bad.any() else frame


def _provenance(plan: Plan, cat: Catalog, tables: Tables, row_counts, target_set, by, period, confidence) -> dict:
    return {
        "library": {"name": "qcindicators", "version": __version__, "engine": "pandas", "pandas": pd.__version__},
        "computed_at": _dt.datetime.now().isoformat(timespec="seconds"),
        "request": {"by": " | ".join(",".join(g) or "(region)" for g in by), "period": ",".join(period)},
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
        "window": tables.window.describe() if tables.window else "none",
    }
