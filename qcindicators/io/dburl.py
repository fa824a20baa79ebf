"""Database URLs: recognise them, mask their passwords, open them (read-only for reading), explain failures.

SQLAlchemy 2 gives one URL syntax and one error hierarchy for every database; psycopg 3 drives
PostgreSQL, duckdb-engine a DuckDB file, the standard library's sqlite3 a SQLite file.
A message never carries the password: the URL is shown masked and the password scrubbed from any
driver text.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

from ..errors import InputDataError
import sqlite3
from pyarrow import ArrowInvalid

URL_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9+]*://")
FILE_DIALECTS = ("duckdb", "sqlite")
DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}
INSTALL_HINT = ("安装数据库支持 / install database support: pip install 'qcindicators[db]' "
                "(SQL Server: pyodbc, MySQL/MariaDB: pymysql, Oracle: oracledb)")


class DatabaseError(InputDataError):
    """A database cannot be opened or read as asked (bad URL, refused login, missing table or column): exit 2."""


def is_database_url(source: object) -> bool:
    """A URL such as postgresql://…, duckdb:///file, sqlite:///file, or an SQLAlchemy Engine."""
    if hasattr(source, "dialect") and hasattr(source, "connect"):
        return True
    return isinstance(source, str) and bool(URL_PATTERN.match(source)) and not source.startswith("file://")


def _url(url):
    try:
        from sqlalchemy.engine import make_url
    except ImportError:
        raise DatabaseError(f"读取数据库需要 SQLAlchemy / reading a database needs SQLAlchemy. {INSTALL_HINT}") from None
    try:
        parsed = make_url(url)
    except Exception:
        raise DatabaseError(f"无法解析数据库地址 / cannot parse the database URL {mask_url(str(url))!r}; "
                            "expected e.g. postgresql://user@host:5432/db, duckdb:///path/file.duckdb, "
                            "sqlite:///path/file.db") from None
    return parsed.set(drivername=DRIVERS.get(parsed.drivername, parsed.drivername))


def mask_url(url) -> str:
    """The URL with its password replaced by ***, for messages and provenance."""
    if hasattr(url, "url"):   # an Engine
        url = url.url
    if not isinstance(url, str):
        return url.render_as_string(hide_password=True)
    return re.sub(r"^([A-Za-z][A-Za-z0-9+]*://[^:/@]*):[^@/]*@", r"\1:***@", url)


def scrub(text: str, url) -> str:
    """Driver text without the password, whatever the driver chose to quote."""
    password = getattr(url, "password", None)
    return text.replace(password, "***") if password else text


def open_engine(url, read_only: bool = True):
    """An SQLAlchemy Engine; a database file must exist (the drivers would create an empty one)."""
    if hasattr(url, "dialect"):
        return url
    from sqlalchemy import create_engine
    parsed = _url(url)
    backend = parsed.get_backend_name()
    kwargs: dict = {}
    if backend == "duckdb":   # one process may read a file and then write to it: connections close after use
        from sqlalchemy.pool import NullPool
        kwargs["poolclass"] = NullPool
    if backend in FILE_DIALECTS and read_only:
        path = parsed.database or ""
        if path in ("", ":memory:") or not Path(path).is_file():
            raise DatabaseError(f"找不到数据库文件 / database file not found: {path or '(none given)'} "
                                f"(URL {mask_url(parsed)})")
        if backend == "duckdb":
            kwargs["connect_args"] = {"read_only": True}
        else:
            uri = Path(path).resolve().as_uri() + "?mode=ro"
            kwargs["creator"] = lambda: sqlite3.connect(uri, uri=True, check_same_thread=False)
    try:
        engine = create_engine(parsed, **kwargs)
    except ImportError as err:
        raise DatabaseError(f"缺少数据库驱动 / missing database driver for {parsed.drivername}: {err}. {INSTALL_HINT}") from None
    except Exception as err:
        raise DatabaseError(f"无法打开数据库 / cannot open the database {mask_url(parsed)}: "
                            f"{scrub(str(err), parsed)}. {INSTALL_HINT}") from None
    if read_only and backend == "postgresql":
        engine = engine.execution_options(postgresql_readonly=True)
    return engine


@contextmanager
def db_errors(engine, what: str = ""):
    """Turn a driver's error into a bilingual DatabaseError naming the masked URL, never the password."""
    from sqlalchemy.exc import SQLAlchemyError
    dbapi = getattr(engine.dialect, "loaded_dbapi", None)
    raw = (dbapi.Error,) if dbapi is not None and hasattr(dbapi, "Error") else ()   # COPY runs on the driver itself
    try:
        yield
    except (SQLAlchemyError, ArrowInvalid, *raw) as err:
        detail = scrub(str(getattr(err, "orig", None) or err), engine.url).strip().splitlines()
        first = next((line for line in detail if line.strip()), type(err).__name__)
        lowered = first.lower()
        zh = ("登录被拒绝（用户名或密码错误）" if "password" in lowered or "authentication" in lowered
              else "无法连接数据库" if "connect" in lowered else "数据库读写失败")
        raise DatabaseError(f"{zh} / database error at {mask_url(engine)}{' (' + what + ')' if what else ''}: "
                            f"{first.strip()}") from None
