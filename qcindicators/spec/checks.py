"""Checks of one definition against the contract; each returns issues instead of raising."""
from __future__ import annotations

from ..schemas.contract import FACILITY_ATTRIBUTES, TABLES, table_columns
from ..errors import ExpressionError, did_you_mean
from .expr import LINKS, columns, links, parse
from .model import UNIT_COLUMNS, IndicatorSpec, MeasureSpec
from .types import TypeIssue, check_role, column_types, type_of

DEFAULT_PERIOD_FROM = {
    "discharges": "discharge_date", "drug_orders": "order_date", "visits": "visit_date",
    "procedures": "discharges.discharge_date", "referrals": "referral_date",
    "satisfaction_surveys": "survey_date", "facility_periods": "period",
}
# tables whose rows belong to a stay, so they may take the stay's discharge date as their period
STAY_CHILDREN = ("drug_orders", "procedures")

COUNTY_AGGS = ("count", "sum", "mean", "max")   # accumulated per county label; distinct counts are not
Issue = tuple[tuple, str]   # (key path inside the definition, message)


def period_column(m: MeasureSpec) -> str:
    return m.period_from or DEFAULT_PERIOD_FROM.get(m.table, "")


def check_expression(text, path: tuple, allowed: set[str], where: str, table: str | None = None) -> list[Issue]:
    try:
        node = parse(text)
    except ExpressionError as err:
        return [(path, str(err))]
    listing = (f" {table} 表的列 / columns of {table}: " + ", ".join(TABLES[table].by_name)) if table in TABLES else ""
    issues = [(path, f"未知列 / unknown column {c!r} in {where}." + did_you_mean(c, allowed) + listing)
              for c in sorted(columns(node) - allowed)]
    for child, cond in links(node):
        if (table, child) not in LINKS:
            ok = ", ".join(f"{c} from {p}" for p, c in sorted(LINKS))
            issues.append((path, f"exists({child}) 不能用于 {table} 表 / exists({child}) is not available on {table}; available: {ok}"))
        elif cond is not None:
            child_allowed = table_columns(child)
            issues += [(path, f"未知列 / unknown column {c!r} in exists({child}, …)." + did_you_mean(c, child_allowed))
                       for c in sorted(columns(cond) - child_allowed)]
    return issues


def check_types(text, path: tuple, table: str, extra: set[str], role: str) -> list[Issue]:
    """Type errors of an expression that parsed and names known columns (those issues are reported already);
    exists() conditions are checked against the child table."""
    try:
        node = parse(text)
    except ExpressionError:
        return []
    issues = []
    try:
        check_role(node, column_types(table, extra), role) if role in ("condition", "sum", "mean", "max") else \
            type_of(node, column_types(table, extra))
    except TypeIssue as err:
        issues.append((path, f"类型错误 / type error: {err}"))
    for child, cond in links(node):
        if cond is not None and child in TABLES:
            try:
                check_role(cond, column_types(child), "condition")
            except TypeIssue as err:
                issues.append((path, f"类型错误 / type error in exists({child}, …): {err}"))
    return issues


def check_measure(m: MeasureSpec, path: tuple, extra: set[str]) -> list[Issue]:
    if m.table not in TABLES:
        return [(path + ("table",), f"未知的表 / unknown table {m.table!r}." + did_you_mean(m.table, TABLES))]
    allowed = table_columns(m.table) | extra
    issues: list[Issue] = []
    if m.where is not None:
        issues += check_expression(m.where, path + ("where",), allowed, f"table {m.table}", m.table)
        issues += check_types(m.where, path + ("where",), m.table, extra, "condition")
    if m.value is not None:
        issues += check_expression(m.value, path + (m.agg,), allowed, f"table {m.table}", m.table)
        issues += check_types(m.value, path + (m.agg,), m.table, extra, m.agg)
    if m.county_from is not None and m.agg not in COUNTY_AGGS:
        issues.append((path + ("county_from",), f"county_from 只支持 {'/'.join(COUNTY_AGGS)} 聚合，不支持 {m.agg} / "
                       f"county_from works with {', '.join(COUNTY_AGGS)}, not {m.agg}"))
    if m.county_from is not None and m.county_from not in {c.name for c in TABLES[m.table].columns if c.name.endswith("county")}:
        issues.append((path + ("county_from",), f"county_from 应为该表的区县列 / must be a county column of {m.table}."
                       + did_you_mean(m.county_from, [c.name for c in TABLES[m.table].columns])))
    if m.facility is not None:
        ids = {c.name for c in TABLES[m.table].columns if c.name.endswith("facility_id")}
        if m.facility not in ids:
            issues.append((path + ("facility",), f"facility 应为该表的机构列 / must be a facility column of {m.table}: "
                           + ", ".join(sorted(ids)) + "." + did_you_mean(m.facility, ids)))
    issues += check_unit_from(m, path)
    basis = period_column(m)
    dates = {c.name for c in TABLES[m.table].columns if c.kind in ("date", "period")}
    if basis.startswith("discharges."):
        if m.table not in STAY_CHILDREN or basis != "discharges.discharge_date":
            issues.append((path + ("period_from",), "只有 drug_orders/procedures 可用 discharges.discharge_date / "
                           "only drug_orders and procedures may take discharges.discharge_date"))
    elif basis not in dates:
        issues.append((path + ("period_from",), f"period_from 应为该表的日期列 / must be a date column of {m.table}: "
                       + ", ".join(sorted(dates)) + "." + did_you_mean(basis, dates)))
    return issues


# tables whose rows may take a column of the stay or visit they belong to (through encounter_id)
UNIT_PARENTS = {"drug_orders": ("discharges", "visits"), "procedures": ("discharges",)}


def check_unit_from(m: MeasureSpec, path: tuple) -> list[Issue]:
    """Each unit_from source is a column of the row, of its stay or visit, or `facility`."""
    issues: list[Issue] = []
    for unit, source in (m.unit_from or {}).items():
        parent, _, col = source.rpartition(".")
        if source == "facility":
            continue
        if parent and parent not in UNIT_PARENTS.get(m.table, ()):
            issues.append((path + ("unit_from", unit), f"{m.table} 的行不能取 {parent} 的列 / rows of {m.table} cannot take "
                           f"a column of {parent}; allowed: " + (", ".join(UNIT_PARENTS.get(m.table, ())) or "none")))
        elif col not in table_columns(parent or m.table):
            issues.append((path + ("unit_from", unit), f"未知列 / unknown column {source!r} for unit {unit}."
                           + did_you_mean(col, table_columns(parent or m.table))))
    return issues


def check_definition(spec: IndicatorSpec, extra_columns: dict[str, list[str]] | None = None) -> list[Issue]:
    issues: list[Issue] = []
    for path, m in spec.measures():
        issues += check_measure(m, path, set((extra_columns or {}).get(m.table, [])))
    facility_cols = set(FACILITY_ATTRIBUTES) | {"facility_id"}
    unit_cols = facility_cols | set(UNIT_COLUMNS)       # a department target: `dept_code in ["ICU"]`, judged per unit
    for i, t in enumerate(spec.targets):
        if t.when is not None:
            issues += check_expression(t.when, ("targets", i, "when"), unit_cols,
                                       "a target condition (facility attributes, or a unit below the facility)")
    if spec.where is not None:
        issues += check_expression(spec.where, ("where",), facility_cols, "a unit condition (facility attributes only)")
    if spec.kind == "attribute" and spec.measure.table != "facility_periods":
        issues.append((("measure", "table"), "attribute 指标应读取 facility_periods / an attribute reads facility_periods"))
    return issues
