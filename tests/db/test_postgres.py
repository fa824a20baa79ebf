"""A real PostgreSQL server: the same numbers as Parquet, writing back, and clear errors."""
from __future__ import annotations

import pandas as pd
import pytest

import qcindicators as qci
from qcindicators.cli import main
from qcindicators.io.dburl import DatabaseError, open_engine

from .conftest import SAMPLE

sa = pytest.importorskip("sqlalchemy")


@pytest.fixture(scope="module")
def parquet_year():
    return qci.compute(qci.read_tables(SAMPLE), period="year")


def test_whole_catalog_from_postgres_equals_parquet(pg_sample, parquet_year):
    got = qci.compute(qci.read_tables(pg_sample, schema="hqms"), period="year")
    assert got.frame["indicator"].nunique() == parquet_year.frame["indicator"].nunique() > 30
    pd.testing.assert_frame_equal(got.frame, parquet_year.frame)
    pd.testing.assert_frame_equal(got.diagnostics, parquet_year.diagnostics)
    assert got.provenance["input_rows"] == parquet_year.provenance["input_rows"]


def test_reads_are_read_only_and_provenance_masks_the_password(pg_sample, pg_password):
    with open_engine(pg_sample).connect() as conn:
        assert conn.execute(sa.text("SHOW transaction_read_only")).scalar_one() == "on"
        with pytest.raises(sa.exc.DBAPIError, match="read-only"):
            conn.execute(sa.text("CREATE TABLE hqms.x (a int)"))
    r = qci.compute(qci.read_tables(pg_sample, schema="hqms"), ["ic_staff_per_250_beds"], period="year")
    inputs = r.provenance["inputs"]["facility_periods"]
    assert "qci:***@127.0.0.1" in inputs and inputs.endswith("hqms.facility_periods")
    assert pg_password not in str(r.provenance)


def test_to_sql_twice_with_one_run_id_leaves_one_copy(pg_sample):
    r = qci.compute(qci.read_tables(pg_sample, schema="hqms"), ["antibacterial_use_density", "average_length_of_stay"],
                    period="year")
    for _ in range(2):
        assert r.to_sql(pg_sample, table="nightly", run_id="2024-night", diagnostics_table="nightly_diag") == "2024-night"
    other = r.to_sql(pg_sample, table="nightly")
    engine = sa.create_engine(pg_sample.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        counts = dict(conn.execute(sa.text("SELECT run_id, count(*) FROM nightly GROUP BY run_id")).all())
        runs = conn.execute(sa.text("SELECT run_id, rows, provenance FROM qci_runs ORDER BY run_id")).all()
        types = dict(conn.execute(sa.text("SELECT column_name, data_type FROM information_schema.columns "
                                          "WHERE table_name = 'nightly'")).all())
    back = pd.read_sql("SELECT * FROM nightly WHERE run_id = '2024-night' ORDER BY indicator, facility_id, period", engine)
    engine.dispose()
    assert counts == {"2024-night": len(r.frame), other: len(r.frame)}
    assert [x[0] for x in runs] == sorted(["2024-night", other]) and runs[0][1] == len(r.frame)
    assert '"request"' in runs[0][2]
    assert types["value"] == "double precision" and types["met"] == "boolean" and types["period"] == "text"
    assert types["computed_at"] == "timestamp with time zone"
    want = r.frame.sort_values(["indicator", "facility_id", "period"]).reset_index(drop=True)
    assert back["value"].tolist() == pytest.approx(want["value"].tolist(), nan_ok=True, rel=0, abs=0)


def test_existing_table_of_another_shape_is_refused(pg_sample):
    engine = sa.create_engine(pg_sample.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE odd (run_id text, indicator integer)"))
    engine.dispose()
    r = qci.compute(qci.read_tables(SAMPLE), ["ic_staff_per_250_beds"], period="year")
    with pytest.raises(DatabaseError, match=r"existing table 'odd' does not fit.*missing columns \['computed_at'"):
        r.to_sql(pg_sample, table="odd")


def test_missing_mapped_column_exits_2_with_a_clear_message(pg_sample, tmp_path, capsys):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("schema: hqms\ntables:\n  discharges:\n    columns: {encounter_id: zyh}\n", encoding="utf-8")
    assert main(["compute", pg_sample, "--tables-map", str(mapping), "--indicator", "average_length_of_stay"]) == 2
    err = capsys.readouterr().err
    assert "mapped column(s) ['zyh'] not in discharges" in err and "映射的列" in err


def test_bad_password_exits_2_without_echoing_it(pg_sample, pg_password, capsys):
    wrong = "Wr0ng-" + pg_password[::-1]
    url = pg_sample.replace(pg_password, wrong)
    assert main(["compute", url, "--schema", "hqms", "--indicator", "antibacterial_use_density"]) == 2
    err = capsys.readouterr().err
    assert "登录被拒绝" in err and "password authentication failed" in err
    assert wrong not in err and pg_password not in err and "qci:***@" in err


def test_cli_compute_from_postgres_and_back(pg_sample, capsys):
    args = ["compute", pg_sample, "--schema", "hqms", "--indicator", "antibacterial_use_density", "--by", "facility_id",
            "--period", "year", "--out", pg_sample, "--out-table", "qci_results", "--run-id", "cli-1"]
    assert main(args) == 0 and main(args) == 0
    out = capsys.readouterr().out
    assert "(run_id cli-1)" in out and "qci:***@" in out
    want = qci.compute(qci.read_tables(SAMPLE), ["antibacterial_use_density"], period="year").frame
    engine = sa.create_engine(pg_sample.replace("postgresql://", "postgresql+psycopg://"))
    back = pd.read_sql("SELECT facility_id, period, value FROM qci_results WHERE run_id = 'cli-1' "
                       "ORDER BY facility_id, period", engine)
    engine.dispose()
    assert len(back) == len(want)
    assert back["value"].tolist() == pytest.approx(want.sort_values(["facility_id", "period"])["value"].tolist(),
                                                   nan_ok=True, rel=0, abs=0)


def test_window_is_pushed_down_and_the_result_trimmed_to_it(pg_sample):
    full = qci.compute(qci.read_tables(SAMPLE), period="month").frame
    keep = sorted(full["facility_id"].unique())[:3]
    window = qci.Window("2023-07", "2024-12", facilities=keep)
    tables = qci.read_tables(pg_sample, schema="hqms", window=window)
    got = qci.compute(tables, period="month")
    where = got.provenance["inputs"]
    assert "discharge_date >=" in where["discharges"] and "facility_id IN" in where["discharges"]
    assert "EXISTS (SELECT" in where["drug_orders"] and "EXISTS (SELECT" in where["procedures"]
    assert tables.n_rows("discharges") < qci.read_tables(SAMPLE).n_rows("discharges")
    frame = got.frame
    assert set(frame["facility_id"]) <= set(keep) and frame["period"].min() == "2023-07"
    # every number the window covers is the number of the whole read (growth needs its prior year inside the window)
    growth = frame["indicator"].str.endswith("_growth") & (frame["period"] < "2024-07")
    expect = full[full["facility_id"].isin(keep) & (full["period"] >= "2023-07")]
    key = ["indicator", "facility_id", "period"]
    merged = frame[~growth].merge(expect, on=key, how="left", suffixes=("", "_all"), validate="1:1")
    assert len(merged) > 1000
    pd.testing.assert_series_equal(merged["value"], merged["value_all"], check_names=False)
    pd.testing.assert_series_equal(merged["numerator"], merged["numerator_all"], check_names=False)
