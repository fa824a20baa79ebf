"""The same plan over partitions of whole facilities: in local processes, or as tasks on a Dask cluster.

Each partition runs the ordinary pandas engine on its share of every table (`io/partitions.py`) and hands
back its partials, its ledger lines and the failures it found; the partials merge exactly
(`Partials.merged`: sums add, distinct counts are unions). A worker that fails makes the whole run fail
with its message — a run never returns the numbers of some partitions only.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import sys
import types
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import reduce

import pandas as pd

from ..errors import QCIError
from ..io.partitions import plan_partitions
from ..progress import bar, set_enabled
from ..result.diagnostics import Ledger
from ..schemas.checker import Gate
from ..schemas.failures import concat_failures
from .drug_codes import merged_code_table
from .memory import child_environment, environment, give_back_memory, run_allocator, tune_malloc
from .pandas_engine import PandasEngine
from .partials import Partials
from .table_checks import Where, whole_table_checks

# below this many rows in the tables that links pass through, one process is as fast as two
AUTO_MIN_ROWS = 20_000_000
# at most about this many rows per partition (at least two partitions per worker): a worker's memory is that
# of one partition (~0.8 GB for 25 M rows of the benchmark region), so it stays the same however large the
# region; a partition forked from the server starts in milliseconds, so small partitions cost little
PARTITION_ROWS = 25_000_000


@dataclass
class PartResult:
    partials: dict[tuple, Partials]
    ledger: pd.DataFrame
    failures: pd.DataFrame
    companions: dict = field(default_factory=dict)      # the drug codes behind the ledger (drug_codes.py)


@dataclass
class Job:
    plan: object
    tables: object
    facilities: pd.DataFrame
    grains: list[str]


def run_job(job: Job) -> PartResult:
    """One partition, start to end, in whatever process runs it."""
    set_enabled(False)
    tune_malloc()
    ledger, gate = Ledger(), Gate("raise")
    with run_allocator():
        whole_table_checks(job.plan, job.tables, job.facilities, gate, Where.PARTITION)
        partials = PandasEngine().run(job.plan, job.tables, job.facilities, job.grains, ledger, gate)
        packed = {view: part.packed() for view, part in partials.items()}
        out = PartResult(packed, ledger.frame(), global_rows(gate.failures(), job.tables), ledger.companions)
        del partials
        give_back_memory()
    return out


def global_rows(failures: pd.DataFrame, tables) -> pd.DataFrame:
    """Row numbers of a partition's share → rows of the whole file, so messages name the row a person can find."""
    if not len(failures):
        return failures
    out = failures.copy()
    for table in out["table"].unique():
        src = tables.source(table) if table in tables else None
        if hasattr(src, "global_rows"):
            at = (out["table"] == table).to_numpy()
            out.loc[at, "row"] = src.global_rows(out.loc[at, "row"].to_numpy())
    return out


