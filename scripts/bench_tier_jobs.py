"""How long `loyalty run-jobs` takes to judge 100,000 members (or --members N) whose tier
validity has ended (a script, not a test). Builds a scratch PostgreSQL database: a programme
with the Vancl ladder, N VIP members whose period ended yesterday, half of whom bought enough
in the period to keep VIP; then times one run of the jobs and a second (which finds nothing).

    .venv/bin/python scripts/bench_tier_jobs.py [--members 100000] [--expiring N] [--maturing N]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta

from scratch import scratch_database
from tortoise import connections

from db.connection import close_database, migrate, open_database
from db.models import Member
from domain.auth import Principal, Role
from domain.clock import ProgrammeMode
from domain.points import DEMO_POLICY
from domain.tiers import TierDraft
from services import programmes as programme_service
from services import tiers as tier_service
from services.jobs import run_all


async def main(count: int, expiring: int, maturing: int) -> None:
    async with scratch_database("loyalty_tierbench", query="") as url:
        await migrate(url)
        await open_database(url)
        programme = await programme_service.create(
            code="tiers",
            name="Tiers",
            currency="CNY",
            timezone="Asia/Shanghai",
            mode=ProgrammeMode.LIVE,
            points_policy=DEMO_POLICY,
        )
        principal = Principal(programme_id=programme.id, role=Role.ADMIN, key_id=1)
        ladder = [("NORMAL", 0, None), ("VIP", 200_000, 100_000), ("SVIP", 250_000, 250_000)]
        for rank, (code, entry, retain) in enumerate(ladder):
            await tier_service.upsert_tier(
                principal, TierDraft(code, code, rank, entry, retain), idempotency_key=code
            )
        programme.tier_policy = {
            "window": "VALIDITY",
            "validity_months": 12,
            "reset_on_change": True,
        }
        await programme.save(update_fields=["tier_policy"])
        tiers = {t.code: t for t in await tier_service.programme_tiers(principal)}
        now = datetime.now(UTC)
        since, ended = now - timedelta(days=366), now - timedelta(days=1)
        # Seeded set-wise (generate_series), so 100,000 members take seconds, not minutes.
        db = connections.get("default")
        await db.execute_query(
            """
            INSERT INTO members (programme_id, external_id, display_name, joined_at, tier_id,
                tier_since, tier_period_start, tier_valid_until, consent_marketing,
                consent_profiling, tier_event_id, points_available, points_pending,
                points_held, points_shortfall, qualifying_spend, event_seq)
            SELECT $1, 'm' || n, 'm' || n, $2, $3, $4, $4, $5, false, false, 0, 0, 0, 0, 0, 0, 0
              FROM generate_series(0, $6 - 1) AS n
            """,
            [programme.id, since - timedelta(days=30), tiers["VIP"].id, since, ended, count],
        )
        await db.execute_query(
            """
            INSERT INTO tier_changes (programme_id, member_id, from_tier_id, to_tier_id, reason,
                qualifying_total, last_event_id, at)
            SELECT $1, id, $2, $3, 'ORDER_COMPLETED', 200000, 0, $4
              FROM members WHERE programme_id = $1
            """,
            [programme.id, tiers["NORMAL"].id, tiers["VIP"].id, since],
        )
        await db.execute_query(
            """
            INSERT INTO qualifying_events (programme_id, member_id, at, booked_at, spend,
                orders, growth, reference)
            SELECT $1, id, $2, $2, CASE WHEN id % 2 = 1 THEN 150000 ELSE 50000 END, 1, 0,
                   'o' || id
              FROM members WHERE programme_id = $1
            """,
            [programme.id, since + timedelta(days=10)],
        )
        if expiring:
            # The first `expiring` members also hold 100 points that expired yesterday: they
            # are caught up member by member (expiry, then their period), as orders are.
            await db.execute_query(
                """
                WITH chosen AS (
                    SELECT id FROM members WHERE programme_id = $1 ORDER BY id LIMIT $3
                ), earned AS (
                    INSERT INTO point_transactions (programme_id, member_id, kind, bucket,
                        amount, available_after, pending_after, reference_type, reference,
                        reason, actor, shortfall, created_at)
                    SELECT $1, id, 'EARN', 'AVAILABLE', 100, 100, 0, 'ADJUSTMENT', 'seed',
                           'seed', 'bench', 0, $2::timestamptz - interval '400 days' FROM chosen
                    RETURNING id, member_id
                ), lots AS (
                    INSERT INTO point_lots (programme_id, member_id, source_id, amount,
                        remaining, earned_at, expires_at)
                    SELECT $1, member_id, id, 100, 100, $2::timestamptz - interval '400 days',
                           $2::timestamptz - interval '1 day' FROM earned
                )
                UPDATE members SET points_available = 100,
                       expiry_due_at = $2::timestamptz - interval '1 day'
                 WHERE id IN (SELECT id FROM chosen)
                """,
                [programme.id, now, expiring],
            )
        if maturing:
            # The last `maturing` members also have an order (1,000 points, CNY 1,000) whose
            # return window closed three days ago, inside their period: it completes first
            # (points available, its spend counted, half of them upgraded to SVIP), then the
            # period is judged.
            await db.execute_query(
                """
                WITH chosen AS (
                    SELECT id FROM members WHERE programme_id = $1 ORDER BY id DESC LIMIT $3
                ), placed AS (
                    INSERT INTO orders (programme_id, member_id, order_ref, status, currency,
                        placed_at, recorded_at, matures_at, amount, returned_amount,
                        paid_with_points, points, points_reversed)
                    SELECT $1, id, 'mo' || id, 'PENDING', 'CNY',
                           $2::timestamptz - interval '33 days',
                           $2::timestamptz - interval '33 days',
                           $2::timestamptz - interval '3 days', 100000, 0, 0, 1000, 0
                      FROM chosen
                    RETURNING member_id
                ), earned AS (
                    INSERT INTO point_transactions (programme_id, member_id, kind, bucket,
                        amount, available_after, pending_after, reference_type, reference,
                        reason, actor, shortfall, created_at)
                    SELECT $1, member_id, 'EARN', 'PENDING', 1000, 0, 1000, 'ORDER',
                           'mo' || member_id, 'order placed', 'bench', 0,
                           $2::timestamptz - interval '33 days' FROM placed
                )
                UPDATE members SET points_pending = 1000 WHERE id IN (SELECT id FROM chosen)
                """,
                [programme.id, now, maturing],
            )
        await db.execute_query("ANALYZE")
        started = time.perf_counter()
        report = await run_all()
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = await run_all()
        second = time.perf_counter() - started
        kept = await Member.filter(programme_id=programme.id, tier_id=tiers["VIP"].id).count()
        print(
            f"members judged: {report.tier_periods_ended}, moved: {report.tier_changes}, "
            f"kept VIP: {kept}; first run {first:.2f} s ({count / first:.0f} members/s); "
            f"second run {second:.2f} s judging {again.tier_periods_ended}; "
            f"points expired for {report.members_expired} members; "
            f"orders matured {report.orders_matured}"
        )
        await close_database()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument(
        "--expiring",
        type=int,
        default=0,
        help="how many of the members also have points past their expiry (default none)",
    )
    parser.add_argument(
        "--maturing",
        type=int,
        default=0,
        help="how many of the members (the last ones) also have an order past its return "
        "window (default none)",
    )
    args = parser.parse_args()
    asyncio.run(main(args.members, args.expiring, args.maturing))
