"""Why a row a measure wanted could not be placed in a unit and period: codes with their ledger text."""
from __future__ import annotations

from enum import IntEnum


class Unplaced(IntEnum):
    PLACED = 0
    UNKNOWN_FACILITY = 1
    MISSING_PERIOD_DATE = 2
    NO_PARENT_DISCHARGE = 3
    PERIOD_TOO_COARSE = 4
    DATE_OUT_OF_RANGE = 5
    COUNTY_MISSING = 6
    SUPERSEDED_BY_ANNUAL = 7

    @property
    def check(self) -> str:
        return self.name.lower()

    @property
    def messages(self) -> tuple[str, str]:
        return MESSAGES[self]


MESSAGES = {
    Unplaced.UNKNOWN_FACILITY: ("机构不在机构表中，未使用", "facility not in the facilities table; not used"),
    Unplaced.MISSING_PERIOD_DATE: ("统计日期为空或无法解析，无法归入统计期", "date missing: the row cannot be placed in a period"),
    Unplaced.NO_PARENT_DISCHARGE: ("找不到所属出院记录（仍在院），按出院队列口径不计入",
                                   "no discharge for this stay (still in hospital): not counted on the discharge-cohort basis"),
    Unplaced.PERIOD_TOO_COARSE: ("年度填报数据不能拆分为月或季度，未使用",
                                 "annual rows cannot be split into months or quarters; ask for period='year'"),
    Unplaced.SUPERSEDED_BY_ANNUAL: ("同一机构同年已有年度填报数据，按年统计时使用年度数据，月度数据未再累加",
                                    "the facility also reported the whole year: at period='year' its annual row is "
                                    "used and these monthly rows are not added to it"),
    Unplaced.DATE_OUT_OF_RANGE: ("日期不在 1970–2100 年之间，未使用", "date outside 1970–2100; not used"),
    Unplaced.COUNTY_MISSING: ("区县为空，无法按区县归组", "county missing: the row cannot be placed in a county group"),
}
