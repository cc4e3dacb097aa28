"""How long programmeInsights takes for a year on PostgreSQL (a script, not a test): 100,000
members and 1,000,000 ledger rows spread over the year (plus 200,000 orders, 20,000 tier
changes and a segment for every member), seeded set-wise with generate_series; then the
insights for the year at MONTH and DAY granularity, timed through the service (every
statement and the assembly; not the HTTP layer), a few runs each.

    .venv/bin/python scripts/bench_insights.py [--members N] [--rows N] [--runs N] [--explain]
        [--reuse  (with LOYALTY_BENCH_INSIGHTS_DB: time what an earlier run seeded there)]

The database: LOYALTY_BENCH_INSIGHTS_DB names one on the bench server (created when missing,
kept afterwards; each run adds a programme of its own); by default a scratch database is made
and dropped (scripts/scratch.py, server from LOYALTY_BENCH_PG_URL)."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
from scratch import ADMIN_URL, scratch_database
from tortoise import connections

from db.connection import close_database, migrate, open_database
from db.sql import insights_texts as texts
from db.sql.insights import numbered
from db.sql.insights_rollup import fold_ledger_days
from domain.auth import Principal, Role
from domain.clock import ProgrammeMode
from domain.insights import check_range
from domain.points import DEMO_POLICY
from domain.tiers import TierDraft
from services import insights
from services import programmes as programme_service
from services import tiers as tier_service

YEAR_FIRST, YEAR_LAST = date(2026, 1, 1), date(2026, 12, 31)
SHANGHAI_MIDNIGHT = datetime(2025, 12, 31, 16, tzinfo=UTC)  # 2026-01-01 00:00 in Shanghai


@asynccontextmanager
async def bench_database() -> AsyncIterator[str]:
    name = os.environ.get("LOYALTY_BENCH_INSIGHTS_DB")
    if not name:
        async with scratch_database("loyalty_insightsbench") as url:
            yield url
        return
    admin = await asyncpg.connect(ADMIN_URL.replace("postgres://", "postgresql://", 1))
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}"


async def seed(members: int, rows: int) -> Principal:
    stamp = int(time.time())
    programme = await programme_service.create(
        code=f"insights-{stamp}",
        name="Insights bench",
        currency="CNY",
        timezone="Asia/Shanghai",
        mode=ProgrammeMode.LIVE,
        points_policy=DEMO_POLICY,
    )
    principal = Principal(programme_id=programme.id, role=Role.ADMIN, key_id=1)
    for rank, (code, entry) in enumerate([("BRONZE", 0), ("SILVER", 10_000), ("GOLD", 50_000)]):
        await tier_service.upsert_tier(
            principal, TierDraft(code, code, rank, entry, None), idempotency_key=code
        )
    tiers = [t.id for t in await tier_service.programme_tiers(principal)]
    db = connections.get("default")
    p, t0 = programme.id, SHANGHAI_MIDNIGHT
    year = timedelta(days=365)
    started = time.perf_counter()
    # members joined over the two years up to the end of this one; a third in each tier
    await db.execute_query(
        "INSERT INTO members (programme_id, external_id, display_name, joined_at, tier_id, "
        "consent_marketing, consent_profiling, tier_event_id, points_available, "
        "points_pending, points_held, points_shortfall, qualifying_spend, event_seq) "
        "SELECT $1, 'm' || n, 'm' || n, $2::timestamptz + (n * $3::interval / $4), "
        "($5::int[])[1 + n % 3], false, false, 0, n % 500, n % 50, 0, 0, 0, 0 "
        "FROM generate_series(0, $4 - 1) AS n",
        [p, t0 - year, 2 * year, members, tiers],
    )
    found = await db.execute_query_dict(
        "SELECT min(id) AS id FROM members WHERE programme_id = $1", [p]
    )
    first = found[0]["id"]
    # the ledger: by n % 10 orders earned (available, pending), check-ins, reviews, campaigns,
    # rewards, coupons, checkout, expiry and a return's take-back
    await db.execute_query(
        "INSERT INTO point_transactions (programme_id, member_id, kind, bucket, amount, "
        "available_after, pending_after, reference_type, reference, reason, actor, shortfall, "
        "created_at) "
        "SELECT $1, $2 + (n::bigint * 7919) % $3, k.kind, k.bucket, k.amount, 0, 0, k.ref, '', "
        "'bench', 'bench', 0, $4::timestamptz + (n * $5::interval / $6) "
        "FROM generate_series(0, $6 - 1) AS n JOIN (VALUES "
        "(0, 'EARN', 'AVAILABLE', 200, 'ORDER'), (1, 'EARN', 'PENDING', 200, 'ORDER'), "
        "(2, 'EARN', 'AVAILABLE', 5, 'CHECK_IN'), (3, 'EARN', 'AVAILABLE', 10, 'REVIEW'), "
        "(4, 'EARN', 'AVAILABLE', 50, 'CAMPAIGN'), (5, 'REDEEM', 'AVAILABLE', -300, 'REWARD'), "
        "(6, 'REDEEM', 'AVAILABLE', -100, 'COUPON'), (7, 'REDEEM', 'AVAILABLE', -150, 'ORDER'), "
        "(8, 'EXPIRE', 'AVAILABLE', -40, 'EXPIRY'), (9, 'REVERSE', 'AVAILABLE', -100, 'ORDER')"
        ") AS k(i, kind, bucket, amount, ref) ON k.i = n % 10",
        [p, first, members, t0, year, rows],
    )
    orders = rows // 5
    await db.execute_query(
        "INSERT INTO orders (programme_id, member_id, order_ref, status, currency, placed_at, "
        "recorded_at, matures_at, completed_at, amount, returned_amount, paid_with_points, "
        "points, points_reversed, channel) "
        "SELECT $1, $2 + (n::bigint * 104729) % $3, 'o' || n, "
        "CASE WHEN n % 20 = 0 THEN 'CANCELLED' ELSE 'COMPLETED' END, 'CNY', at, at, "
        "at + interval '30 days', at + interval '30 days', 1000 + n % 50000, 0, 0, 20, 0, "
        "'ONLINE' FROM (SELECT n, $4::timestamptz + (n * $5::interval / $6) AS at "
        "FROM generate_series(0, $6 - 1) AS n) s",
        [p, first, members, t0, year, orders],
    )
    await db.execute_query(
        "INSERT INTO tier_changes (programme_id, member_id, from_tier_id, to_tier_id, reason, "
        "qualifying_total, last_event_id, at) "
        "SELECT $1, $2 + (n * 31) % $3, ($4::int[])[1 + n % 2], ($4::int[])[2 - n % 2], "
        "'ORDER_COMPLETED', 0, 0, $5::timestamptz + (n * $6::interval / $7) "
        "FROM generate_series(0, $7 - 1) AS n",
        [p, first, members, tiers, t0, year, members // 5],
    )
    await db.execute_query(
        "INSERT INTO member_segments (member_id, programme_id, recency_days, frequency, "
        "monetary, recency_score, frequency_score, monetary_score, lifecycle, computed_at) "
        "SELECT id, programme_id, 10, 1, 100, 3, 3, 3, "
        "(ARRAY['NEW', 'ACTIVE', 'INTERMITTENT', 'AT_RISK', 'INACTIVE'])[1 + id % 5], now() "
        "FROM members WHERE programme_id = $1",
        [p],
    )
    await db.execute_query("VACUUM ANALYZE")
    print(
        f"seeded {members:,} members, {rows:,} ledger rows, {orders:,} orders, "
        f"{members // 5:,} tier changes in {time.perf_counter() - started:.1f} s"
    )
    return principal


async def explain(principal: Principal) -> None:
    """The plans of the costliest statements for the year by day (long lines cut)."""
    zone = ZoneInfo("Asia/Shanghai")
    span = check_range(YEAR_FIRST, YEAR_LAST, "DAY", zone)
    db = connections.get("default")
    p, start, end = principal.programme_id, span.starts, span.ends
    for name, text, params in (
        ("ledger", texts.LEDGER_DAYS_PG, [p, YEAR_FIRST, YEAR_LAST]),
        ("active", texts.ACTIVE_ROLLUP_PG, [p, "D", YEAR_FIRST, YEAR_LAST, p, [], [], []]),
        ("active_members", texts.ACTIVE_MEMBERS_PG, [p, [YEAR_FIRST], [], []]),
        ("members", texts.MEMBERS, [end, end, start, end, end, p, end, p, end, p]),
    ):
        sql = numbered(text, postgres=True)
        rows = await db.execute_query_dict(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}", params)
        print(f"--- {name}")
        for row in rows:
            line = row["QUERY PLAN"]
            print("   ", line if len(line) < 160 else line[:157] + "...")


async def seeded() -> Principal:
    """The last programme a run seeded in the named database (--reuse)."""
    found = await connections.get("default").execute_query_dict(
        "SELECT max(id) AS id FROM programmes WHERE code LIKE 'insights-%'"
    )
    if found[0]["id"] is None:
        raise SystemExit("--reuse: no seeded programme in this database")
    return Principal(programme_id=found[0]["id"], role=Role.ADMIN, key_id=1)


async def main(members: int, rows: int, runs: int, show_plans: bool, reuse: bool) -> None:
    async with bench_database() as url:
        await migrate(url)
        await open_database(url)
        try:
            principal = await (seeded() if reuse else seed(members, rows))
            started = time.perf_counter()
            folded = await fold_ledger_days(principal.programme_id)
            await connections.get("default").execute_query("VACUUM ANALYZE ledger_day_sums")
            print(
                f"the jobs' fold of the ledger's day sums: {folded:,} rows folded away in "
                f"{time.perf_counter() - started:.1f} s"
            )
            if show_plans:
                await explain(principal)
            for granularity in ("MONTH", "DAY"):
                times = []
                for _ in range(runs):
                    started = time.perf_counter()
                    found = await insights.programme_insights(
                        principal, YEAR_FIRST, YEAR_LAST, granularity
                    )
                    times.append(time.perf_counter() - started)
                print(
                    f"programmeInsights {YEAR_FIRST}..{YEAR_LAST} {granularity}: "
                    f"first {times[0] * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} "
                    f"ms, best {min(times) * 1000:.0f} ms over {runs} runs "
                    f"({len(found.series)} buckets, earned {found.points.earned:,}, "
                    f"active {found.members.active:,})"
                )
        finally:
            await close_database()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="print the ledger plans")
    parser.add_argument(
        "--reuse", action="store_true", help="time the last seeded programme of the named db"
    )
    args = parser.parse_args()
    asyncio.run(main(args.members, args.rows, args.runs, args.explain, args.reuse))
