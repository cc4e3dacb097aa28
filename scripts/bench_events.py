"""What writing the outbox row costs recordOrder (issue 15: under 10% of its throughput).

On a scratch PostgreSQL database, 2,000 members; `--connections` workers book orders through
the recordOrder service (the same code the mutation calls, without HTTP and GraphQL, so the
event's share is, if anything, overstated) for `--seconds` per round. Rounds alternate: with
the outbox, and without it (`outbox(False)`: the code before it, no event and the balances saved
alone). Each
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
from db.repositories import points as points_repo
from domain.auth import Principal, Role
from domain.clock import ProgrammeMode
from domain.points import OrderLine, Payment, PaymentMethod
from services import events as event_service
from services import programmes as programme_service
from services.clock import now_of
from services.points import ledger
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


REAL = (event_service.record, ledger._save)


async def _no_event(*_: Any, **__: Any) -> uuid.UUID:
    return uuid.uuid4()


async def _balances_only(member: Any, told: Any) -> None:
    await points_repo.save_balances(member)  # what the ledger did before the outbox


def outbox(on: bool) -> None:
    """Switch the outbox on, or back to the code before it (no event, balances saved alone)."""
    event_service.record, ledger._save = REAL if on else (_no_event, _balances_only)  # type: ignore[assignment]


async def alternating(programme: Any, members: list[str], *, orders: int) -> dict[str, list[float]]:
    """One order at a time, the outbox on for every other one: both variants meet the same
    machine, order by order, however the load around them drifts. Milliseconds each."""
    principal = Principal(programme_id=programme.id, role=Role.STOREFRONT, key_id=-1)
    placed_at = now_of(programme)
    took: dict[str, list[float]] = {"with": [], "without": []}
    for n in range(orders):
        variant = "with" if n % 2 == 0 else "without"
        outbox(variant == "with")
        data = OrderInput(
            order_ref=uuid.uuid4().hex[:20],
            member_external_id=random.choice(members),
            placed_at=placed_at,
            currency=None,
            lines=[OrderLine("sku-1", "general", 12_900, 1, False)],
            payments=[Payment(PaymentMethod.CARD, 12_900)],
        )
        started = time.perf_counter()
        await order_service.record(principal, data, idempotency_key=uuid.uuid4().hex)
        took[variant].append(1000 * (time.perf_counter() - started))
    outbox(True)
    return took


async def main(args: argparse.Namespace) -> None:
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
                    outbox(variant == "with")
                    results[variant], ms = await round_of(programme, members, **load)
                    cpu[variant].append(ms)
                outbox(True)
                pairs.append((results["with"], results["without"]))
                print(
                    f"round {n + 1}: with outbox {results['with']:.0f} orders/s, "
                    f"without {results['without']:.0f} orders/s, "
                    f"ratio {results['with'] / results['without']:.3f}; CPU ms/order "
                    f"{cpu['with'][-1]:.2f} / {cpu['without'][-1]:.2f}"
                )
            took = await alternating(programme, members, orders=args.alternating)
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
    q = {v: statistics.quantiles(took[v], n=10) for v in took}
    with_ms, without_ms = statistics.median(took["with"]), statistics.median(took["without"])
    print(f"\none order at a time, outbox on for every other order ({args.alternating} orders):")
    for variant in ("with", "without"):
        print(
            f"  {variant:>7} the outbox: median {statistics.median(took[variant]):.2f} ms, "
            f"p10 {q[variant][0]:.2f}, p90 {q[variant][-1]:.2f}"
        )
    print(
        f"  the outbox adds {with_ms - without_ms:.2f} ms of {without_ms:.2f} ms "
        f"({100 * (with_ms - without_ms) / without_ms:.1f}% of a recordOrder's latency)"
    )
    print(f"points.earned events written in the 'with' rounds: {events}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pool", type=int, default=10)
    parser.add_argument("--alternating", type=int, default=4_000, help="orders, one at a time")
    asyncio.run(main(parser.parse_args()))
