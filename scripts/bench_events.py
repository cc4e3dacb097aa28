"""What writing the outbox row costs recordOrder (issue 15: under 10% of its throughput).

On a scratch PostgreSQL database with 2,000 members, orders are booked through the recordOrder
service (the code the mutation calls, without HTTP and GraphQL, so the event's share is, if
anything, overstated). The outbox is switched on, or off (the code before it: no event, the
balances saved alone). This box is shared and its speed drifts within seconds, so:

  1. throughput: `--connections` concurrent workers, rounds of `--seconds` alternating with
     and without the outbox, `--pairs` pairs; orders/s and the median of per-pair ratios
     (noisy here: read the range);
  2. per order: one order at a time, the outbox on for every other order (`--alternating`),
     so both variants meet the same moment; wall time and this process's CPU time per order.
     When the server's Python is what limits throughput (as in `make bench`), the CPU ratio
     is the throughput ratio.

A script, not a test.

    python scripts/bench_events.py --seconds 3 --pairs 12 --connections 16 --alternating 4000
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
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
from services import programmes as programme_service
from services.clock import now_of
from services.points import ledger, order_recording
from services.points.order_recording import OrderInput

MEMBERS = 2_000
OUTBOX = contextvars.ContextVar("outbox", default=True)
_with_outbox = ledger._save


async def _switched_save(member: Any, told: Any) -> None:
    if OUTBOX.get():
        await _with_outbox(member, told)
    else:
        await points_repo.save_balances(member)  # what the ledger did before the outbox


ledger._save = _switched_save  # type: ignore[assignment]


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


async def book(programme: Any, members: list[str]) -> None:
    data = OrderInput(
        order_ref=uuid.uuid4().hex[:20],
        member_external_id=random.choice(members),
        placed_at=now_of(programme),
        currency=None,
        lines=[OrderLine("sku-1", "general", 12_900, 1, False)],
        payments=[Payment(PaymentMethod.CARD, 12_900)],
    )
    principal = Principal(programme_id=programme.id, role=Role.STOREFRONT, key_id=-1)
    await order_recording.record(principal, data, idempotency_key=uuid.uuid4().hex)


async def round_of(
    programme: Any, members: list[str], *, seconds: float, connections: int
) -> float:
    deadline = time.perf_counter() + seconds
    done = 0

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await book(programme, members)
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return done / (time.perf_counter() - started)


async def alternating(
    programme: Any, members: list[str], *, orders: int
) -> dict[bool, tuple[list[float], list[float]]]:
    """One order at a time, the outbox on for every other one: (wall ms, CPU ms) each."""
    took: dict[bool, tuple[list[float], list[float]]] = {True: ([], []), False: ([], [])}
    for n in range(orders):
        outbox = n % 2 == 0
        OUTBOX.set(outbox)
        started, cpu = time.perf_counter(), time.process_time()
        await book(programme, members)
        took[outbox][0].append(1000 * (time.perf_counter() - started))
        took[outbox][1].append(1000 * (time.process_time() - cpu))
    OUTBOX.set(True)
    return took


async def main(args: argparse.Namespace) -> None:
    async with scratch_database("loyalty_bench_events", query=f"?maxsize={args.pool}") as url:
        await migrate(url)
        await open_database(url)
        try:
            programme, members = await seed()
            load = {"seconds": args.seconds, "connections": args.connections}
            await round_of(programme, members, seconds=2, connections=args.connections)
            pairs = []
            for n in range(args.pairs):
                rates = {}
                for outbox in (True, False) if n % 2 == 0 else (False, True):
                    OUTBOX.set(outbox)
                    rates[outbox] = await round_of(programme, members, **load)
                OUTBOX.set(True)
                pairs.append((rates[True], rates[False]))
                print(
                    f"pair {n + 1}: with the outbox {rates[True]:.0f} orders/s, without "
                    f"{rates[False]:.0f}, ratio {rates[True] / rates[False]:.3f}"
                )
            took = await alternating(programme, members, orders=args.alternating)
            events = await Event.filter(programme_id=programme.id).count()
        finally:
            await close_database()
    ratios = [w / o for w, o in pairs]
    ratio = statistics.median(ratios)
    print(
        f"\n1. throughput, {args.connections} workers (pool {args.pool}), {args.pairs} pairs "
        f"of {args.seconds:g} s rounds:"
    )
    print(
        f"   with {statistics.median(w for w, _ in pairs):.0f} orders/s, without "
        f"{statistics.median(o for _, o in pairs):.0f} orders/s (medians); with/without = "
        f"{ratio:.3f} (median of pairs; range {min(ratios):.3f}-{max(ratios):.3f})"
    )
    wall = {k: statistics.median(v[0]) for k, v in took.items()}
    cpu = {k: statistics.mean(v[1]) for k, v in took.items()}
    print(f"\n2. per order, one at a time, the outbox on for every other ({args.alternating}):")
    print(
        f"   wall (median): {wall[True]:.2f} ms with, {wall[False]:.2f} ms without: "
        f"+{wall[True] - wall[False]:.2f} ms ({100 * (wall[True] / wall[False] - 1):.1f}%)"
    )
    print(
        f"   CPU of this process (mean): {cpu[True]:.3f} ms with, {cpu[False]:.3f} ms "
        f"without: +{cpu[True] - cpu[False]:.3f} ms; throughput where Python limits it: "
        f"with/without = {cpu[False] / cpu[True]:.3f} "
        f"(cost {100 * (1 - cpu[False] / cpu[True]):.1f}%, target < 10%)"
    )
    print(f"\nevents written: {events}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--pairs", type=int, default=12)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pool", type=int, default=10)
    parser.add_argument("--alternating", type=int, default=4_000, help="orders, one at a time")
    asyncio.run(main(parser.parse_args()))
