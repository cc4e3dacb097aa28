"""Connection set-up, migrations and the few SQL-level facts the services need."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from aerich import Command
from tortoise import Tortoise, connections
from tortoise.exceptions import DBConnectionError, IntegrityError, OperationalError

from db.config import dialect, tortoise_config

log = logging.getLogger("loyalty.db")
MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_instant(value: datetime) -> str:
    """SQLite compares datetimes as text, so an instant written with another offset
    ('2026-12-03 00:20:00+08:00') sorts after a later UTC one ('2026-12-02 16:30:00+00:00'):
    a cap's "since the local day began" missed every row from 16:00 UTC on. Aware values are
    stored and compared in UTC, as PostgreSQL's timestamptz does."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.isoformat(" ")


# Replaces tortoise's adapter (the same text without the UTC step): registered after its import.
import tortoise.backends.sqlite.executor  # noqa: E402, F401

sqlite3.register_adapter(datetime, _sqlite_instant)


async def open_database(url: str) -> None:
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)


async def close_database() -> None:
    await Tortoise.close_connections()


async def migrate(url: str) -> list[str]:
    """Apply every migration not yet applied; returns the ones it applied."""
    command = Command(tortoise_config=tortoise_config(url), app="models", location=str(MIGRATIONS))
    await command.init()
    try:
        return await command.upgrade(run_in_transaction=True)
    finally:
        await Tortoise.close_connections()


async def ping() -> bool:
    try:
        await connections.get("default").execute_query("SELECT 1")
    except (OperationalError, DBConnectionError, OSError) as error:
        log.warning("database ping failed: %s", error)
        return False
    return True


def is_postgres() -> bool:
    return bool(connections.get("default").capabilities.dialect == "postgres")


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE behind a tortoise-wrapped driver error, when the driver gives one."""
    seen: BaseException | None = error
    while seen is not None:
        state = getattr(seen, "sqlstate", None)
        if isinstance(state, str):
            return state
        seen = seen.__cause__ or seen.__context__
        if seen is error:
            break
    for arg in error.args:
        state = getattr(arg, "sqlstate", None)
        if isinstance(state, str):
            return state
    return None


LOCK_NOT_AVAILABLE = "55P03"

# Driver errors that say the database cannot serve now (unreachable, restarting, out of
# connections or space) rather than that this statement is wrong: a retry later may succeed.
_UNAVAILABLE = (
    OSError,  # refused, reset, unreachable, a connect timeout
    DBConnectionError,
    asyncpg.PostgresConnectionError,  # class 08, and a connection lost mid-statement
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.InsufficientResourcesError,  # too many connections, disk full, out of memory
)
_LOST_CONNECTION = ("connection is closed", "connection was closed", "pool is closing")


def is_unavailable(error: BaseException | None) -> bool:
    """Whether `error`, or an error it was raised from or while handling, means the database
    is unavailable. A rollback that fails after the connection died raises its own error
    from the first one, so the whole chain is read."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, _UNAVAILABLE):
            return True
        if isinstance(error, asyncpg.InterfaceError) and any(
            text in str(error) for text in _LOST_CONNECTION
        ):
            return True
        error = error.__cause__ or error.__context__
    return False


REFERRALS_LOCK = 0x10F1  # advisory lock namespace: referral writes of one programme


async def serialise(namespace: int, key: int) -> None:
    """Inside a PostgreSQL transaction: one holder at a time per (namespace, key) until commit.
    (SQLite already runs one writer at a time.)"""
    if is_postgres():
        await connections.get("default").execute_query(
            "SELECT pg_advisory_xact_lock($1, $2)", [namespace, key]
        )


def is_unique_violation(error: BaseException) -> bool:
    """A duplicate key, as opposed to any other integrity error (a foreign key, a NOT NULL)."""
    return sqlstate(error) == "23505" or "UNIQUE constraint failed" in str(error)


async def rows_unless_unique_violation(
    statement: str, values: list[Any]
) -> list[dict[str, Any]] | None:
    """The statement's rows; None when a unique violation undid it (a one-statement write
    that a twin's key, or another unique value written meanwhile, beat)."""
    try:
        return list(await connections.get("default").execute_query_dict(statement, values))
    except IntegrityError as error:
        if not is_unique_violation(error):
            raise
        return None


def is_lock_timeout(error: BaseException) -> bool:
    """asyncpg raises LockNotAvailableError unwrapped; tortoise translates only some errors."""
    return sqlstate(error) == LOCK_NOT_AVAILABLE


async def limit_lock_wait(seconds: float | None) -> None:
    """Inside a PostgreSQL transaction: waiting on a row lock longer than this raises 55P03.
    None restores the server's default for the rest of the transaction."""
    if is_postgres():
        value = "DEFAULT" if seconds is None else f"'{int(seconds * 1000)}ms'"
        await connections.get("default").execute_script(f"SET LOCAL lock_timeout = {value}")


__all__ = [
    "dialect",
    "is_lock_timeout",
    "is_unavailable",
    "is_unique_violation",
    "limit_lock_wait",
    "migrate",
    "open_database",
    "ping",
]
