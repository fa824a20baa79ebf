"""Readers: encodings, Chinese headers and labels, formats, ids, dates, clear errors."""
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import qcindicators as qci
from qcindicators.schemas.contract import TABLES
from qcindicators.errors import InputDataError, MissingTableError, UnknownTableError


def to_chinese(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Rename to the contract's Chinese headers and write codes as their Chinese labels."""
    spec = TABLES[table]
    out = frame.copy()
    for col in spec.columns:
        if col.name in out.columns and col.codes and col.kind in ("code",):
            first = {code: (labels[0] if labels else code) for code, labels in col.codes.items()}
            out[col.name] = out[col.name].map(lambda v: first.get(v, v))
        if col.name in out.columns and col.kind == "bool":
            out[col.name] = out[col.name].map({True: "是", False: "否"})
    return out.rename(columns={c.name: c.zh for c in spec.columns})


@pytest.fixture(scope="module")
def canonical(sample_dir):
    t = qci.read_tables(sample_dir)
    return {n: t[n] for n in ("facilities", "discharges", "drug_orders", "drug_dictionary")}


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_csv_with_chinese_headers_and_labels_reads_like_parquet(tmp_path, canonical, encoding):
    for name, frame in canonical.items():
        out = frame.copy()
        for c in out.columns:
            if pd.api.types.is_datetime64_any_dtype(out[c]):
                out[c] = out[c].dt.strftime("%Y/%m/%d")     # a second date format
        to_chinese(out, name).to_csv(tmp_path / f"{TABLES[name].zh}.csv", index=False, encoding=encoding)
    t = qci.read_tables(tmp_path)
    for name, frame in canonical.items():
        got = t[name]
        assert t.source_info()[name]["encoding"] in ({"gbk", "gb18030"} if encoding.startswith("gb") else {encoding, "utf-8"})
        pd.testing.assert_frame_equal(got[frame.columns], frame, check_dtype=False, check_categorical=False)
        assert (got.dtypes.astype(str) == frame.dtypes.astype(str)).all(), name


def test_xlsx_reads_like_parquet(tmp_path, canonical):
    frame = canonical["discharges"].head(200)
    to_chinese(frame, "discharges").to_excel(tmp_path / "discharges.xlsx", index=False)
    got = qci.read_tables(tmp_path)["discharges"]
    pd.testing.assert_frame_equal(got[frame.columns], frame, check_dtype=False, check_categorical=False, rtol=1e-12)


def test_ids_keep_leading_zeros_and_dates_parse_in_three_formats():
    t = qci.read_tables({"discharges": pd.DataFrame({
        "encounter_id": ["007", "008", "009"], "facility_id": ["0012", "0012", "0012"],
        "admit_date": ["2024-01-02", "2024/01/03", "20240104"], "discharge_date": ["20240105"] * 3, "total_cost": ["1", "2", "3"]})})
    d = t["discharges"]
    assert d["encounter_id"].tolist() == ["007", "008", "009"] and d["facility_id"].iloc[0] == "0012"
    assert d["admit_date"].dt.day.tolist() == [2, 3, 4]


def test_labels_and_booleans_map_to_codes():
    t = qci.read_tables({"drug_orders": pd.DataFrame({"就诊类型": ["住院", "门诊", "急诊"]}),
                         "discharges": pd.DataFrame({"进入临床路径": ["是", "N", "1"]})})
    assert t["drug_orders"]["setting"].tolist() == ["inpatient", "outpatient", "emergency"]
    assert t["discharges"]["pathway_entered"].tolist() == [True, False, True]


def test_user_aliases_map_hqms_codes(tmp_path):
    (tmp_path / "aliases.yaml").write_text("discharges:\n  ZFY: total_cost\n  LYFS: discharge_disposition\n", encoding="utf-8")
    t = qci.read_tables({"discharges": pd.DataFrame({"ZFY": ["12.5"], "LYFS": ["死亡"], "my_extra": ["kept"]})},
                        aliases=tmp_path / "aliases.yaml")
    d = t["discharges"]
    assert d["total_cost"].iloc[0] == 12.5 and d["discharge_disposition"].iloc[0] == "5" and d["my_extra"].iloc[0] == "kept"


def test_caller_frame_is_not_modified():
    raw = pd.DataFrame({"机构代码": ["1"], "医院级别": ["二级"], "机构类别": ["综合"], "所有制": ["公立"]})
    before = raw.copy()
    qci.read_tables({"facilities": raw})["facilities"]
    pd.testing.assert_frame_equal(raw, before)


def test_clear_errors_for_unknown_table_empty_file_bad_encoding(tmp_path):
    with pytest.raises(UnknownTableError, match="dischargs.*Did you mean: discharges"):
        qci.read_tables({"dischargs": pd.DataFrame()})
    (tmp_path / "discharges.csv").write_bytes(b"")
    with pytest.raises(InputDataError, match="empty file"):
        qci.read_tables(tmp_path)["discharges"]
    (tmp_path / "discharges.csv").write_bytes("encounter_id\n".encode() + bytes([0xff, 0xfe, 0x81, 0x30]) * 10)
    with pytest.raises(InputDataError, match="cannot decode"):
        qci.read_tables(tmp_path)["discharges"]
    with pytest.raises(MissingTableError, match="visits"):
        qci.read_tables({"facilities": pd.DataFrame({"facility_id": ["1"]})})["visits"]


def test_two_headers_for_one_column_is_an_error():
    with pytest.raises(InputDataError, match="both map to total_cost"):
        qci.read_tables({"discharges": pd.DataFrame({"住院总费用": [1], "total_cost": [2]})})["discharges"]


def test_committed_sample_validates_and_the_generator_is_deterministic(tmp_path):
    from pathlib import Path
    from qcindicators.synthetic import Size, generate_tables
    committed = Path(__file__).resolve().parents[2] / "data" / "synthetic" / "sample"
    t = qci.read_tables(committed)
    report = qci.validate(t)
    assert report.ok and len(report.failures) == 0
    assert report.row_counts["discharges"] > 10_000 and report.row_counts["drug_orders"] > 50_000
    small = Size(n_facilities=3, discharges_per_bed=0.2, visits_per_bed=0.5)
    a, b = generate_tables(small, seed=5), generate_tables(small, seed=5)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])


