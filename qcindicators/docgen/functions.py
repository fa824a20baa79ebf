"""What each function of the expression grammar does, with an example: the language page's source.

Kept beside the grammar's whitelist (spec/expr.py: FUNCTIONS); a test fails when a function has no
entry here, and every example is parsed and, on its sample rows, evaluated by the engine.
"""
from __future__ import annotations

# name -> (中文, English, example expression, sample rows the example is evaluated on, or None)
FUNCTION_DOCS: dict[str, tuple[str, str, str, dict | None]] = {
    "isnull": ("值缺失", "the value is missing", "isnull(patient_county)", {"patient_county": ["320703", None]}),
    "notnull": ("值不缺失", "the value is present", "notnull(primary_dx)", {"primary_dx": ["J18.9", None]}),
    "startswith": ("以某前缀（或前缀列表之一）开头", "starts with a prefix, or with one of a list of prefixes",
                   'startswith(primary_dx, ["O", "Z37"])', {"primary_dx": ["O80", "Z37.0", "J18.9"]}),
    "between": ("在闭区间内（含两端）", "within a closed range (both ends included)", "between(age, 0, 14)",
                {"age": [3, 14, 15]}),
    "year": ("日期的年份", "the year of a date", "year(discharge_date)", {"discharge_date": ["2024-03-05"]}),
    "quarter": ("日期的季度（1–4）", "the quarter of a date (1–4)", "quarter(discharge_date)",
                {"discharge_date": ["2024-03-05", "2024-11-30"]}),
    "month": ("日期的月份（1–12）", "the month of a date (1–12)", "month(discharge_date)", {"discharge_date": ["2024-03-05"]}),
    "day": ("日期的日（1–31）", "the day of the month", "day(discharge_date)", {"discharge_date": ["2024-03-05"]}),
    "coalesce": ("第一个不缺失的值", "the first value that is not missing", "coalesce(self_pay, 0)",
                 {"self_pay": [120.5, None]}),
    "abs": ("绝对值", "absolute value", "abs(los_days - 7)", {"los_days": [3, 10]}),
    "ceil": ("向上取整", "rounded up", "ceil(los_days / 7)", {"los_days": [3, 8]}),
    "floor": ("向下取整", "rounded down", "floor(age / 10)", {"age": [37, 80]}),
    "greatest": ("多个值中的最大值", "the largest of the values", "greatest(los_days, 1)", {"los_days": [0, 5]}),
    "least": ("多个值中的最小值", "the smallest of the values", "least(los_days, 30)", {"los_days": [12, 45]}),
    "if_else": ("条件为真取第二个值，否则取第三个（数值）", "the second value where the condition holds, else the third (numbers)",
                "if_else(los_days > 30, 30, los_days)", {"los_days": [12, 45]}),
    "exists": ("（住院或门诊）记录下至少有一条满足条件的子表行；用于按患者/就诊计数，如“使用抗菌药物的出院患者”",
               "the stay or visit has at least one row of the child table meeting the condition; counts people or "
               "visits, e.g. discharged patients who received an antibacterial",
               "exists(drug_orders, is_antibacterial and quantity > 0)", None),
}

# What a key means where the definition model gives no description (the model's own description wins).
KEY_DOCS: dict[str, str] = {
    "id": "lower_snake_case identifier; the file is named `<id>.yaml` / 指标代码",
    "version": "the definition's version, recorded in provenance / 定义版本",
    "name": "`{zh: …, en: …}` / 指标名称（中英文）",
    "unit": "unit of the value, e.g. `%`, `DDDs/100 patient-days`, `yuan` / 单位",
    "unit_zh": "the unit in Chinese / 中文单位",
    "direction": "which way is better; `monitor`: neither / 方向",
    "kind": "how the value is made from the measures; see [Definitions](../definitions.md) / 指标类型",
    "source": "the official document and clause it follows / 出处",
    "description": "`{zh: …, en: …}` free text / 说明",
    "theme": "group in the catalog and the report: antibacterial, cost, staffing, stays, access, reports / 主题",
    "measure": "the one measure of mean, count and attribute indicators / 度量",
    "multiplier": "value = numerator ÷ denominator × multiplier (proportion: 100) / 乘数",
    "compare": "growth: `yoy` same period last year (同比) or `pop` previous period (环比)",
    "variant_of": "another indicator this one is an alternative 口径 of / 同一指标的另一口径",
    "targets": "the indicator's own targets; the first whose `when` holds applies / 目标值",
    "table": "the input table the measure reads / 表",
    "where": "filter: rows where this expression is true / 筛选条件",
    "sum": "sum of an expression / 求和",
    "count": "`true`: count the rows / 计数",
    "count_distinct": "count distinct values of an expression (e.g. patient_id) / 去重计数",
    "mean": "mean of an expression / 均值",
    "max": "largest value of an expression / 最大值",
    "document": "the document's title / 文件名",
    "indicator": "the indicator's name or clause in that document / 文件中的指标或条款",
    "url": "where to read it / 链接",
    "note": "free text, e.g. which wording it follows where sources differ / 备注",
    "when": "a facility condition (level, grade, facility_type …) / 适用条件",
    "zh": "中文", "en": "English",
}
