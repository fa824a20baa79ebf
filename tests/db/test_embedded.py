"""DuckDB and SQLite files: the same numbers as Parquet; names, Chinese names and the mapping file."""
from __future__ import annotations

import sqlite3
from decimal import Decimal

import pandas as pd
import pytest

import qcindicators as qci
from qcindicators.cli import main
from qcindicators.io.dburl import DatabaseError

from .conftest import SAMPLE

sa = pytest.importorskip("sqlalchemy")


@pytest.fixture(scope="module")
def parquet_quarter():
    return qci.compute(qci.read_tables(SAMPLE), by=[], period="quarter")


@pytest.mark.parametrize("db", ["duckdb_sample", "sqlite_sample"])
def test_whole_catalog_from_a_database_file_equals_parquet(db, request, parquet_quarter):
    url = request.getfixturevalue(db)
    got = qci.compute(qci.read_tables(url), by=[], period="quarter")
    pd.testing.assert_frame_equal(got.frame, parquet_quarter.frame)
    pd.testing.assert_frame_equal(got.diagnostics, parquet_quarter.diagnostics)


def test_duckdb_window_by_facility_equals_the_full_read(duckdb_sample):
    full = qci.compute(qci.read_tables(SAMPLE), ["average_length_of_stay", "antibacterial_use_density"], period="month").frame
    keep = sorted(full["facility_id"].unique())[2:4]
    tables = qci.read_tables(duckdb_sample, window=qci.Window("2024-03", "2024-05", facilities=keep))
    got = qci.compute(tables, ["average_length_of_stay", "antibacterial_use_density"], period="month").frame
    want = full[full["facility_id"].isin(keep) & full["period"].between("2024-03", "2024-05")].reset_index(drop=True)
    assert len(got) == 2 * 2 * 3
    pd.testing.assert_frame_equal(got, want)


