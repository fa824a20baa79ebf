"""Readers: the same value means the same thing from CSV, xlsx, Parquet or a DataFrame."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

import qcindicators as qci
from qcindicators.errors import InputDataError
from qcindicators.io.coerce import canonicalise
from tests.conftest import facilities


def grades(values):
    f = facilities()
    f["grade"] = values
    return f


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet", "frame"])
def test_blank_optional_code_is_missing_in_every_format(tmp_path, fmt):
    frame = grades(["甲", "  ", "NULL"])
    if fmt == "frame":
        source = {"facilities": frame}
    else:
        path = tmp_path / f"facilities.{fmt}"
        {"csv": lambda: frame.to_csv(path, index=False), "xlsx": lambda: frame.to_excel(path, index=False),
         "parquet": lambda: frame.astype({"grade": "category"}).to_parquet(path)}[fmt]()
        source = tmp_path
    report = qci.validate(qci.read_tables(source))
    assert report.ok and len(report.failures) == 0
    assert report.tables["facilities"]["grade"].isna().tolist() == [False, True, True]


def test_typed_columns_out_of_range_or_infinite_are_failures():
    raw = pd.DataFrame({"encounter_id": ["E1", "E2", "E3"], "facility_id": "F1",
                        "admit_date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]).astype("datetime64[s]"),
                        "discharge_date": np.array(["2024-01-05", "2999-12-31", "NaT"], dtype="datetime64[s]"),
                        "total_cost": [1.0, np.inf, -np.inf]})
    frame, failures = canonicalise(raw, "discharges")
    got = set(zip(failures["column"], failures["row"]))
    assert got == {("discharge_date", 2), ("total_cost", 2), ("total_cost", 3)}
    assert frame["discharge_date"].isna().tolist() == [False, True, True]
    assert raw["total_cost"].iloc[1] == np.inf          # the caller's frame is not modified


def test_python_dates_before_1900_are_failures_not_overflows():
    raw = pd.DataFrame({"discharge_date": [dt.date(1, 1, 1), dt.date(2024, 5, 1)]})
    frame, failures = canonicalise(raw, "discharges")
    assert failures["row"].tolist() == [1] and frame["discharge_date"].iloc[1] == pd.Timestamp("2024-05-01")


def test_encoding_change_after_the_first_megabyte_names_the_line(tmp_path):
    path = tmp_path / "facilities.csv"
    head = "facility_id,level,facility_type,ownership,county\n"
    rows = "".join(f"F{i},2,general,public,海州区\n" for i in range(40_000))     # > 1 MB of UTF-8
    path.write_bytes((head + rows).encode("utf-8") + "F9,2,general,public,连云区\n".encode("gbk"))
    with pytest.raises(InputDataError, match="line 40002"):
        qci.read_tables(tmp_path)["facilities"]


def test_duplicate_header_in_a_workbook_is_refused(tmp_path):
    pd.DataFrame([["F1", 2, 3]], columns=["facility_id", "level", "level "]).to_excel(tmp_path / "facilities.xlsx", index=False)
    with pytest.raises(InputDataError, match="duplicate header"):
        qci.read_tables(tmp_path)["facilities"]


def test_dispensing_unit_synonyms_are_one_code():
    raw = pd.DataFrame({"drug_code": list("ABCDEF"), "generic_name": "x", "dispensing_unit": ["盒", "box", "Pack", "片", "", "箱"]})
    frame, failures = canonicalise(raw, "drug_dictionary")
    assert frame["dispensing_unit"].astype(object).tolist()[:4] == ["pack", "pack", "pack", "unit"]
    assert pd.isna(frame["dispensing_unit"].iloc[4]) and failures["value"].tolist() == ["箱"]
