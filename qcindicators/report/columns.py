"""The report's columns and their Chinese/English headers (one place for the workbook and the HTML)."""
from __future__ import annotations

ROW_COLUMNS = ["name_zh", "indicator", "facility_name", "facility_id", "period", "numerator", "denominator", "value",
               "ci_low", "ci_high", "unit", "target_text", "met", "flags"]


def headers(level: float) -> dict[str, str]:
    pct = f"{level * 100:g}%"
    return {"name_zh": "指标 Indicator", "indicator": "指标代码 Id", "facility_name": "机构 Unit",
            "facility_id": "机构代码 Unit id", "period": "时期 Period", "numerator": "分子 Numerator",
            "denominator": "分母 Denominator", "value": "值 Value", "ci_low": f"{pct} CI 下限 low",
            "ci_high": f"{pct} CI 上限 high", "unit": "单位 Unit of measure", "target_text": "目标值 Target",
            "met": "达标 Met", "flags": "标记 Flags",
            # plan sheet
            "target": "目标值 Target", "when": "适用条件 Applies to", "grain": "层级 Grain", "criterion": "每机构条件 Criterion",
            "text": "原文 Plan text",
            "units_met": "达标（医院×时期）Met (hospital × period)",
            "units_judged": "判定（医院×时期）Judged (hospital × period)",
            "hospitals_met": "达标医院数 Hospitals met", "hospitals_judged": "判定医院数 Hospitals judged",
            "region_period": "区域时期 Region period", "region_value": "区域值 Region value",
            "region_met": "区域达标 Region met", "status": "状态 Status",
            # diagnostics and not computable
            "table": "表 Table", "check": "检查 Check", "rows": "行数 Rows", "quantity": "数量 Quantity",
            "amount": "金额 Amount", "share": "占比 Share", "affects": "影响 Affects",
            "message_zh": "说明", "message_en": "Message", "reason": "原因 Reason",
            "key": "项目 Key"}


def legend(level: float) -> list[tuple[str, str]]:
    """How to read the report, for a reader who has not seen it before: (中文, English)."""
    pct = f"{level * 100:g}%"
    return [
        ("达标：值与目标值比较的结果，写作 达标 / 未达标 / 不判定（有目标但无值或分母过小）；无目标时留空。"
         "记分卡中 ✓ ✗ – 与颜色同义（黑白打印可读），↑ ↓ → 为与上年同期相比的变化（→：相差不足 0.5%）。",
         "Met: the value against its target, written 达标 (met) / 未达标 (not met) / 不判定 (not judged: a target, but no "
         "value or too small a denominator); blank without a target. In the scorecard ✓ ✗ – repeat the colours (for grey "
         "print) and ↑ ↓ → give the change against the same period last year (→: within 0.5 %)."),
        (f"{pct} 置信区间：比例用 Wilson 区间，率（如抗菌药物使用强度）用精确 Poisson 区间；区间越宽，数越不稳定。",
         f"{pct} interval: Wilson for proportions, exact Poisson for rates (e.g. DDDs/100 patient-days); a wide interval is an unstable number."),
        ("标记 small_denominator：分母低于指标规定的最小值，不判定达标；zero_denominator：分母为 0；"
         "no_prior_period：增幅缺少对比期；members_changed：分组增幅的两期成员机构不同；partial_period：数据只覆盖统计期的一部分；null_values：部分应计行的值为空，未计入；"
         "implausible_value：数值超出合理范围，可能是单位错误。",
         "Flags: small_denominator — below the indicator's minimum, not judged; zero_denominator; no_prior_period — "
         "a growth with no comparison period; members_changed — a group's growth over different facilities in the two "
         "periods; partial_period — the data covers part of the period only; null_values — some values were empty, not counted; implausible_value — beyond the plausible range, probably a unit error."),
        ("漏斗图：每个点是一家机构，横轴为分母；曲线是 95%（虚线）与 99.8%（实线）控制限。落在曲线外的机构"
         "与总体水平的差异不能用随机波动解释，并标出名称。",
         "Funnel plot: one point per facility, denominator on the x-axis; curves are the 95 % (dashed) and 99.8 % (solid) "
         "limits. Facilities outside them differ from the overall value by more than chance, and are named."),
        ("控制图：全区域逐月数值、中心线与控制限（Laney p′/u′）；红点为超出控制限或连续 8 点位于中心线同侧。",
         "Control chart: the region month by month with centre line and limits (Laney p′/u′); red points are outside "
         "the limits or part of a run of 8 on one side of the centre line."),
        ("无法计算：数据缺少所需的表或列的指标及原因；诊断：未被使用的数据行及原因。",
         "Not computable: indicators the data cannot feed, and why; Diagnostics: rows that were not used, and why."),
    ]
