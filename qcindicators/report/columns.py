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
            "target": "目标值 Target", "when": "适用条件 Applies to", "grain": "层级 Grain", "text": "原文 Plan text",
            "units_met": "达标单位数 Units met", "units_judged": "判定单位数 Units judged",
            "region_period": "区域时期 Region period", "region_value": "区域值 Region value",
            "region_met": "区域达标 Region met", "status": "状态 Status",
            # diagnostics and not computable
            "table": "表 Table", "check": "检查 Check", "rows": "行数 Rows", "quantity": "数量 Quantity",
            "amount": "金额 Amount", "share": "占比 Share", "affects": "影响 Affects",
            "message_zh": "说明", "message_en": "Message", "reason": "原因 Reason",
            "key": "项目 Key"}
