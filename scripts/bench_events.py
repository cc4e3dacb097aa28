"""What writing the outbox row costs recordOrder (issue 15: under 10% of its throughput).

On a scratch PostgreSQL database, 2,000 members; `--connections` workers book orders through
the recordOrder service (the same code the mutation calls, without HTTP and GraphQL, so the
event's share is, if anything, overstated) for `--seconds` per round. Rounds alternate: with
the outbox, and with `services.events.record` replaced by a no-op (the code before it). Each
pair meets the same machine; prints orders/s per round, the medians, and the median of the
per-pair ratios. A script, not a test.

    python scripts/bench_events.py --seconds 5 --rounds 10 --connections 16
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid
from typing import Any

from scratch import scratch_database

from db.connection import close_database, migrate, open_database
from db.models import Event, Member
from domain.auth import Principal, Role
from domain.clock import ProgrammeMode
from domain.points import OrderLine, Payment, PaymentMethod
from services import events as event_service
from services import programmes as programme_service
from services.clock import now_of
from services.points import orders as order_service
from services.points.orders import OrderInput

MEMBERS = 2_000


async def seed() -> tuple[Any, list[str]]:
    programme = await programme_service.create(
        code=f"bench-{uuid.uuid4().hex[:6]}",
        name="Bench",
        currency="CNY",
        timezone="Asia/Shanghai",
        mode=ProgrammeMode.SANDBOX,
    )
    now = now_of(programme)
    await Member.bulk_create(
        [
            Member(
                programme_id=programme.id,
                external_id=f"m{n}",
                display_name=f"Member {n}",
                joined_at=now,
            )
            for n in range(MEMBERS)
        ],
        batch_size=1_000,
    )
    return programme, [f"m{n}" for n in range(MEMBERS)]


async def round_of(
    programme: Any, members: list[str], *, seconds: float, connections: int
) -> tuple[float, float]:
    """(orders per second, this process's CPU milliseconds per order)."""
    principal = Principal(programme_id=programme.id, role=Role.STOREFRONT, key_id=-1)
    placed_at = now_of(programme)
    deadline = time.perf_counter() + seconds
    done = 0

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            data = OrderInput(
                order_ref=uuid.uuid4().hex[:20],
                member_external_id=random.choice(members),
                placed_at=placed_at,
                currency=None,
                lines=[OrderLine("sku-1", "general", 12_900, 1, False)],
                payments=[Payment(PaymentMethod.CARD, 12_900)],
            )
            await order_service.record(principal, data, idempotency_key=uuid.uuid4().hex)
            done += 1

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return done / (time.perf_counter() - started), 1000 * (time.process_time() - cpu) / done


async def main(args: argparse.Namespace) -> None:
    real = event_service.record

    async def no_event(*_: Any, **__: Any) -> uuid.UUID:
        return uuid.uuid4()

    async with scratch_database("loyalty_bench_events", query=f"?maxsize={args.pool}") as url:
        await migrate(url)
        await open_database(url)
        try:
            programme, members = await seed()
            load = {"seconds": args.seconds, "connections": args.connections}
            await round_of(programme, members, seconds=2, connections=args.connections)  # warm
            pairs: list[tuple[float, float]] = []
            cpu: dict[str, list[float]] = {"with": [], "without": []}
            for n in range(args.rounds):
                results: dict[str, float] = {}
                order = ["with", "without"] if n % 2 == 0 else ["without", "with"]
                for variant in order:
                    event_service.record = real if variant == "with" else no_event  # type: ignore[assignment]
                    results[variant], ms = await round_of(programme, members, **load)
                    cpu[variant].append(ms)
                event_service.record = real  # type: ignore[assignment]
                pairs.append((results["with"], results["without"]))
                print(
                    f"round {n + 1}: with outbox {results['with']:.0f} orders/s, "
                    f"without {results['without']:.0f} orders/s, "
                    f"ratio {results['with'] / results['without']:.3f}; CPU ms/order "
                    f"{cpu['with'][-1]:.2f} / {cpu['without'][-1]:.2f}"
                )
            events = await Event.filter(programme_id=programme.id, type="points.earned").count()
        finally:
            await close_database()
    with_median = statistics.median(w for w, _ in pairs)
    without_median = statistics.median(o for _, o in pairs)
    ratio = statistics.median(w / o for w, o in pairs)
    print(
        f"\nrecordOrder (service, {args.connections} concurrent, pool {args.pool}, "
        f"{args.rounds} rounds of {args.seconds} s each way)"
    )
    print(f"with the outbox:    {with_median:.0f} orders/s (median)")
    print(f"without the outbox: {without_median:.0f} orders/s (median)")
    print(
        f"with/without = {ratio:.3f} (median of per-round ratios, range "
        f"{min(w / o for w, o in pairs):.3f}-{max(w / o for w, o in pairs):.3f}); "
        f"cost {100 * (1 - ratio):.1f}% (target < 10%)"
    )
    print(
        f"this process's CPU per order: {statistics.median(cpu['with']):.2f} ms with, "
        f"{statistics.median(cpu['without']):.2f} ms without (medians)"
    )
    print(f"points.earned events written in the 'with' rounds: {events}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pool", type=int, default=10)
    asyncio.run(main(parser.parse_args()))
