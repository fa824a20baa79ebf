"""The same plan over partitions of whole facilities: datasets, processes, Dask — the same numbers."""
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import qcindicators as qci
from qcindicators.api import catalog_of
from qcindicators.compile.plan import compile_plan
from qcindicators.engine.parallel import Job, _in_processes, merge, run_job
from qcindicators.errors import QCIError
from qcindicators.io.dataset import ParquetPieces
from qcindicators.io.partitions import as_pieces, piece_facilities, plan_partitions
from qcindicators.synthetic import Size, generate_tables, write_tables

# one of each kind of partial: sums, a growth, exists() on stays and on visits, distinct ids (scoped and not),
# a row's own county, a maximum, a unit share, the discharge-cohort basis
IDS = ["antibacterial_use_density", "antibacterial_use_density_discharge_cohort", "inpatient_cost_per_discharge_growth",
       "inpatient_antibacterial_use_rate", "outpatient_antibacterial_prescription_rate",
       "inpatient_antibacterial_use_rate_hospitalised", "liability_insurance_coverage", "in_county_visit_rate",
       "emr_level", "ic_staff_compliance_share", "surgery_share"]
BY = [["facility_id"], ["county"], []]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return write_tables(tmp_path_factory.mktemp("small"), size=Size(n_facilities=6, discharges_per_bed=0.4, visits_per_bed=1.0))


@pytest.fixture(scope="module")
def parted(small, tmp_path_factory):
    return qci.write_partitioned(qci.read_tables(small), tmp_path_factory.mktemp("parted"))


@pytest.fixture(scope="module")
def whole(small):
    return qci.compute(small, IDS, by=BY, period="year", workers=1).to_frame()


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), rtol=1e-12, check_exact=False)


def test_a_partitioned_dataset_reads_as_the_files_did(parted, whole):
    assert sorted(p.name for p in (parted / "drug_orders").iterdir())[0].startswith("facility_id=")
    same(qci.compute(parted, IDS, by=BY, period="year", workers=1).to_frame(), whole)


def test_processes_equal_one_process(parted, whole):
    same(qci.compute(parted, IDS, by=BY, period="year", workers=2).to_frame(), whole)


def test_a_file_written_facility_by_facility_splits_by_its_row_groups(small, whole):
    tables = qci.read_tables(small)
    plan = compile_plan(catalog_of(None), IDS)
    shares = plan_partitions(tables, list(plan.reads), 3)
    assert len(shares) == 3
    # every row group of drug_orders is read by exactly one partition
    rgs = [rg for s in shares for rg in s["drug_orders"].row_groups[0]]
    assert sorted(rgs) == list(range(pq.ParquetFile(small / "drug_orders.parquet").metadata.num_row_groups))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(0, 2), min_size=6, max_size=6))
def test_any_partitioning_into_whole_facilities_gives_the_same_numbers(parted, whole, assignment):
    """Random facility → partition maps, run in this process part by part, merged: always the whole's numbers."""
    tables = qci.read_tables(parted)
    facilities = tables.load("facilities")
    plan = compile_plan(catalog_of(None), IDS)
    fac_ids = facilities["facility_id"].astype(str).tolist()
    part_of = dict(zip(fac_ids, assignment))
    jobs = []
    for k in sorted(set(assignment)):
        share = {}
        for t in plan.reads:
            src = tables.source(t)
            pieces = as_pieces(src)
            if pieces is None or t in ("facilities", "drug_dictionary"):
                continue
            chosen = {}
            for f, i, facs, _ in piece_facilities(pieces, "facility_id" if t != "referrals" else "from_facility_id",
                                               "facility_id" if t != "referrals" else "from_facility_id"):
                if part_of[next(iter(facs))] == k:
                    chosen.setdefault(f, []).append(i)
            share[t] = pieces.share(chosen)
        jobs.append(Job(plan, tables.with_sources(share), facilities, ["year"]))
    merged = merge([run_job(j) for j in jobs])
    from qcindicators.api import combine_grouping
    from qcindicators.result.combine import concat_results
    frames = [combine_grouping(plan, merged.partials, "year", facilities, g, [i for i in IDS if g in ([], ["county"])
                                                                        or i != "in_county_visit_rate"], None, 0.95)
              for g in BY]
    same(concat_results(frames, ["facility_id", "county"]), whole)