@pytest.fixture
def hand_db(tmp_path):
    """Chinese table and column names, a DECIMAL cost, ids with leading zeros, a view renamed by the map."""
    path = tmp_path / "his.db"
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE 机构 (机构代码 TEXT, 医院级别 TEXT, 机构类别 TEXT, 所有制 TEXT);
        INSERT INTO 机构 VALUES ('001', '二级', '综合', '公立'), ('002', '三级', '综合', '公立');
        CREATE TABLE basy (zyh TEXT, jgdm TEXT, admit_date TEXT, discharge_date TEXT, total_cost DECIMAL(12,2));
        INSERT INTO basy VALUES ('0001', '001', '2024-01-01', '2024-01-04', 1000.10),
                                ('0002', '001', '2024-01-02', '2024-01-12', 3000.20),
                                ('0001', '002', '2024-02-01', '2024-02-03', 500.05);
        CREATE VIEW v_basy AS SELECT * FROM basy;
    """)
    con.close()
    mapping = tmp_path / "map.yaml"
    mapping.write_text("tables:\n  discharges:\n    table: v_basy\n    columns: {encounter_id: zyh, facility_id: jgdm}\n",
                       encoding="utf-8")
    return f"sqlite:///{path}", mapping


def test_chinese_names_and_a_mapping_file(hand_db):
    url, mapping = hand_db
    tables = qci.read_tables(url, tables_map=mapping)
    assert tables.names == ["facilities", "discharges"]
    assert tables["facilities"]["facility_id"].tolist() == ["001", "002"]
    d = tables.load("discharges", ["encounter_id", "total_cost", "discharge_date"])
    assert d["encounter_id"].tolist() == ["0001", "0002", "0001"]
    assert d["total_cost"].tolist() == [1000.10, 3000.20, 500.05]
    r = qci.compute(tables, ["average_length_of_stay"], period="month").frame
    assert r[["facility_id", "period", "numerator", "denominator", "value"]].values.tolist() == [
        ["001", "2024-01", 13.0, 2.0, 6.5], ["002", "2024-02", 2.0, 1.0, 2.0]]


def test_decimal_becomes_a_float_once_from_its_exact_text():
    from qcindicators.io.database import rows_to_frame
    frame = rows_to_frame([(Decimal("0.10"), "a"), (Decimal("12345678901234567.35"), None), (None, "a")],
                          ["cost", "code"], {"code"})
    assert frame["cost"].tolist()[:2] == ["0.10", "12345678901234567.35"] and frame["cost"].isna().tolist()[2]
    assert isinstance(frame["code"].dtype, pd.CategoricalDtype)


def test_mapping_to_a_missing_table_names_it(hand_db, tmp_path):
    url, _ = hand_db
    with pytest.raises(DatabaseError, match=r"table or view 'v_basi' \(mapped from discharges\) not found.*Did you mean: v_basy"):
        qci.read_tables(url, tables_map={"tables": {"discharges": "v_basi"}})
    with pytest.raises(DatabaseError, match="unknown column discharges.zyh"):
        qci.read_tables(url, tables_map={"tables": {"discharges": {"columns": {"zyh": "zyh"}}}})


def test_cli_errors_exit_2(hand_db, tmp_path, capsys):
    url, _ = hand_db
    assert main(["validate", f"sqlite:///{tmp_path / 'none.db'}"]) == 2
    assert main(["compute", "notadb://x/y"]) == 2
    err = capsys.readouterr().err
    assert "database file not found" in err and "找不到数据库文件" in err


def test_window_needs_a_database_and_whole_months(tmp_path):
    with pytest.raises(qci.InputDataError, match="database URL only"):
        qci.read_tables(SAMPLE, window=qci.Window("2024-01"))
    with pytest.raises(qci.QCIError, match="whole month"):
        qci.Window("2024-01-15")


def test_to_sql_into_duckdb_after_reading_it(duckdb_sample):
    r = qci.compute(qci.read_tables(duckdb_sample), ["ic_staff_per_250_beds"], period="year")
    r.to_sql(duckdb_sample, table="res", run_id="a")
    r.to_sql(duckdb_sample, table="res", run_id="a")
    engine = sa.create_engine(duckdb_sample)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM res")).scalar_one() == len(r.frame)
        assert conn.execute(sa.text("SELECT count(*) FROM qci_runs WHERE run_id = 'a'")).scalar_one() == 1
    engine.dispose()


def test_diagnostics_table_keeps_one_schema_with_and_without_rows(tmp_path):
    from qcindicators.result.result import Result
    url = f"sqlite:///{tmp_path / 'out.db'}"
    frame = pd.DataFrame({"indicator": ["x"], "period": ["2024"], "value": [1.5], "met": pd.array([pd.NA], "boolean"),
                          "flags": [""]})
    ledger = pd.DataFrame([{"table": "discharges", "facility_id": "F1", "period": "2024", "check": "orphan", "rows": 3,
                            "quantity": None, "amount": None, "share": None, "affects": "", "message_zh": "中",
                            "message_en": "en"}])
    Result(frame, ledger.iloc[0:0], {"k": "v"}).to_sql(url, table="r", run_id="a", diagnostics_table="d")
    Result(frame, ledger, {"k": "v"}).to_sql(url, table="r", run_id="b", diagnostics_table="d")
    with sqlite3.connect(tmp_path / "out.db") as con:
        assert con.execute("SELECT run_id, rows, message_zh FROM d").fetchall() == [("b", 3, "中")]
        assert con.execute("SELECT run_id, value, met FROM r ORDER BY run_id").fetchall() == [("a", 1.5, None), ("b", 1.5, None)]


def test_cli_check_writes_its_rows_to_a_database(sqlite_sample, tmp_path, capsys):
    out = f"sqlite:///{tmp_path / 'results.db'}"
    assert main(["check", sqlite_sample, "--targets", "plan-2024-district", "--out", out, "--run-id", "plan"]) == 0
    assert "qci_check (run_id plan)" in capsys.readouterr().out
    with sqlite3.connect(tmp_path / "results.db") as con:
        sets = con.execute("SELECT DISTINCT target_set, run_id FROM qci_check").fetchall()
        runs = con.execute("SELECT results_table, rows FROM qci_runs").fetchall()
        n = con.execute("SELECT count(*) FROM qci_check").fetchone()[0]
    assert sets == [("plan-2024-district", "plan")] and runs == [("qci_check", n)] and n > 0
