"""A throwaway PostgreSQL cluster for the session (initdb + pg_ctl in a temp dir, no system service),
and the committed sample loaded into PostgreSQL, DuckDB and SQLite."""
from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "synthetic" / "sample"
PG_USER = "qci"


def _bindir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def _runner() -> list[str]:
    """initdb refuses to run as root: as root, run the server binaries as the `postgres` system user."""
    if os.geteuid() != 0:
        return []
    try:
        import pwd
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no 'postgres' user to run initdb as")
    tool = shutil.which("runuser") or shutil.which("su")
    if tool is None:
        pytest.skip("running as root without runuser/su to start PostgreSQL as the postgres user")
    return [tool, "-u", "postgres", "--"] if tool.endswith("runuser") else [tool, "postgres", "-c"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(prefix: list[str], args: list[str]) -> None:
    cmd = prefix + ([" ".join(args)] if prefix and prefix[-1] == "-c" else args)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args[:1])} failed: {done.stdout}\n{done.stderr}")


@pytest.fixture(scope="session")
def pg_password() -> str:
    return "pw-" + secrets.token_hex(8)


@pytest.fixture(scope="session")
def pg_url(pg_password):
    """postgresql://qci:…@127.0.0.1:PORT/postgres of a fresh cluster, stopped and removed afterwards."""
    pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg")
    bindir = _bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed: apt-get install postgresql")
    prefix = _runner()
    root = Path(tempfile.mkdtemp(prefix="qci-pg-"))
    data, pwfile = root / "data", root / "pwfile"
    pwfile.write_text(pg_password + "\n")
    if prefix:
        shutil.chown(root, "postgres")
        shutil.chown(pwfile, "postgres")
    port = _free_port()
    try:
        _run(prefix, [str(bindir / "initdb"), "-D", str(data), "-U", PG_USER, "--auth=scram-sha-256",
                      f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C"])
        _run(prefix, [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-t", "60", "-o",
                      f"'-p {port} -k {root} -c listen_addresses=127.0.0.1'" if prefix and prefix[-1] == "-c"
                      else f"-p {port} -k {root} -c listen_addresses=127.0.0.1", "start"])
    except (RuntimeError, subprocess.TimeoutExpired) as err:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"could not start a throwaway PostgreSQL: {err}")
    try:
        yield f"postgresql://{PG_USER}:{pg_password}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(prefix + ([f"{bindir / 'pg_ctl'} -D {data} -m fast stop"] if prefix and prefix[-1] == "-c"
                                 else [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
                       capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_sample(pg_url) -> str:
    """The committed sample in schema `hqms` of the throwaway server."""
    from qcindicators.io.dbload import load_parquet_folder
    load_parquet_folder(SAMPLE, pg_url, schema="hqms")
    return pg_url


@pytest.fixture(scope="session")
def duckdb_sample(tmp_path_factory) -> str:
    pytest.importorskip("duckdb_engine")
    from qcindicators.io.dbload import load_parquet_folder
    url = f"duckdb:///{tmp_path_factory.mktemp('duck') / 'sample.duckdb'}"
    load_parquet_folder(SAMPLE, url)
    return url


@pytest.fixture(scope="session")
def sqlite_sample(tmp_path_factory) -> str:
    pytest.importorskip("sqlalchemy")
    from qcindicators.io.dbload import load_parquet_folder
    url = f"sqlite:///{tmp_path_factory.mktemp('lite') / 'sample.db'}"
    load_parquet_folder(SAMPLE, url)
    return url
