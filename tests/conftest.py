"""Test harness: SQLite + in-process cache by default; PostgreSQL and Redis when
LOYALTY_TEST_DATABASE_URL / LOYALTY_TEST_REDIS_URL are set (CI sets both). A configured
service that is unreachable fails the run at once rather than skipping tests."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import asyncpg
import pytest
from redis.asyncio import Redis

from db import invalidation
from db.cache import Cache, configure_cache
from db.config import dialect
from db.connection import close_database, migrate, open_database

TEST_DATABASE_URL = os.environ.get("LOYALTY_TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("LOYALTY_TEST_REDIS_URL")
_tmp = Path(tempfile.mkdtemp(prefix="loyalty-tests-"))
DATABASE_URL = TEST_DATABASE_URL or f"sqlite://{_tmp / 'test.sqlite3'}"
ON_POSTGRES = dialect(DATABASE_URL) == "postgres"

pytest_plugins = ["tests.fixtures.factories", "tests.fixtures.graphql"]


def asyncpg_dsn(url: str) -> str:
    """Our postgres:// URL as asyncpg's connect takes it."""
    return url.replace("postgres://", "postgresql://", 1)


async def _reset_postgres(url: str) -> None:
    try:
        conn = await asyncpg.connect(asyncpg_dsn(url), timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        pytest.exit(f"LOYALTY_TEST_DATABASE_URL is set but unreachable: {error}", returncode=3)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


async def _reset_redis(url: str) -> None:
    """The database was just rebuilt, so ids restart: entries from a last run would lie."""
    client = Redis.from_url(url, socket_connect_timeout=3)
    try:
        await client.flushdb()
    except Exception as error:
        pytest.exit(f"LOYALTY_TEST_REDIS_URL is set but unreachable: {error}", returncode=3)
    finally:
        await client.aclose()


@pytest.fixture(scope="session", autouse=True)
async def database() -> object:
    """One migrated database for the session; every test makes its own programme in it."""
    if ON_POSTGRES:
        await _reset_postgres(DATABASE_URL)
    await migrate(DATABASE_URL)
    await open_database(DATABASE_URL)
    yield DATABASE_URL
    await close_database()


@pytest.fixture(scope="session", autouse=True)
async def cache() -> Cache:
    if TEST_REDIS_URL:
        await _reset_redis(TEST_REDIS_URL)
    shared = configure_cache(TEST_REDIS_URL)
    yield shared
    await shared.close()


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        f"loyalty database: {'PostgreSQL' if ON_POSTGRES else 'SQLite (embedded default)'}",
        f"loyalty cache: {'Redis' if TEST_REDIS_URL else 'in-process'}",
    ]


needs_postgres = pytest.mark.skipif(
    not ON_POSTGRES, reason="concurrency and migration checks need PostgreSQL (CI runs them)"
)
needs_redis = pytest.mark.skipif(not TEST_REDIS_URL, reason="needs Redis (CI runs it)")


@pytest.fixture
async def listening():
    """This process subscribed to the invalidation channel, as `loyalty serve` is with Redis:
    keys, programme rows and tiers are then served from its memory."""
    invalidation.start(TEST_REDIS_URL)
    assert await invalidation.until_listening()
    yield
    await invalidation.stop()
