"""How a run's process allocates memory: which allocator Arrow uses, glibc's thresholds, giving memory back.

None of this changes a number; all of it changes the time. Measured on the benchmark region (docs/benchmarks.md,
session 7): Arrow's bundled default, mimalloc, hands freed pages back to the kernel between batches and takes
them again zero-filled on the next — a third of a partition's CPU was system time. jemalloc, which pyarrow's
Linux and macOS wheels also carry, keeps them: the same partitions took 15–25 % less CPU and less peak memory.
"""
from __future__ import annotations

import ctypes
import gc
import os
from contextlib import contextmanager

import pyarrow as pa

# glibc (M_MMAP_THRESHOLD, M_TRIM_THRESHOLD): arrays up to 32 MB come from the heap and up to 256 MB of freed heap
# is kept between batches (a partition ends with malloc_trim). Dask's nanny starts workers with
# MALLOC_TRIM_THRESHOLD_=65536, which also turns off glibc's adaptive mmap threshold: every column of a batch
# was then a fresh mmap the kernel zero-fills — a partition took half again as long, most of it system time.
MALLOPT = {-3: 32 << 20, -1: 256 << 20}
POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"


def tune_malloc() -> None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        for param, value in MALLOPT.items():
            libc.mallopt(param, value)
    except (OSError, AttributeError):       # not glibc: its own allocator's defaults
        pass


def give_back_memory() -> None:
    """Return what a partition freed to the system before the next one (a Dask worker runs many in one process,
    and pauses when its resident memory nears the limit): Arrow's pool keeps freed blocks, glibc its arenas."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):       # not glibc (macOS, Windows, musl): nothing to trim
        pass


def _run_pool() -> pa.MemoryPool | None:
    """jemalloc where this pyarrow has it; None (keep the default) where it has not, or where the user chose a
    pool with Arrow's own ARROW_DEFAULT_MEMORY_POOL — their choice stands."""
    if os.environ.get(POOL_VARIABLE):
        return None
    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:             # Windows wheels: no jemalloc
        return None


def child_environment() -> dict[str, str]:
    """What worker processes we start need in their environment to allocate from jemalloc throughout: Arrow reads
    its C++ default once, at import, and some of its own buffers (Parquet pages, decompression) ignore the pool
    Python sets later. Empty where this pyarrow has no jemalloc or the user chose a pool."""
    return {POOL_VARIABLE: "jemalloc"} if _run_pool() is not None else {}


@contextmanager
def environment(extra: dict[str, str]):
    """`extra` in os.environ while processes are started, then the environment as it was."""
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def run_allocator():
    """Arrow allocates from jemalloc for the length of a run, and the caller's default comes back after it.
    Buffers still alive then free into the pool that made them, so switching back is safe."""
    pool = _run_pool()
    if pool is None:
        yield
        return
    before = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(before)
