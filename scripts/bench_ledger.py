"""Ledger benchmark (a script, not a test): record 10,000 orders, complete them, then make
10,000 redemptions against PostgreSQL at concurrency 32, through the service layer (each
operation is its own idempotent transaction under the member's row lock), and print
transactions per second with p50/p99 latency for each phase.

    make bench-ledger        (LOYALTY_BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres)
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from scratch import scratch_database

from db.connection import close_database, migrate, open_database
from domain.auth import Principal, Role
from domain.clock import ProgrammeMode
from domain.points import DEMO_POLICY, OrderLine, Payment, PaymentMethod
from services import programmes as programme_service
from services.members import ProfileInput, register
from services.points import order_recording, redemption
from services.points import orders as order_service
from services.points.order_recording import OrderInput


async def timed_phase(
    name: str, count: int, concurrency: int, operation: Callable[[int], Awaitable[object]]
) -> None:
    latencies: list[float] = []
    failures = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)

    async def worker() -> None:
        nonlocal failures
        while not queue.empty():
            n = queue.get_nowait()
            started = time.perf_counter()
            try:
                await operation(n)
            except Exception:
                failures += 1
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100)
    print(
        f"{name:<13} {count:>6} ops  {elapsed:7.2f} s  {count / elapsed:8.1f} tx/s  "
        f"p50 {quantiles[49] * 1000:6.1f} ms  p99 {quantiles[98] * 1000:6.1f} ms  "
        f"failed {failures}"
    )


async def main(orders: int, redemptions: int, concurrency: int, members: int) -> None:
    async with scratch_database("loyalty_bench", query=f"?maxsize={concurrency}") as url:
        await migrate(url)
        await open_database(url)
        programme = await programme_service.create(
            code="bench",
            name="Bench",
            currency="CNY",
            timezone="Asia/Shanghai",
            mode=ProgrammeMode.LIVE,
            points_policy=DEMO_POLICY,
        )
        staff = Principal(programme_id=programme.id, role=Role.STOREFRONT, key_id=1)
        ids = [f"m{n}" for n in range(members)]
        for external_id in ids:
            await register(
                staff,
                external_id=external_id,
                idempotency_key=f"reg-{external_id}",
                profile=ProfileInput(display_name=external_id),
            )
        rng = random.Random(7)
        now = datetime.now(UTC)

        async def record(n: int) -> object:
            lines = [
                OrderLine("sku-a", "general", rng.randrange(1_000, 50_000), 2, False),
                OrderLine("sku-b", "appliances", 9_900, 1, True),
            ]
            total = sum(line.amount for line in lines)
            data = OrderInput(
                f"o{n}", ids[n % members], now, "CNY", lines, [Payment(PaymentMethod.CARD, total)]
            )
            return await order_recording.record(staff, data, idempotency_key=f"rec-{n}")

        async def complete(n: int) -> object:
            return await order_service.complete(staff, f"o{n}", idempotency_key=f"done-{n}")

        async def redeem(n: int) -> object:
            return await redemption.redeem(
                staff,
                member_external_id=ids[n % members],
                amount=rng.randrange(1, 40),
                reason="bench reward",
                reward=None,
                idempotency_key=f"red-{n}",
            )

        print(f"PostgreSQL, concurrency {concurrency}, {members} members, pool {concurrency}")
        await timed_phase("recordOrder", orders, concurrency, record)
        await timed_phase("completeOrder", orders, concurrency, complete)
        await timed_phase("redeemPoints", redemptions, concurrency, redeem)
        await close_database()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--redemptions", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--members", type=int, default=1_000)
    args = parser.parse_args()
    asyncio.run(main(args.orders, args.redemptions, args.concurrency, args.members))