def test_a_linked_table_that_cannot_be_split_is_refused_with_the_way_out(tmp_path):
    t = generate_tables(Size(n_facilities=3, discharges_per_bed=0.2, visits_per_bed=0.5))
    for name, frame in t.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    with pytest.raises(QCIError, match="qci partition"):
        qci.compute(tmp_path, ["antibacterial_use_density"], workers=2)
    # without workers asked for, the same data runs in one process
    assert len(qci.compute(tmp_path, ["antibacterial_use_density"], period="year").to_frame())


def test_row_groups_holding_several_facilities_keep_them_together(small, tmp_path):
    """Rows of one facility spread over mixed row groups are never split: such groups stay in one partition."""
    table = pq.read_table(small / "discharges.parquet")
    order = np.argsort(np.array(table.column("encounter_id").to_pylist(), dtype=object))   # facilities interleaved
    for f in small.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    pq.write_table(table.take(pa.array(order)), tmp_path / "discharges.parquet", row_group_size=500)
    tables = qci.read_tables(tmp_path)
    plan = compile_plan(catalog_of(None), ["average_length_of_stay", "inpatient_antibacterial_use_rate"])
    shares = plan_partitions(tables, list(plan.reads), 4)
    a = qci.compute(tmp_path, ["average_length_of_stay", "inpatient_antibacterial_use_rate"], period="year", workers=1)
    b = qci.compute(tmp_path, ["average_length_of_stay", "inpatient_antibacterial_use_rate"], period="year", workers=2)
    same(a.to_frame(), b.to_frame())
    assert len(shares) >= 1


def test_a_share_is_described_by_its_own_row_groups_only(tmp_path):
    """Planning within a partition (a large key checked a share at a time) looks at the partition's row groups,
    not every row group of the file: at four times the region that read 78 M facility ids per partition."""
    frame = pd.DataFrame({"facility_id": np.repeat(["F1", "F2", "F3", "F4"], 3), "x": np.arange(12)})
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "t.parquet", row_group_size=3)
    whole = ParquetPieces(tmp_path, (tmp_path / "t.parquet",), None, (tmp_path / "t.parquet",))
    share = whole.share({tmp_path / "t.parquet": [1, 3]})
    assert [(i, set(f), n) for _, i, f, n in piece_facilities(share, "facility_id", "facility_id")] == \
        [(1, {"F2"}, 3), (3, {"F4"}, 3)]
    assert len(piece_facilities(whole, "facility_id", "facility_id")) == 4


class _DiesWhenUnpickled:
    def __reduce__(self):
        return (os._exit, (3,))


def test_a_worker_that_dies_fails_the_run_with_a_message():
    job = Job(_DiesWhenUnpickled(), None, pd.DataFrame(), ["year"])
    with pytest.raises(QCIError, match="worker process died"):
        _in_processes([job, job], 2)


def test_dask_local_cluster_equals_one_process(parted, whole):
    pytest.importorskip("dask.distributed", reason="Dask is the optional extra qcindicators[dask]")
    os.environ["QCI_PROGRESS"] = "0"
    same(qci.compute(parted, IDS, by=BY, period="year", workers=2, scheduler="local").to_frame(), whole)


