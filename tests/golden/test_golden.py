"""Golden files: regenerate with QCI_REGEN_GOLDEN=1 and review the diff."""
import os
from pathlib import Path

import pytest

import qcindicators as qci
from qcindicators.spec.schema import definition_schema, shipped, target_set_schema

HERE = Path(__file__).parent
REGEN = os.environ.get("QCI_REGEN_GOLDEN") == "1"

PLANS = {
    "explain_antibacterial_use_density": ["antibacterial_use_density"],
    "explain_cost_growth_family": ["inpatient_cost_per_discharge_growth", "outpatient_cost_per_visit_growth",
                                   "inpatient_drug_cost_per_discharge_growth", "outpatient_drug_cost_per_visit_growth"],
    "explain_staffing": ["ic_staff_per_250_beds", "ic_staff_compliance_share"],
}


def check(name: str, text: str) -> None:
    path = HERE / f"{name}.txt"
    if REGEN or not path.exists():
        path.write_text(text + "\n", encoding="utf-8")
        if not REGEN:
            pytest.fail(f"golden file {path.name} was missing; written — review and commit it")
    assert text + "\n" == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(PLANS))
def test_explain_golden(name):
    check(name, qci.explain(PLANS[name]))


def test_cost_family_shares_one_pass_per_table():
    text = qci.explain(PLANS["explain_cost_growth_family"])
    assert text.startswith("plan: 2 scan(s), 8 measure(s)")


def test_shipped_json_schemas_are_current():
    assert shipped("definition.schema.json") == definition_schema()
    assert shipped("target_set.schema.json") == target_set_schema()


@pytest.mark.parametrize("plan", ["plan-2020-county", "plan-2021-city-lianyungang", "plan-2024-city", "plan-2024-county",
                                  "plan-2024-district", "plan-2026-medical-affairs", "plan-secondary-hospital-quality"])
def test_plan_check_golden(plan):
    """A plan's per-target summary on the committed sample; regenerate with QCI_REGEN_GOLDEN=1 and review."""
    sample = Path(__file__).resolve().parents[2] / "data" / "synthetic" / "sample"
    summary = qci.check(sample, plan).summary
    check(f"check_{plan}", summary.to_csv(index=False, float_format="%.6g").rstrip("\n"))


def test_explain_shows_targets_conditions_and_units():
    """What the plan will judge with, and which column places rows in a department, as text."""
    check("explain_targets_and_units", qci.explain(["antibacterial_use_density", "ic_staff_per_250_beds"],
                                                   by=["facility_id", "dept_code"], targets="plan-2024-district"))
