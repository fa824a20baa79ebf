"""The run's allocator: jemalloc for Arrow while a run lasts, the caller's pool after it, the user's choice kept."""
import multiprocessing
import os

import pandas as pd
import pyarrow as pa
import pytest

import qcindicators as qci
from qcindicators.engine.memory import POOL_VARIABLE, child_environment, environment, run_allocator

jemalloc = pytest.mark.skipif(not hasattr(pa, "jemalloc_memory_pool") or os.name == "nt",
                              reason="this pyarrow build has no jemalloc (Windows wheels)")


def _backend() -> str:
    return pa.default_memory_pool().backend_name


@jemalloc
def test_a_run_allocates_from_jemalloc_and_gives_the_caller_its_pool_back(monkeypatch):
    monkeypatch.delenv(POOL_VARIABLE, raising=False)
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        with run_allocator():
            assert _backend() == "jemalloc"
            kept = pa.array([1.5] * 1000)
        assert _backend() == "system"
        assert kept.sum().as_py() == 1500.0          # a buffer made inside outlives the switch back
    finally:
        pa.set_memory_pool(pa.mimalloc_memory_pool() if hasattr(pa, "mimalloc_memory_pool") else pa.system_memory_pool())


def test_a_pool_the_user_chose_stands(monkeypatch):
    monkeypatch.setenv(POOL_VARIABLE, "system")
    before = _backend()
    with run_allocator():
        assert _backend() == before
    assert child_environment() == {}


def test_the_environment_for_workers_is_set_while_they_start_and_restored(monkeypatch):
    monkeypatch.setenv("QCI_TEST_KEEP", "a")
    monkeypatch.delenv("QCI_TEST_NEW", raising=False)
    with environment({"QCI_TEST_KEEP": "b", "QCI_TEST_NEW": "c"}):
        assert (os.environ["QCI_TEST_KEEP"], os.environ["QCI_TEST_NEW"]) == ("b", "c")
    assert os.environ["QCI_TEST_KEEP"] == "a" and "QCI_TEST_NEW" not in os.environ


@jemalloc
def test_a_worker_process_starts_with_jemalloc_as_arrows_default(monkeypatch):
    """Arrow reads its C++ default at import: the variable must be there when the worker starts."""
    monkeypatch.delenv(POOL_VARIABLE, raising=False)
    ctx = multiprocessing.get_context("spawn")
    with environment(child_environment()), ctx.Pool(1) as pool:
        assert pool.apply(_backend) == "jemalloc"


def test_numbers_do_not_depend_on_the_allocator(sample_dir, monkeypatch):
    ids = ["average_length_of_stay", "antibacterial_use_density", "inpatient_cost_per_discharge_growth"]
    monkeypatch.setenv(POOL_VARIABLE, "system")           # run_allocator leaves the pool alone
    plain = qci.compute(sample_dir, ids, by="facility_id", period="month").to_frame()
    monkeypatch.delenv(POOL_VARIABLE)
    with_jemalloc = qci.compute(sample_dir, ids, by="facility_id", period="month").to_frame()
    assert len(plain) > 100
    pd.testing.assert_frame_equal(plain, with_jemalloc)
