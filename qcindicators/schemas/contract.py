"""The canonical input tables (contract v1, TABLES.md) as data.

Pure Python, no pandas: the schemas, the readers, the definition loader and the
synthetic generator all read this one description, so they cannot drift apart.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["id", "str", "code", "int", "float", "date", "bool", "period"]

LOW_CARDINALITY = {"facility_id", "from_facility_id", "to_facility_id", "drug_code", "county", "city", "dept_code",
                   "patient_county", "pathway_id", "generic_name", "atc_code", "spec",
                   "prescriber_id", "doctor_id"}

BOOL_LABELS: dict[str, bool] = {
    "true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False,
    "是": True, "否": False, "y": True, "n": False, "yes": True, "no": False, "t": True, "f": False,
    "有": True, "无": False,
}


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    zh: str
    kind: Kind
    required: bool = False
    # canonical code -> accepted labels (Chinese and common variants); a code is its own label
    codes: dict[str, tuple[str, ...]] | None = None
    min: float | None = None
    max: float | None = None
    note: str = ""

    @property
    def categorical(self) -> bool:
        """Few distinct values: held as a categorical (dictionary-encoded), so lookups hash categories, not rows."""
        return self.kind == "code" or self.name in LOW_CARDINALITY

    def label_map(self) -> dict[str, str]:
        """label -> canonical code, including each code itself."""
        out: dict[str, str] = {}
        for code, labels in (self.codes or {}).items():
            out[code] = code
            for lab in labels:
                out[lab] = code
        return out


@dataclass(frozen=True)
class TableSpec:
    name: str
    zh: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...] = ()
    facility_column: str | None = "facility_id"

    @property
    def by_name(self) -> dict[str, ColumnSpec]:
        return {c.name: c for c in self.columns}

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


def C(name, zh, kind, required=False, codes=None, min=None, max=None, note=""):  # noqa: A002
    return ColumnSpec(name, zh, kind, required, codes, min, max, note)


LEVEL_CODES = {"0": ("基层", "未定级", "基层/未定级"), "1": ("一级",), "2": ("二级",), "3": ("三级",)}
GRADE_CODES = {"甲": ("甲等", "A"), "乙": ("乙等", "B"), "丙": ("丙等", "C")}
SETTING_CODES = {"inpatient": ("住院",), "outpatient": ("门诊",), "emergency": ("急诊",)}

FACILITIES = TableSpec("facilities", "机构", (
    C("facility_id", "机构代码", "id", True),
    C("facility_name", "机构名称", "str"),
    C("level", "医院级别", "int", True, codes=LEVEL_CODES, min=0, max=3),
    C("grade", "医院等次", "code", codes=GRADE_CODES),
    C("facility_type", "机构类别", "code", True, codes={
        "general": ("综合", "综合医院"), "tcm": ("中医", "中医医院", "中医院"),
        "specialty": ("专科", "专科医院"), "maternal_child": ("妇幼", "妇幼保健院"),
        "primary": ("基层", "乡镇卫生院", "社区卫生服务中心")}),
    C("ownership", "所有制", "code", True, codes={"public": ("公立",), "private": ("非公立", "民营", "社会办")}),
    C("county", "区县", "str"),
    C("city", "地市", "str"),
    # extension (not in contract v1): which kind of specialty hospital, for targets that differ by it
    C("specialty", "专科类别", "code", codes={
        "stomatology": ("口腔", "口腔医院"), "oncology": ("肿瘤", "肿瘤医院"), "pediatric": ("儿童", "儿童医院"),
        "psychiatric": ("精神", "精神病医院", "精神专科"), "obstetric": ("妇产", "妇产医院"), "other": ("其他",)}),
), key=("facility_id",))

FACILITY_PERIODS = TableSpec("facility_periods", "机构填报", (
    C("facility_id", "机构代码", "id", True),
    C("period", "统计期", "period", True),
    C("open_beds", "实际开放床位数", "float", min=0),
    C("approved_beds", "编制床位数", "float", min=0),
    C("ic_staff", "院感专职人员数", "float", min=0),
    C("physicians", "执业(助理)医师数", "float", min=0),
    C("registered_nurses", "注册护士数", "float", min=0),
    C("medical_revenue", "医疗收入", "float"),
    C("drug_revenue", "药品收入", "float"),
    C("service_revenue", "医疗服务收入", "float"),
    C("energy_cost", "能耗支出", "float"),
    C("emr_level", "电子病历应用水平分级", "int", min=0, max=8),
    C("total_revenue", "总收入", "float"),
    C("wards", "病房(区)数", "float", min=0),
    C("quality_nursing_wards", "优质护理服务示范病房数", "float", min=0),
    C("liability_insured", "参加医疗责任保险", "bool"),
    C("rational_drug_use_assessed", "已开展合理用药考核", "bool"),
    C("teleconsultations", "远程医疗服务人次", "float", min=0),
), key=("facility_id", "period"))

DISCHARGES = TableSpec("discharges", "住院病案首页", (
    C("encounter_id", "住院流水号", "id", True),
    C("facility_id", "机构代码", "id", True),
    C("patient_id", "患者ID", "id"),
    C("admit_date", "入院日期", "date", True),
    C("discharge_date", "出院日期", "date", True),
    C("los_days", "实际住院天数", "float", min=0),
    C("dept_code", "出院科室", "str"),
    C("discharge_disposition", "离院方式", "code", codes={
        "1": ("医嘱离院",), "2": ("医嘱转院",), "3": ("医嘱转社区/乡镇卫生院", "医嘱转社区"),
        "4": ("非医嘱离院",), "5": ("死亡",), "9": ("其他",)}),
    C("primary_dx", "主要诊断编码", "str"),
    C("age", "年龄", "float", min=0, max=150),
    C("sex", "性别", "code", codes={"1": ("男",), "2": ("女",), "9": ("未说明", "未知")}),
    C("total_cost", "住院总费用", "float", True, min=0),
    C("drug_cost", "药品费", "float", min=0),
    C("self_pay", "自付金额", "float", min=0),
    C("pathway_eligible", "符合临床路径入径标准", "bool"),
    C("pathway_entered", "进入临床路径", "bool"),
    C("pathway_completed", "完成临床路径", "bool"),
    C("pathway_id", "临床路径病种", "str"),
    C("record_grade", "病案质量等级", "code", codes=GRADE_CODES),
    C("patient_county", "患者常住区县", "str"),
    C("low_income", "低收入人口", "bool"),
    C("self_pay_in_policy", "政策范围内个人自付", "float", min=0),
    C("self_pay_out_policy", "政策范围外个人自付", "float", min=0),
), key=("facility_id", "encounter_id"))

PROCEDURES = TableSpec("procedures", "手术操作", (
    C("encounter_id", "住院流水号", "id", True),
    C("facility_id", "机构代码", "id", True),
    C("op_code", "手术操作编码", "str", True),
    C("op_date", "手术操作日期", "date", True),
    C("is_surgery", "是否手术", "bool", True),
    C("elective", "择期手术", "bool"),
    C("day_surgery", "日间手术", "bool"),
    C("op_level", "手术级别", "int", codes={"1": ("一级",), "2": ("二级",), "3": ("三级",), "4": ("四级",)}, min=1, max=4),
    C("incision_class", "切口类别", "code", codes={
        "0": ("0类",), "I": ("Ⅰ", "Ⅰ类", "I类"), "II": ("Ⅱ", "Ⅱ类", "II类"), "III": ("Ⅲ", "Ⅲ类", "III类")}),
    C("healing", "愈合等级", "code", codes={"甲": ("甲级",), "乙": ("乙级",), "丙": ("丙级",), "其他": ("其它",)}),
    C("minimally_invasive", "微创手术", "bool"),
    C("prophylactic_antibacterial", "预防使用抗菌药物", "bool"),
    C("ssi", "手术部位感染", "bool"),
    C("complication", "手术并发症", "bool"),
))

DRUG_ORDERS = TableSpec("drug_orders", "用药明细", (
    C("encounter_id", "就诊/住院流水号", "id", True),
    C("facility_id", "机构代码", "id", True),
    C("setting", "就诊类型", "code", True, codes=SETTING_CODES),
    C("order_date", "发药日期", "date", True),
    C("drug_code", "药品编码", "id", True),
    C("quantity", "数量", "float", True, note="negative = return (退药), netted"),
    C("amount", "金额", "float"),
    # v2 optional (TABLES.md): who ordered the line, for department and prescriber views
    C("dept_code", "开单科室", "str"),
    C("prescriber_id", "开单医师", "id", note="unique within facility"),
))

DRUG_DICTIONARY = TableSpec("drug_dictionary", "药品字典", (
    C("facility_id", "机构代码", "id"),
    C("drug_code", "药品编码", "id", True),
    C("generic_name", "通用名", "str", True),
    C("atc_code", "ATC编码", "str"),
    C("route", "给药途径", "code", codes={
        "oral": ("口服", "po", "PO"),
        "parenteral": ("注射", "静滴", "静脉滴注", "静注", "静脉注射", "肌注", "肌内注射", "皮下注射",
                       "iv", "IV", "im", "IM", "ivgtt"),
        "other": ("其他", "外用", "吸入", "直肠", "阴道", "滴眼")}),
    C("strength", "每单位含量", "float", min=0),
    C("strength_unit", "含量单位", "code", codes={
        "g": ("克",), "mg": ("毫克",), "μg": ("ug", "mcg", "微克", "µg"),
        "MU": ("百万单位", "百万U"), "万U": ("万单位", "万IU"), "U": ("单位", "IU")}),
    C("spec", "规格", "str"),
    # extension: what one unit of `quantity` is — the smallest unit (粒/片/支/瓶, default) or a pack (盒)
    C("dispensing_unit", "发药单位", "str"),
    C("antibacterial_class", "抗菌药物分级", "code", codes={
        "unrestricted": ("非限制使用级", "非限制级"), "restricted": ("限制使用级", "限制级"),
        "special": ("特殊使用级", "特殊级")}),
    C("essential_drug", "基本药物", "bool"),
    # extension (not in contract v1): a hospital's own DDD for drugs WHO gives none
    C("ddd", "DDD值", "float", min=0, note="overrides the reference DDD"),
    C("ddd_unit", "DDD单位", "code", codes={
        "g": ("克",), "mg": ("毫克",), "μg": ("ug", "mcg", "微克"), "MU": ("百万单位",),
        "万U": ("万单位",), "U": ("单位",), "UD": ("单位剂量",)}),
), key=("facility_id", "drug_code"))

VISITS = TableSpec("visits", "门急诊就诊", (
    C("visit_id", "就诊流水号", "id", True),
    C("facility_id", "机构代码", "id", True),
    C("patient_id", "患者ID", "id"),
    C("visit_date", "就诊日期", "date", True),
    C("setting", "就诊类型", "code", True, codes={"outpatient": ("门诊",), "emergency": ("急诊",)}),
    C("total_cost", "总费用", "float", True, min=0),
    C("drug_cost", "药品费", "float", min=0),
    C("self_pay", "自付金额", "float", min=0),
    C("appointment_channel", "预约方式", "code", codes={
        "online": ("线上", "网上", "互联网"), "onsite": ("现场", "窗口", "现场/窗口"), "none": ("未预约",)}),
    C("patient_county", "患者常住区县", "str"),
    # v2 optional (TABLES.md): where and by whom the patient was seen
    C("dept_code", "就诊科室", "str"),
    C("doctor_id", "接诊医师", "id", note="unique within facility"),
), key=("facility_id", "visit_id"))

REFERRALS = TableSpec("referrals", "转诊", (
    C("referral_id", "转诊单号", "id", True),
    C("from_facility_id", "转出机构", "id", True),
    C("to_facility_id", "转入机构", "id", True),
    C("referral_date", "转诊日期", "date", True),
    C("direction", "转诊方向", "code", codes={"up": ("上转",), "down": ("下转",)}),
), key=("referral_id",), facility_column="from_facility_id")

SATISFACTION_SURVEYS = TableSpec("satisfaction_surveys", "满意度调查", (
    C("facility_id", "机构代码", "id", True),
    C("survey_date", "调查日期", "date", True),
    C("respondent", "调查对象", "code", True, codes={
        "inpatient": ("住院患者", "住院"), "outpatient": ("门诊患者", "门诊"), "staff": ("医务人员",)}),
    C("satisfied", "总体满意", "bool"),
    C("score", "满意度得分", "float", min=0, max=100),
))

TABLES: dict[str, TableSpec] = {t.name: t for t in (
    FACILITIES, FACILITY_PERIODS, DISCHARGES, PROCEDURES, DRUG_ORDERS, DRUG_DICTIONARY,
    VISITS, REFERRALS, SATISFACTION_SURVEYS)}

@dataclass(frozen=True)
class Derivation:
    """A column the engine makes when a definition names it: what it is made from, and what else it needs."""

    table: str
    column: str
    inputs: tuple[str, ...]              # columns of the same table it is made from
    lookups: tuple[str, ...] = ()        # what it looks values up in: a whole table, or "table.column"
    records: tuple[str, ...] = ()        # optional columns its ledger records when the table has them
    given: bool = False                  # may also arrive as input: then derived only where it is missing
    doc: str = ""


_DRUG_INPUTS = dict(inputs=("drug_code", "quantity", "setting"), lookups=("drug_dictionary",), records=("order_date", "amount"))
DERIVATIONS: dict[str, dict[str, Derivation]] = {}
for _d in (
    Derivation("discharges", "los_days", ("admit_date", "discharge_date"), given=True,
               doc="实际住院天数: discharge_date − admit_date in days, a same-day stay counts 1"),
    Derivation("drug_orders", "ddd_count", **_DRUG_INPUTS, doc="DDDs on the line (quantity × strength ÷ DDD); NaN where no DDD is known"),
    Derivation("drug_orders", "is_antibacterial", **_DRUG_INPUTS, doc="drug in the Chinese 抗菌药物 scope (J01, J02, P01AB)"),
    Derivation("drug_orders", "antibacterial_grade", **_DRUG_INPUTS, doc="非限制/限制/特殊使用级 from the dictionary"),
    Derivation("drug_orders", "atc_code", **_DRUG_INPUTS, doc="resolved ATC code"),
    Derivation("referrals", "direction", ("from_facility_id", "to_facility_id"), lookups=("facilities.level",), given=True,
               doc="转诊方向: up to a higher level, down to a lower one"),
):
    DERIVATIONS.setdefault(_d.table, {})[_d.column] = _d
# Columns derived by enrichment, which definitions may use as if they were input (given ones are in TABLES too).
DERIVED_COLUMNS: dict[str, dict[str, str]] = {t: {c: d.doc for c, d in ds.items() if not d.given}
                                              for t, ds in DERIVATIONS.items()}


@dataclass(frozen=True)
class Link:
    """Child rows belong to a parent row of the same facility: an operation or an inpatient drug line to
    its stay, an outpatient drug line to its visit. `exists(child, …)` and a stay's discharge date as a
    child's period follow these; `required` links are checked whole (every operation has its stay)."""

    child: str
    parent: str
    child_id: str
    parent_id: str
    settings: tuple[str, ...] | None = None   # which child rows may belong to this parent (by `setting`)
    required: bool = False


LINKS: dict[tuple[str, str], Link] = {(k.parent, k.child): k for k in (
    Link("procedures", "discharges", "encounter_id", "encounter_id", required=True),
    Link("drug_orders", "discharges", "encounter_id", "encounter_id", settings=("inpatient",)),
    Link("drug_orders", "visits", "encounter_id", "visit_id", settings=("outpatient", "emergency")),
)}
# The parent row's date a child may take as its period: a stay's discharge date (discharge-cohort basis).
STAY_DATE = "discharges.discharge_date"

FACILITY_ATTRIBUTES = ("level", "grade", "facility_type", "ownership", "county", "city", "facility_name", "specialty")


def table_columns(table: str) -> set[str]:
    """Every column a definition may name for `table`: contract, derived, facility attributes."""
    cols = set(TABLES[table].by_name) | set(DERIVATIONS.get(table, {}))
    if TABLES[table].facility_column:
        cols |= set(FACILITY_ATTRIBUTES)
    return cols
