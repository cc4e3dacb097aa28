"""Migration 15 (the insights rollups) on a database that already has a ledger: its backfill
makes the rollups the trigger would have kept row by row, and a programme in a zone PostgreSQL
reads as a fixed offset stops it with nothing applied (PostgreSQL only)."""

from __future__ import annotations

import importlib.util
import os
import random
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from tests.conftest import DATABASE_URL, asyncpg_dsn, needs_postgres

pytestmark = needs_postgres

MIGRATIONS = Path(__file__).resolve().parents[2] / "db" / "migrations" / "models"
ZONES = ("Asia/Shanghai", "America/New_York")
MEMBERS = 30
KINDS = ("EARN", "REDEEM", "TRANSFER_OUT", "TRANSFER_IN", "EXPIRE", "ADJUST")
BUCKETS = ("AVAILABLE", "AVAILABLE", "PENDING", "HELD")
REFERENCES = ("ORDER", "CHECK_IN", "ADMIN")
ACTIVITY = "SELECT programme_id, period, starts, member_id FROM member_activity ORDER BY 1, 2, 3, 4"
# the appended sums folded as the jobs fold them: one per day, kind, reference type and sign
DAY_SUMS = """
SELECT programme_id, day, kind, reference_type, credit, SUM(points)::bigint
FROM ledger_day_sums GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
"""


def _migration_15() -> object:
    path = next(MIGRATIONS.glob("15_*.py"))
    spec = importlib.util.spec_from_file_location("migration_15", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _migrate(url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOYALTY_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
async def scratch() -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    """A scratch database migrated to the newest migration, and a connection to it."""
    base = DATABASE_URL.rsplit("/", 1)[0]
    name = f"loyalty_mig15_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(asyncpg_dsn(DATABASE_URL))
    conn = None
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = f"{base}/{name}"
        done = _migrate(url)
        assert done.returncode == 0, done.stderr
        conn = await asyncpg.connect(asyncpg_dsn(url))
        yield url, conn
    finally:
        if conn is not None:
            await conn.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _ledger(conn: asyncpg.Connection) -> None:
    """Two programmes in different zones, 30 members each, and 300 ledger rows of every kind
    and bucket, within three hours of a local midnight, around a new year: sparse enough that
    many member-days have only rows that are not activity."""
    draw = random.Random(15)
    for n, zone in enumerate(ZONES, start=1):
        await conn.execute(
            "INSERT INTO programmes (id, code, name, currency, timezone, mode, created_at) "
            "VALUES ($1, $2, $2, 'CNY', $3, 'LIVE', now())",
            n,
            f"p{n}",
            zone,
        )
        for m in range(MEMBERS):
            await conn.execute(
                "INSERT INTO members (id, programme_id, external_id, display_name, joined_at, "
                "consent_marketing, consent_profiling, points_available, points_held, "
                "points_pending, points_shortfall, qualifying_spend, tier_event_id) "
                "VALUES ($1, $2, $3, '', now(), false, false, 0, 0, 0, 0, 0, 0)",
                n * 100 + m,
                n,
                f"m{m}",
            )
    for _ in range(300):
        n = draw.choice((1, 2))
        midnight = datetime(2026, 12, 29, tzinfo=ZoneInfo(ZONES[n - 1]))
        at = midnight + timedelta(days=draw.randint(0, 6), minutes=draw.randint(-180, 180))
        kind = draw.choice(KINDS)
        amount = draw.randint(1, 500) * (-1 if kind in ("REDEEM", "TRANSFER_OUT", "EXPIRE") else 1)
        if kind == "ADJUST" and draw.random() < 0.5:
            amount = -amount
        await conn.execute(
            "INSERT INTO point_transactions (programme_id, member_id, kind, bucket, amount, "
            "available_after, pending_after, reference_type, reference, reason, actor, "
            "shortfall, created_at) VALUES ($1, $2, $3, $4, $5, 0, 0, $6, 'r', '', 'test', 0, $7)",
            n,
            n * 100 + draw.randrange(MEMBERS),
            kind,
            draw.choice(BUCKETS),
            amount,
            draw.choice(REFERENCES),
            at,
        )


async def _rollups(conn: asyncpg.Connection) -> tuple[list[tuple], list[tuple]]:
    return (
        [tuple(r) for r in await conn.fetch(ACTIVITY)],
        [tuple(r) for r in await conn.fetch(DAY_SUMS)],
    )


async def _undo_15(conn: asyncpg.Connection) -> None:
    """Migration 15 undone, as if the database had stopped at 14. (Were a later migration to
    depend on its tables, undo that one first.)"""
    await conn.execute(_migration_15().DOWNGRADE["postgres"])  # type: ignore[attr-defined]
    await conn.execute("DELETE FROM aerich WHERE version LIKE '15\\_%'")


async def test_the_backfill_makes_the_rollups_the_trigger_keeps(scratch):
    url, conn = scratch
    # given a ledger written with the trigger in place
    await _ledger(conn)
    kept = await _rollups(conn)
    assert {row[0] for row in kept[0]} == {1, 2} and {row[1] for row in kept[0]} == set("DWMY")
    assert {row[0] for row in kept[1]} == {1, 2}
    # when migration 15 is undone and applied again to the ledger already there
    await _undo_15(conn)
    assert await conn.fetchval("SELECT to_regclass('member_activity')") is None
    done = _migrate(url)
    assert done.returncode == 0, done.stderr
    assert "15_" in done.stdout
    # then its backfill made exactly the rollups the trigger had kept
    assert await _rollups(conn) == kept


async def test_a_programme_in_a_fixed_offset_zone_stops_the_migration(scratch):
    url, conn = scratch
    await _ledger(conn)
    await _undo_15(conn)
    await conn.execute("UPDATE programmes SET timezone = 'CET' WHERE id = 2")
    # when migrating
    refused = _migrate(url)
    # then it fails naming the zone, and nothing of migration 15 is there
    assert refused.returncode != 0
    assert "which PostgreSQL reads as a fixed offset" in refused.stdout + refused.stderr
    assert await conn.fetchval("SELECT to_regclass('member_activity')") is None
    assert await conn.fetchval("SELECT to_regclass('ledger_day_sums')") is None
    assert await conn.fetchval("SELECT COUNT(*) FROM aerich WHERE version LIKE '15\\_%'") == 0
    # and with the zone set to a city's, it goes through
    await conn.execute("UPDATE programmes SET timezone = 'Europe/Paris' WHERE id = 2")
    done = _migrate(url)
    assert done.returncode == 0, done.stderr
    assert await conn.fetchval("SELECT COUNT(*) FROM member_activity WHERE programme_id = 2") > 0