def _with_a_duplicated_stay(small, tmp_path):
    tables = qci.read_tables(small)
    frames = {n: tables.load(n) for n in ("facilities", "discharges")}
    d = frames["discharges"]
    last = d[d["facility_id"] == d["facility_id"].iloc[-1]]
    frames["discharges"] = pd.concat([d, last.iloc[[0]]], ignore_index=True)      # a stay of the last facility, twice
    out = tmp_path / "dup"
    out.mkdir()
    for name, frame in frames.items():       # one row group per facility, as an export job writes them
        pq.write_table(pa.Table.from_pandas(frame.sort_values("facility_id", kind="stable") if "facility_id" in frame
                                            and name != "facilities" else frame,
                                            preserve_index=False), out / f"{name}.parquet",
                       row_group_size=max(len(frame) // 6, 1))
    return out


def test_a_duplicated_stay_is_found_by_the_partition_that_holds_it(small, tmp_path, monkeypatch):
    """Keys that include the facility are checked in each partition (no process holds a region's ids): a
    duplicated stay still stops the run, naming the same rows of the whole file as one process does."""
    out = _with_a_duplicated_stay(small, tmp_path)
    messages = []
    for workers in (1, 2):
        if workers == 2:      # this process plans the run; the stays' key is checked by the worker processes
            from qcindicators.engine import table_checks
            real = table_checks.key_failures
            monkeypatch.setattr(table_checks, "key_failures",
                                lambda t, name: pytest.fail("stays' key checked whole") if name == "discharges" else real(t, name))
        with pytest.raises(QCIError) as err:
            qci.compute(out, ["average_length_of_stay"], period="year", workers=workers)
        messages.append(str(err.value))
    assert "unique" in messages[1].lower() or "重复" in messages[1]
    assert messages[0] == messages[1]


def test_a_large_key_is_checked_a_share_of_facilities_at_a_time_with_the_same_rows(small, tmp_path, monkeypatch):
    from qcindicators.engine import table_checks
    from qcindicators.schemas.checker import key_failures
    tables = qci.read_tables(_with_a_duplicated_stay(small, tmp_path))
    whole = key_failures(tables, "discharges")
    monkeypatch.setattr(table_checks, "KEY_CHECK_ROWS", 50)          # many shares of whole facilities
    shared = table_checks._key_failures(tables, "discharges")
    assert len(whole) == 2
    pd.testing.assert_frame_equal(shared.sort_values("row").reset_index(drop=True), whole.sort_values("row").reset_index(drop=True))


def _one_facility(fid: str) -> dict:
    return {"facilities": pd.DataFrame({"facility_id": [fid], "level": [3], "facility_type": ["general"], "ownership": ["public"]}),
            "discharges": pd.DataFrame({"encounter_id": ["E1", "E2"], "facility_id": fid, "admit_date": "2024-06-01",
                                        "discharge_date": "2024-06-05", "total_cost": [1000.0, 3000.0]})}


def test_a_facility_id_with_a_slash_or_a_space_comes_back_from_its_folder(tmp_path):
    """Arrow URL-encodes a Hive folder's value (医院/A → %E5%8C%BB%E9%99%A2%2FA): read back decoded."""
    for fid in ("医院/A", "F 01"):
        out = qci.write_partitioned(_one_facility(fid), tmp_path / fid.replace("/", "_"))
        got = qci.compute(out, ["inpatient_cost_per_discharge"], by="facility_id", period="month").to_frame()
        assert got["facility_id"].tolist() == [fid] and got["value"].tolist() == [2000.0]


def test_a_file_whose_column_contradicts_its_folder_is_refused(tmp_path):
    tables = _one_facility("F1")
    tables["facilities"] = pd.concat([tables["facilities"], tables["facilities"].assign(facility_id="F2")])
    (tmp_path / "discharges" / "facility_id=F1").mkdir(parents=True)
    tables["facilities"].to_parquet(tmp_path / "facilities.parquet", index=False)
    tables["discharges"].assign(facility_id="F2").to_parquet(tmp_path / "discharges" / "facility_id=F1" / "part-0.parquet")
    with pytest.raises(qci.InputDataError, match="contradicts its folder facility_id=F1"):
        qci.compute(qci.read_tables(tmp_path), ["inpatient_cost_per_discharge"], period="month")
