"""How long `loyalty build-recommendations` takes for 5,000 members and 500 products (the
generated data of domain/recommendations/synthetic.py: ~50,000 orders, ~83,000 lines), on a
scratch PostgreSQL database. A script, not a test: it prints what it measured.

    make bench-recommendations           (LOYALTY_BENCH_PG_URL, default local postgres)
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
import uuid

from scratch import scratch_database
from tortoise import connections

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


async def load_set_wise(programme: Programme, members: int) -> tuple[int, int]:
    """A history of the same shape written by PostgreSQL itself (generate_series): the
    synthetic generator's catalogue, 1-9 orders per member (5 on average) of 1-3 lines each,
    so 100,000 members load in seconds and the script's own memory stays out of the measure."""
    now = now_of(programme)
    data = generate(members=50, now=now)
    admin = Principal(programme_id=programme.id, role=Role.ADMIN, key_id=-1)
    await catalogue.upsert(admin, list(data.products.values()), idempotency_key="bench")
    db = connections.get("default")
    await db.execute_query(
        """
        INSERT INTO members (programme_id, external_id, display_name, joined_at,
            consent_marketing, consent_profiling, tier_event_id, points_available,
            points_pending, points_held, points_shortfall, qualifying_spend, event_seq)
        SELECT $1, 'm-' || n, 'Member ' || n,
               $2::timestamptz - make_interval(days => 30 + n % 700),
               false, n % 10 <> 0, 0, 0, 0, 0, 0, 0, 0
          FROM generate_series(1, $3) AS n
        """,
        [programme.id, now, members],
    )
    await db.execute_query(
        """
        INSERT INTO orders (programme_id, member_id, order_ref, status, currency, placed_at,
            recorded_at, matures_at, amount, returned_amount, paid_with_points, points,
            points_reversed)
        SELECT $1, m.id, 'o-' || m.id || '-' || k, 'COMPLETED', 'CNY', t.at, t.at, t.at,
               1000 + (m.id * 7 + k * 13) % 50000, 0, 0, 0, 0
          FROM members m
         CROSS JOIN LATERAL generate_series(1, 1 + m.id % 9) AS k
         CROSS JOIN LATERAL (
             SELECT $2::timestamptz - make_interval(days => (m.id * 31 + k * 17) % 400) AS at
         ) t
         WHERE m.programme_id = $1
        """,
        [programme.id, now],
    )
    await db.execute_query(
        """
        WITH catalogue AS (
            SELECT array_agg(sku ORDER BY id) AS skus, array_agg(category ORDER BY id) AS cats,
                   array_agg(price ORDER BY id) AS prices, count(*)::int AS n
              FROM products WHERE programme_id = $1
        ),
        picked AS (
            SELECT o.id AS order_id,
                   1 + ((o.member_id % 50) * 10 + o.id * j) % c.n AS p
              FROM orders o CROSS JOIN catalogue c
             CROSS JOIN LATERAL generate_series(1, 1 + o.id % 3) AS j
             WHERE o.programme_id = $1
        )
        INSERT INTO order_lines (order_id, sku, category, unit_price, quantity, discounted,
            points, rules, returned_quantity, points_reversed)
        SELECT x.order_id, c.skus[x.p], c.cats[x.p], c.prices[x.p], 1, false, 0, '[]', 0, 0
          FROM picked x CROSS JOIN catalogue c
        ON CONFLICT DO NOTHING
        """,
        [programme.id],
    )
    await db.execute_query("ANALYZE")
    orders = await Order.filter(programme_id=programme.id).count()
    lines = await OrderLine.filter(order__programme_id=programme.id).count()
    return orders, lines


def peak_rss_mb() -> float:
    """ru_maxrss (kilobytes on Linux) of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run(members: int, set_wise: bool, builds: int) -> None:
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
            orders, lines = await (load_set_wise if set_wise else load)(programme, members)
            print(
                f"loaded {members} members, 500 products, {orders} orders, {lines} lines "
                f"({time.perf_counter() - started:.1f} s, not measured); "
                f"peak RSS before building {peak_rss_mb():.0f} MB"
            )
            for attempt in range(1, builds + 1):
                report = await build(await Programme.get(id=programme.id))
                print(
                    f"build {attempt}: {report.seconds:.2f} s — {report.members} members "
                    f"segmented, {report.lists} lists, {report.products} products bought, "
                    f"{report.pairs} similar pairs; peak RSS so far {peak_rss_mb():.0f} MB"
                )
        finally:
            await close_database()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=5_000)
    parser.add_argument(
        "--set-wise",
        action="store_true",
        help="write the history with generate_series (for 100,000 members) instead of the "
        "synthetic generator's orders",
    )
    parser.add_argument("--builds", type=int, default=2, help="builds to time (default 2)")
    args = parser.parse_args()
    asyncio.run(run(args.members, args.set_wise, args.builds))


if __name__ == "__main__":
    main()
