"""Definition models. Frozen; an unknown key is an error, never ignored."""
from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Kind = Literal["ratio", "proportion", "rate", "mean", "count", "growth", "attribute", "unit_share"]
Direction = Literal["lower_is_better", "higher_is_better", "target_range", "monitor"]
Agg = Literal["sum", "count", "count_distinct", "mean", "max"]
# units below the facility that `by` may name (always inside a facility: by=["facility_id", "dept_code"])
UNIT_COLUMNS = ("dept_code", "prescriber_id", "doctor_id", "drug_code", "atc_code", "antibacterial_grade")
UNIT_SOURCE_RE = re.compile(r"^(facility|((discharges|visits)\.)?[a-z][a-z0-9_]*)$")
TARGET_RE = re.compile(r"^\s*(<=|>=|==|<|>)\s*(-?\d+(?:\.\d+)?)\s*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    zh: str
    en: str


class SourceSpec(_Strict):
    """The official document a definition follows (and, where sources differ, why this one)."""

    document: str
    indicator: str | None = None
    url: str | None = None
    note: str | None = None


class MeasureSpec(_Strict):
    """One aggregate over one table: exactly one of sum / count / count_distinct / mean / max."""

    table: str
    where: str | None = None
    sum: str | None = None
    count: bool | None = None
    count_distinct: str | None = None
    mean: str | None = None
    max: str | None = None
    period_from: str | None = Field(None, description="date column (or discharges.discharge_date for lines of a stay)")
    facility: str | None = Field(None, description="the column that assigns a row to a facility (default: the table's; "
                                                   "referrals: from_facility_id, or to_facility_id for referrals received)")
    county_from: str | None = Field(None, description="group by county using this column of the row (e.g. patient_county: "
                                                      "the patient's county of residence) instead of the facility's county")
    unit_from: dict[str, str] | None = Field(
        None, description="units below the facility: for each unit column of `by` (dept_code, prescriber_id, doctor_id, "
                          "drug_code, atc_code, antibacterial_grade), the column that places a row in it — a column of the row "
                          "(dept_code: the ordering department of a drug line), of its stay or visit (discharges.dept_code: "
                          "the discharge department), or `facility`: not split, every unit gets its facility's total. "
                          "Default: the row's own column of that name")

    @field_validator("unit_from")
    @classmethod
    def _units(cls, v):
        for unit, source in (v or {}).items():
            if unit not in UNIT_COLUMNS:
                raise ValueError(f"unit_from 的键应为 / unit_from keys are {', '.join(UNIT_COLUMNS)}; got {unit!r}")
            if not isinstance(source, str) or not UNIT_SOURCE_RE.match(source):
                raise ValueError(f"unit_from.{unit} 应为列名、discharges.列名、visits.列名或 facility / must be a column, "
                                 f"discharges.<column>, visits.<column> or facility; got {source!r}")
        return v

    @model_validator(mode="after")
    def _one_aggregate(self):
        given = [a for a in ("sum", "count", "count_distinct", "mean", "max") if getattr(self, a) not in (None, False)]
        if len(given) != 1:
            raise ValueError("每个度量只能有一种聚合 / a measure needs exactly one of sum, count, count_distinct, mean, max"
                             + (f" (got {', '.join(given)})" if given else ""))
        return self

    @property
    def agg(self) -> str:
        return next(a for a in ("sum", "count", "count_distinct", "mean", "max") if getattr(self, a) not in (None, False))

    @property
    def value(self) -> str | None:
        v = getattr(self, self.agg)
        return None if isinstance(v, bool) else v


class TargetSpec(_Strict):
    """A target: `value: "<= 40"`, optionally only `when` a facility condition holds."""

    value: str | None = Field(None, description='comparison and number, e.g. "<= 40"; omitted for direction-only targets')
    when: str | None = None
    note: str | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _check(cls, v):
        if v is None:
            return v
        if isinstance(v, (int, float)):
            v = f"== {v}"
        if not TARGET_RE.match(str(v)):
            raise ValueError(f'目标值应写成 "<= 40" 的形式 / target must look like "<= 40", got {v!r}')
        return str(v)

    @property
    def op(self) -> str:
        return TARGET_RE.match(self.value).group(1) if self.value else ""

    @property
    def number(self) -> float:
        return float(TARGET_RE.match(self.value).group(2)) if self.value else float("nan")


class IndicatorSpec(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = 1
    name: Text
    unit: str
    unit_zh: str | None = None
    direction: Direction
    kind: Kind
    source: SourceSpec
    description: Text | None = None
    theme: str | None = None
    numerator: MeasureSpec | list[MeasureSpec] | None = Field(None, description="a measure, or a list of measures added up")
    denominator: MeasureSpec | list[MeasureSpec] | None = Field(None, description="a measure, or a list of measures added up")
    measure: MeasureSpec | None = None
    multiplier: float | None = None
    of: str | None = Field(None, description="growth / unit_share: the indicator this one is built on")
    compare: Literal["yoy", "pop"] = "yoy"
    where: str | None = Field(None, description="unit_share: which facilities count (a facility condition)")
    variant_of: str | None = None
    min_denominator: float | None = Field(None, description="below it the row is flagged small_denominator and 达标 is not judged")
    interval: Literal["wilson", "poisson", "none"] | None = Field(
        None, description="confidence interval: default wilson for proportions, poisson (Garwood) for rates, none otherwise")
    plausible_max: float | None = Field(None, description="values above it are flagged implausible_value (a probable unit error)")
    extra_columns: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="columns beyond the contract that this definition reads, by table")
    targets: tuple[TargetSpec, ...] = ()

    @model_validator(mode="after")
    def _parts_match_kind(self):
        need = {
            "ratio": ("numerator", "denominator"), "proportion": ("numerator", "denominator"),
            "rate": ("numerator", "denominator"), "mean": ("measure",), "count": ("measure",),
            "attribute": ("measure",), "growth": ("of",), "unit_share": ("of",),
        }[self.kind]
        missing = [p for p in need if getattr(self, p) is None]
        if missing:
            raise ValueError(f"kind: {self.kind} 需要 / needs {', '.join(missing)}")
        extra = [p for p in ("numerator", "denominator", "measure", "of") if p not in need and getattr(self, p) is not None]
        if extra:
            raise ValueError(f"kind: {self.kind} 不使用 / does not use {', '.join(extra)}")
        if self.kind in ("mean", "count", "attribute") and isinstance(self.measure, list):
            raise ValueError("measure 只能是一个度量 / `measure` is one measure, not a list")
        if self.kind == "mean" and self.measure.agg != "mean":
            raise ValueError("kind: mean 的 measure 应使用 mean: <表达式> / a mean indicator's measure uses `mean: <expr>`")
        return self

    @property
    def scale(self) -> float:
        if self.multiplier is not None:
            return self.multiplier
        return 100.0 if self.kind in ("proportion", "growth", "unit_share") else 1.0

    def measures(self) -> list[tuple[tuple, MeasureSpec]]:
        """(path in the definition, measure) for every measure, lists flattened."""
        out = []
        for k in ("numerator", "denominator", "measure"):
            part = getattr(self, k)
            if isinstance(part, list):
                out += [((k, i), m) for i, m in enumerate(part)]
            elif part is not None:
                out.append(((k,), part))
        return out


class TargetSetEntry(_Strict):
    indicator: str
    value: str | None = None
    when: str | None = None
    grain: Literal["facility", "region"] = "facility"
    text: str | None = Field(None, description="the plan's own words")
    note: str | None = None

    _check = field_validator("value", mode="before")(TargetSpec._check.__func__)

    def as_target(self) -> TargetSpec:
        return TargetSpec(value=self.value, when=self.when, note=self.note)


class TargetSetSpec(_Strict):
    id: str
    name: Text
    source: SourceSpec
    targets: tuple[TargetSetEntry, ...]