def run_partitioned(plan, tables, facilities: pd.DataFrame, grains: list[str], workers: int,
                    scheduler: str | None = None) -> PartResult:
    """Partials, ledger and failures of the whole run, from `workers` processes or a Dask scheduler."""
    context = None if scheduler else _worker_context()
    if context is not None and context.get_start_method() == "forkserver":
        with environment(child_environment()):
            multiprocessing.forkserver.ensure_running()      # its imports overlap the partition planning below
    rows = sum(tables.known_rows(t) or 0 for t in plan.reads if t in tables)
    shares = plan_partitions(tables, list(plan.reads), max(2 * workers, 2, -(-rows // PARTITION_ROWS)))
    jobs = [Job(plan, tables.with_sources(share), facilities, grains) for share in shares]
    results = _on_dask(jobs, scheduler, workers) if scheduler else _in_processes(jobs, workers, context)
    merged = merge(results)
    merged.companions = merged_code_table([r.companions for r in results],
                                          facilities["facility_id"].astype(str).to_numpy(), grains[0])
    return merged


def merge(results: list[PartResult]) -> PartResult:
    views = results[0].partials.keys()
    # each on its own window of periods: merging widens the running total to the union of the two
    partials = {v: reduce(lambda a, b: a.merged(b), [r.partials[v] for r in results]) for v in views}
    ledger = pd.concat([r.ledger for r in results if len(r.ledger)], ignore_index=True) if any(len(r.ledger) for r in results) \
        else results[0].ledger
    if len(ledger) and "facility_id" in ledger:      # lines about the whole run (the dictionary) come once from each part
        shared = ledger["facility_id"].isna()
        ledger = pd.concat([ledger[~shared], ledger[shared].drop_duplicates()], ignore_index=True)
    failures = concat_failures([r.failures for r in results])
    if len(failures):
        failures = failures.drop_duplicates(["table", "column", "row", "rule"]).reset_index(drop=True)
    return PartResult(partials, ledger, failures)


@contextmanager
def _caller_script_not_rerun():
    """Spawned workers import the caller's `__main__` again — a script without `if __name__ == "__main__":`
    would run itself in every worker. They need nothing from it (jobs are our own classes): hide it."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _in_processes(jobs: list[Job], workers: int, ctx: multiprocessing.context.BaseContext | None = None) -> list[PartResult]:
    ctx = ctx or _worker_context()
    out: list[PartResult | None] = [None] * len(jobs)
    try:
        # a fresh process per partition: what one partition's work leaves in a process's heap never adds to the next
        with _caller_script_not_rerun(), environment(child_environment()), \
                ProcessPoolExecutor(max_workers=workers, mp_context=ctx, max_tasks_per_child=1) as pool, \
                bar(len(jobs), "partitions", "part", 1) as progress:
            futures = {pool.submit(run_job, job): i for i, job in enumerate(jobs)}
            for done in as_completed(futures):
                out[futures[done]] = done.result()
                progress.update(1)
    except BrokenProcessPool as err:
        raise QCIError("一个工作进程意外退出（内存不足？），本次计算未返回任何结果 / a worker process died (out of memory?); "
                       "the run returned no numbers rather than those of some partitions") from err
    return out


def _worker_context() -> multiprocessing.context.BaseContext:
    """Fresh worker processes forked from a server that has imported the engine once (pandas, pyarrow and ours
    cost ~1.5 s per process to import, once per partition with spawn); spawn where there is no forkserver.
    Never a plain fork of this process: Arrow's thread pools, once started, do not survive one — the server
    imports modules but computes nothing, so it has none."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([__name__])
    return ctx


def _on_dask(jobs: list[Job], scheduler: str, workers: int) -> list[PartResult]:
    try:
        from dask.distributed import Client, LocalCluster, progress as dask_progress   # optional extra
    except ImportError as err:
        raise QCIError("需要安装 Dask：pip install \"qcindicators[dask]\" / scheduler= needs Dask: "
                       "pip install \"qcindicators[dask]\"") from err
    with _caller_script_not_rerun(), environment(child_environment()):    # the nanny spawns worker processes too
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") \
            if scheduler == "local" else None
    try:
        with Client(cluster or scheduler) as client:
            futures = client.map(run_job, jobs, pure=False)
            if os.environ.get("QCI_PROGRESS", "1") != "0":
                dask_progress(futures, notebook=False)
            return client.gather(futures)
    except QCIError:
        raise
    except (OSError, TimeoutError) as err:
        raise QCIError(f"无法连接 Dask 调度器 {scheduler} / cannot reach the Dask scheduler {scheduler}: {err}") from err
    finally:
        if cluster is not None:
            cluster.close()


def default_workers(plan, tables) -> int:
    """The machine's cores when the data is large enough to gain from them, else 1."""
    rows = sum(tables.known_rows(t) or 0 for t in plan.reads if t in tables)
    return max(os.cpu_count() or 1, 1) if rows >= AUTO_MIN_ROWS else 1
