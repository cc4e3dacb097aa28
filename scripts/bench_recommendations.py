"""How long `loyalty build-recommendations` takes for 5,000 members and 500 products (the
generated data of domain/recommendations/synthetic.py: ~50,000 orders, ~83,000 lines), on a
scratch PostgreSQL database. A script, not a test: it prints what it measured.

    make bench-recommendations           (LOYALTY_BENCH_PG_URL, default local postgres)
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

from scratch import scratch_database

from db.connection import close_database, migrate, open_database
from db.models import Member, Order, OrderLine, Programme
from domain.auth import Principal, Role
from domain.clock import ProgrammeMode
from domain.points import DEMO_POLICY
from domain.recommendations.synthetic import generate
from services import programmes as programme_service
from services.clock import now_of
from services.recommendations import catalogue
from services.recommendations.build import build


async def load(programme: Programme, members: int) -> tuple[int, int]:
    """The generated history, written straight into the tables (setup, not measured)."""
    now = now_of(programme)
    data = generate(members=members, now=now)
    admin = Principal(programme_id=programme.id, role=Role.ADMIN, key_id=-1)
    await catalogue.upsert(admin, list(data.products.values()), idempotency_key="bench")
    await Member.bulk_create(
        [
            Member(
                programme_id=programme.id,
                external_id=f"m-{n}",
                display_name=f"Member {n}",
                joined_at=joined,
                consent_profiling=n % 10 != 0,  # one in ten without consent
            )
            for n, (_, joined) in data.members.items()
        ],
        batch_size=1_000,
    )
    ids = dict(await Member.filter(programme_id=programme.id).values_list("external_id", "id"))
    orders = [
        Order(
            programme_id=programme.id,
            member_id=ids[f"m-{o.member}"],
            order_ref=f"o-{n}",
            status="COMPLETED",
            currency="CNY",
            placed_at=o.placed_at,
            recorded_at=o.placed_at,
            matures_at=o.placed_at,
            amount=sum(q * p for _, q, p in o.lines),
            points=0,
        )
        for n, o in enumerate(data.orders)
    ]
    await Order.bulk_create(orders, batch_size=2_000)
    order_ids = dict(await Order.filter(programme_id=programme.id).values_list("order_ref", "id"))
    lines = [
        OrderLine(
            order_id=order_ids[f"o-{n}"],
            sku=sku,
            category=data.products[sku].category,
            unit_price=price,
            quantity=qty,
            discounted=False,
            points=0,
            rules=[],
        )
        for n, o in enumerate(data.orders)
        for sku, qty, price in o.lines
    ]
    await OrderLine.bulk_create(lines, batch_size=2_000)
    return len(orders), len(lines)


async def run(members: int) -> None:
    async with scratch_database("loyalty_bench_reco") as url:
        await migrate(url)
        await open_database(url)
        try:
            programme = await programme_service.create(
                code=f"bench-{uuid.uuid4().hex[:6]}",
                name="Bench",
                currency="CNY",
                timezone="Asia/Shanghai",
                mode=ProgrammeMode.SANDBOX,
                points_policy=DEMO_POLICY,
            )
            started = time.perf_counter()
            orders, lines = await load(programme, members)
            print(
                f"loaded {members} members, 500 products, {orders} orders, {lines} lines "
                f"({time.perf_counter() - started:.1f} s, not measured)"
            )
            for attempt in (1, 2):
                report = await build(await Programme.get(id=programme.id))
                print(
                    f"build {attempt}: {report.seconds:.2f} s — {report.members} members "
                    f"segmented, {report.lists} lists, {report.products} products bought, "
                    f"{report.pairs} similar pairs"
                )
        finally:
            await close_database()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=5_000)
    asyncio.run(run(parser.parse_args().members))


if __name__ == "__main__":
    main()
