"""What exporting a member with 100,000 ledger rows costs: time, document size, and the peak
of memory Python allocated while streaming it (tracemalloc), against the document's size —
the export streams, so the peak should be a batch, not the document. A script, not a test.

    .venv/bin/python scripts/bench_member_export.py [--rows 100000]   (LOYALTY_BENCH_PG_URL)
"""

from __future__ import annotations

import argparse
import asyncio
import time
import tracemalloc
from datetime import UTC, datetime

from scratch import scratch_database

from db.connection import close_database, migrate, open_database
from db.models import Member, PointTransaction
from domain.clock import ProgrammeMode
from services import privacy_export
from services import programmes as programme_service


async def run(rows: int) -> None:
    async with scratch_database("loyalty_bench_export") as url:
        await migrate(url)
        await open_database(url)
        try:
            programme = await programme_service.create(
                code="bench", name="Bench", currency="CNY", timezone="UTC",
                mode=ProgrammeMode.SANDBOX,
            )  # fmt: skip
            member = await Member.create(
                programme_id=programme.id, external_id="m-1", display_name="M",
                joined_at=datetime.now(UTC),
            )  # fmt: skip
            now = datetime.now(UTC)
            await PointTransaction.bulk_create(
                [
                    PointTransaction(
                        programme_id=programme.id,
                        member_id=member.id,
                        kind="EARN",
                        bucket="AVAILABLE",
                        amount=1,
                        available_after=n + 1,
                        pending_after=0,
                        reference_type="ORDER",
                        reference=f"order-{n}",
                        reason="bench",
                        actor="key:1",
                        created_at=now,
                    )
                    for n in range(rows)
                ],
                batch_size=5_000,
            )
            tracemalloc.start()
            started = time.perf_counter()
            size = pieces = 0
            async for chunk in privacy_export.stream(programme.id, member.id):
                size += len(chunk)
                pieces += 1
            seconds = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(
                f"{rows} ledger rows: {size / 1e6:.1f} MB of JSON in {pieces} pieces, "
                f"{seconds:.2f} s ({rows / seconds:,.0f} rows/s); "
                f"peak Python memory while streaming {peak / 1e6:.1f} MB "
                f"({peak / size:.1%} of the document)"
            )
        finally:
            await close_database()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    asyncio.run(run(parser.parse_args().rows))


if __name__ == "__main__":
    main()
