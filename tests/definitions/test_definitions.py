"""Bad definitions: each file is paired with the line and message it must produce."""
from pathlib import Path

import pytest
import yaml

import qcindicators as qci
from qcindicators.errors import DefinitionError

HERE = Path(__file__).parent
EXPECTED = yaml.safe_load((HERE / "expected.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_definition_reports_file_line_and_reason(name):
    line, words = EXPECTED[name]
    path = HERE / "bad" / name
    if name == "growth_of_unknown.yaml":      # references are checked against the catalog it joins
        with pytest.raises(DefinitionError) as err:
            qci.catalog(path)
    else:
        with pytest.raises(DefinitionError) as err:
            qci.load_definitions(path)
    issues = [i for i in err.value.issues if i.file.endswith(name)]
    assert issues, str(err.value)
    issue = next((i for i in issues if words in i.message), None)
    assert issue is not None, f"{words!r} not in {[i.message for i in issues]}"
    if line is not None:
        assert issue.line == line, (issue.line, str(issue))


def test_all_problems_of_a_folder_are_reported_together():
    with pytest.raises(DefinitionError) as err:
        qci.load_definitions(HERE / "bad")
    files = {Path(i.file).name for i in err.value.issues}
    assert len(files) >= len(EXPECTED) - 1      # growth_of_unknown only fails against the catalog
    assert "problem(s) in indicator definitions" in str(err.value)


def test_duplicate_id_with_the_catalog(tmp_path):
    src = Path(qci.__file__).parents[1] / "indicator_defs" / "staffing" / "ic_staff_per_250_beds.yaml"
    (tmp_path / "ic_staff_per_250_beds.yaml").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(DefinitionError, match="duplicates the id"):
        qci.catalog(tmp_path)


def test_cycle_is_reported(tmp_path):
    for a, b in (("grow_a", "grow_b"), ("grow_b", "grow_a")):
        (tmp_path / f"{a}.yaml").write_text(
            f"id: {a}\nname: {{zh: 甲, en: A}}\nunit: '%'\ndirection: monitor\nkind: growth\nof: {b}\nsource: {{document: t}}\n",
            encoding="utf-8")
    with pytest.raises(DefinitionError, match="cycle: grow_a → grow_b → grow_a"):
        qci.catalog(tmp_path)


def test_a_new_indicator_in_yaml_only(tmp_path):
    (tmp_path / "elderly_share.yaml").write_text("""
id: elderly_share
name: {zh: 老年出院患者占比, en: Share of discharges aged 65+}
unit: "%"
direction: monitor
kind: proportion
source: {document: 本地指标 / local indicator}
numerator: {table: discharges, where: age >= 65 and level >= 2, count: true}
denominator: {table: discharges, where: level >= 2, count: true}
targets:
  - when: facility_type == "general"
    value: "<= 50"
""", encoding="utf-8")
    import pandas as pd
    from tests.conftest import facilities
    d = pd.DataFrame({"encounter_id": ["1", "2", "3", "4"], "facility_id": ["F1", "F1", "F1", "F3"],
                      "admit_date": "2024-01-01", "discharge_date": "2024-01-02", "total_cost": 1.0, "age": [70, 30, 80, 90]})
    r = qci.compute({"facilities": facilities(), "discharges": d}, ["elderly_share"], by=["county"], period="year",
                    definitions=tmp_path)
    row = r.to_frame().set_index("county").loc["A"]
    assert (row["numerator"], row["denominator"]) == (2, 3) and row["value"] == pytest.approx(200 / 3)
    assert "elderly_share" in qci.explain("elderly_share", definitions=tmp_path)


def test_extra_columns_are_read_from_parquet(tmp_path):
    """A column beyond the contract, declared by a definition, is read from a Parquet file like any other."""
    import pandas as pd
    from tests.conftest import facilities
    data = tmp_path / "data"
    data.mkdir()
    facilities().to_parquet(data / "facilities.parquet")
    pd.DataFrame({"encounter_id": ["1", "2", "3"], "facility_id": "F1", "admit_date": "2024-01-01",
                  "discharge_date": "2024-01-02", "total_cost": 1.0, "readmitted_31d": [1, 0, 1]}).to_parquet(data / "discharges.parquet")
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "readmission_rate.yaml").write_text("""
id: readmission_rate
name: {zh: 31天再入院率, en: 31-day readmission rate}
unit: "%"
direction: lower_is_better
kind: proportion
source: {document: local}
extra_columns: {discharges: [readmitted_31d]}
numerator: {table: discharges, where: readmitted_31d == 1, count: true}
denominator: {table: discharges, count: true}
""", encoding="utf-8")
    row = qci.compute(data, ["readmission_rate"], period="year", definitions=tmp_path / "defs").to_frame().iloc[0]
    assert (row["numerator"], row["denominator"]) == (2, 3)