def test_long_parquet_tables_are_not_kept_in_memory(sample_dir, monkeypatch):
    import qcindicators.io.tables as tables_module
    monkeypatch.setattr(tables_module, "CACHE_ROWS", 100)
    t = qci.read_tables(sample_dir)
    keys = t.load("visits", ["facility_id", "visit_id"])         # e.g. for the key check or exists()
    assert len(keys) > 100 and "visits" not in t._cache
    parts = list(t.batches("visits", ["facility_id", "visit_id", "setting"], rows=5000))
    assert sum(len(f) for _, f, _ in parts) == len(keys) and len(parts) > 1
    assert "visits" not in t._cache                             # streamed, not loaded whole
    t.load("facilities")
    assert "facilities" in t._cache                             # short tables are kept


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["", " ", "NULL", " null ", "\u3000", "\u3000-\u3000", "—", "#N/A",
                                                        "Z0001", "长字符串", " x ", "abcdef\u3000", "\t<NA>\n", "NULLS"]),
                          st.text(max_size=8)), max_size=30), st.integers(0, 5))
def test_blank_as_missing_on_arrow_strings_is_strip_in_tokens(values, cut):
    """The Arrow fast path (only short values or values with a space at an end are stripped) equals stripping all."""
    from qcindicators.io.coerce import NULL_TOKENS, blank_as_missing
    s = pd.Series(values, dtype="string[pyarrow]").iloc[cut:]        # a slice: Arrow offsets that do not start at 0
    expected = [v is None or v.strip() in NULL_TOKENS for v in values[cut:]]
    assert blank_as_missing(s).isna().tolist() == expected


def _stays(ids, start, costs):
    return pd.DataFrame({"住院流水号": ids, "机构代码": "F1", "入院日期": start, "出院日期": start, "住院总费用": costs})


def _facility(folder):
    pd.DataFrame({"facility_id": ["F1"], "level": [3], "facility_type": ["general"], "ownership": ["public"]}).to_csv(
        folder / "facilities.csv", index=False)


def test_a_workbook_of_monthly_sheets_with_one_header_reads_every_sheet(tmp_path):
    """pandas reads the first sheet only: July would have vanished without a word."""
    _facility(tmp_path)
    with pd.ExcelWriter(tmp_path / "discharges.xlsx") as w:
        _stays(["E1", "E2"], "2024-06-01", [1000.0, 3000.0]).to_excel(w, sheet_name="6月", index=False)
        _stays(["E3", "E4"], "2024-07-01", [5000.0, 7000.0]).to_excel(w, sheet_name="7月", index=False)
        pd.DataFrame().to_excel(w, sheet_name="空白", index=False)
    row = qci.compute(qci.read_tables(tmp_path), ["inpatient_cost_per_discharge"], period="year").to_frame().iloc[0]
    assert (row["numerator"], row["denominator"], row["value"]) == (16000.0, 4, 4000.0)


def test_a_workbook_whose_sheets_hold_different_tables_is_refused(tmp_path):
    _facility(tmp_path)
    with pd.ExcelWriter(tmp_path / "discharges.xlsx") as w:
        pd.DataFrame({"说明": ["本表为 2024 年出院病人"]}).to_excel(w, sheet_name="说明", index=False)
        _stays(["E1"], "2024-06-01", [1000.0]).to_excel(w, sheet_name="数据", index=False)
    with pytest.raises(InputDataError, match="several sheets hold data under different headers"):
        qci.read_tables(tmp_path).load("discharges")


def test_a_title_row_above_the_header_is_named_as_such(tmp_path):
    _facility(tmp_path)
    with pd.ExcelWriter(tmp_path / "discharges.xlsx") as w:
        pd.DataFrame([["2024 年出院病人"]]).to_excel(w, index=False, header=False)
        _stays(["E1"], "2024-06-01", [1000.0]).to_excel(w, index=False, startrow=1)
    with pytest.raises(InputDataError, match="title row above the header"):
        qci.read_tables(tmp_path).load("discharges")


def test_a_total_row_under_the_data_is_refused_not_counted(tmp_path):
    _facility(tmp_path)
    stays = _stays(["E1", "E2", "合计"], "2024-06-01", [1000.0, 3000.0, 4000.0])
    stays.to_csv(tmp_path / "discharges.csv", index=False)
    with pytest.raises(InputDataError, match=r"\[3\] are total rows"):
        qci.read_tables(tmp_path).load("discharges")
    stays.iloc[:2].to_excel(tmp_path / "ok.xlsx", index=False)       # the same data without it reads
    (tmp_path / "discharges.csv").unlink()
    (tmp_path / "ok.xlsx").rename(tmp_path / "discharges.xlsx")
    assert len(qci.read_tables(tmp_path).load("discharges")) == 2
