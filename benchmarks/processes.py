"""Whole runs of a command, timed, with the peak memory of every process they start.

The CLI's own peak comes from wait4; worker processes (children of the forkserver or of a Dask nanny, which
wait4 does not count) are sampled from /proc: VmHWM, the kernel's high-water mark, so a peak between samples
is not missed (only the last 0.2 s of a process's life can be).
"""
from __future__ import annotations

import os
import tempfile
import threading
import time
import subprocess

import psutil


def hwm_mb(pid: int) -> float | None:
    """A process's peak resident set so far (VmHWM), in MB; None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


class TreeSampler(threading.Thread):
    """Every `every` seconds: the process and all its descendants, each one's peak RSS so far."""

    def __init__(self, pid: int, every: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.every, self.stop = pid, every, threading.Event()
        self.peaks: dict[int, float] = {}
        self.names: dict[int, str] = {}

    def run(self) -> None:
        root = psutil.Process(self.pid)
        while not self.stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for p in procs:
                mb = hwm_mb(p.pid)
                if mb is not None:
                    self.peaks[p.pid] = max(self.peaks.get(p.pid, 0.0), mb)
                    if p.pid not in self.names:
                        try:
                            self.names[p.pid] = " ".join(p.cmdline()[1:4])
                        except psutil.Error:
                            self.names[p.pid] = "?"
            self.stop.wait(self.every)


def timed(cmd: list[str], env: dict) -> dict:
    """Wall seconds, the CLI's peak (wait4) and every descendant's peak (sampled) of one whole run."""
    with tempfile.TemporaryFile() as err:     # not a pipe: a worker outliving the CLI must not hold the clock
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        sampler.stop.set()
        sampler.join()
        if status != 0:
            err.seek(0)
            raise SystemExit(f"failed: {' '.join(cmd)}\n{err.read().decode(errors='replace')[-3000:]}")
    parent = usage.ru_maxrss / 1024
    workers = [mb for pid, mb in sampler.peaks.items() if pid != proc.pid]
    return {"wall": wall, "parent": max(parent, sampler.peaks.get(proc.pid, 0.0)),
            "worker": max(workers, default=0.0), "processes": 1 + len(workers)}


