"""How long `loyalty run-jobs` takes to judge 10,000 members whose tier validity has ended
(a script, not a test). Builds a scratch PostgreSQL database: a programme with the Vancl
ladder, 10,000 VIP members whose period ended yesterday, half of whom bought enough in the
period to keep VIP; then times one run of the jobs and a second (which finds nothing).

    .venv/bin/python scripts/bench_tier_jobs.py [--members 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta

from scratch import scratch_database

from db.connection import close_database, migrate, open_database
from db.models import Member, QualifyingEvent, TierChange
from domain.auth import Principal, Role
from domain.clock import ProgrammeMode
from domain.points import DEMO_POLICY
from domain.tiers import TierDraft
from services import programmes as programme_service
from services import tiers as tier_service
from services.jobs import run_all


async def main(count: int) -> None:
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
        members = [
            Member(
                programme_id=programme.id,
                external_id=f"m{n}",
                display_name=f"m{n}",
                joined_at=since - timedelta(days=30),
                tier_id=tiers["VIP"].id,
                tier_since=since,
                tier_period_start=since,
                tier_valid_until=ended,
            )
            for n in range(count)
        ]
        await Member.bulk_create(members, batch_size=1000)
        ids = [m["id"] for m in await Member.filter(programme_id=programme.id).values("id")]
        await TierChange.bulk_create(
            [
                TierChange(
                    programme_id=programme.id,
                    member_id=i,
                    from_tier_id=tiers["NORMAL"].id,
                    to_tier_id=tiers["VIP"].id,
                    reason="ORDER_COMPLETED",
                    qualifying_total=200_000,
                    at=since,
                )
                for i in ids
            ],
            batch_size=1000,
        )
        await QualifyingEvent.bulk_create(
            [
                QualifyingEvent(
                    programme_id=programme.id,
                    member_id=i,
                    at=since + timedelta(days=10),
                    booked_at=since + timedelta(days=10),
                    spend=150_000 if i % 2 else 50_000,
                    orders=1,
                    growth=0,
                    reference=f"o{i}",
                )
                for i in ids
            ],
            batch_size=1000,
        )
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
            f"second run {second:.2f} s judging {again.tier_periods_ended}"
        )
        await close_database()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().members))
