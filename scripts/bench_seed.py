"""The rows `make bench` measures against, written by PostgreSQL itself (generate_series and
INSERT ... SELECT: no row crosses the wire), so 100,000 members and a million ledger rows
take minutes, not hours.

Per member: `ledger_rows // members` ledger rows (EARN, AVAILABLE) each with its lot, the
same number of completed orders of one or two lines from the catalogue, 20 coupons and a
stored recommendation list (consenting members: 9 in 10); the programme's popular list.
Balances agree with the rows. Then `pending` PENDING orders `pend-1`, `pend-2`, ... with
their pending ledger rows and balances, for completeOrder to complete (one each), held by
members of their own (`p-1`, `p-2`, ...) whom no page or other mutation asks for."""

from __future__ import annotations

import re
import time
from datetime import datetime

import asyncpg

from db.sql import insights_rollup

PENDING_POINTS = 10

STEPS: list[tuple[str, str]] = [
    (
        "members",
        """
        INSERT INTO members (id, programme_id, external_id, display_name, consent_marketing,
          consent_profiling, joined_at, tier_id, tier_since, tier_period_start, tier_event_id,
          points_available, points_pending, points_held, points_shortfall, qualifying_spend)
        SELECT m, $1, 'm-' || m, 'Member ' || m, false, m % 10 <> 0,
          $3::timestamptz - (400 + m % 700) * interval '1 day', $4,
          $3::timestamptz - interval '400 days', $3::timestamptz - interval '400 days',
          0, 0, 0, 0, 0, 0
        FROM generate_series(1, $2::int) AS m
        """,
    ),
    (
        "ledger rows",
        """
        INSERT INTO point_transactions (id, programme_id, member_id, kind, bucket, amount,
          available_after, pending_after, reference_type, reference, reason, actor, shortfall,
          created_at)
        SELECT (m - 1) * $5 + t, $1, m, 'EARN', 'AVAILABLE', a,
          sum(a) OVER (PARTITION BY m ORDER BY t), 0, 'ORDER', 'seed-' || ((m - 1) * $5 + t),
          'order completed', 'bench', 0,
          $3::timestamptz - (300 - (t - 1) * 180 / $5) * interval '1 day'
        FROM (
          SELECT m, t, 10 + (m * 7919 + t * 104729) % 190 AS a
          FROM generate_series(1, $2::int) AS m, generate_series(1, $5::int) AS t
        ) AS earned
        """,
    ),
    (
        "lots",
        """
        INSERT INTO point_lots (id, programme_id, member_id, source_id, amount, remaining,
          earned_at, expires_at)
        SELECT id, programme_id, member_id, id, amount, amount, created_at,
          created_at + interval '365 days'
        FROM point_transactions WHERE programme_id = $1
        """,
    ),
    (
        "balances",
        """
        UPDATE members SET points_available = t.total
        FROM (SELECT member_id, sum(amount) AS total FROM point_transactions
              WHERE programme_id = $1 GROUP BY member_id) AS t
        WHERE members.id = t.member_id
        """,
    ),
    (
        "coupons",
        """
        INSERT INTO coupons (id, programme_id, template_id, member_id, code, status, source,
          issued_at, starts_at, ends_at)
        SELECT (m - 1) * 20 + c, $1, $6, m, 'BENCH' || ((m - 1) * 20 + c), 'AVAILABLE', 'GRANT',
          $3::timestamptz, $3::timestamptz, $3::timestamptz + (10 + c) * interval '1 day'
        FROM generate_series(1, $2::int) AS m, generate_series(1, 20) AS c
        """,
    ),
    (
        "order lines",
        """
        CREATE TEMP TABLE seed_lines (order_id bigint, member_id int, placed_at timestamptz,
          sku text, category text, price bigint)
        """,
    ),
    (
        "order lines",
        """
        INSERT INTO seed_lines
        WITH catalogue AS (
          SELECT array_agg(sku ORDER BY sku) AS sku, array_agg(category ORDER BY sku) AS category,
            array_agg(price ORDER BY sku) AS price, count(*)::int AS n
          FROM products WHERE programme_id = $1
        )
        SELECT (m - 1) * $5 + o, m, $3::timestamptz - ((m * 31 + o * 37) % 360) * interval '1 day',
          c.sku[pick.i], c.category[pick.i], c.price[pick.i]
        FROM catalogue AS c, generate_series(1, $2::int) AS m, generate_series(1, $5::int) AS o,
          generate_series(1, 2) AS l,
          LATERAL (SELECT 1 + (m * 13 + o * 101 + l * 7) % c.n AS i) AS pick
        WHERE l = 1 OR (m + o) % 3 = 0
        """,
    ),
    (
        "orders",
        """
        INSERT INTO orders (id, programme_id, member_id, order_ref, status, currency, placed_at,
          recorded_at, matures_at, completed_at, amount, returned_amount, paid_with_points,
          points, points_reversed)
        SELECT order_id, $1, member_id, 'seed-' || order_id, 'COMPLETED', 'CNY', placed_at,
          placed_at, placed_at, placed_at, sum(price), 0, 0, 0, 0
        FROM seed_lines GROUP BY order_id, member_id, placed_at
        """,
    ),
    (
        "order lines copied",
        """
        INSERT INTO order_lines (order_id, sku, category, unit_price, quantity, discounted,
          points, rules, returned_quantity, points_reversed)
        SELECT order_id, sku, category, price, 1, false, 0, '[]', 0, 0 FROM seed_lines
        """,
    ),
    (
        "recommendation lists",
        """
        WITH catalogue AS (
          SELECT array_agg(jsonb_build_array(sku, title, category, price) ORDER BY sku) AS item,
            count(*)::int AS n
          FROM products WHERE programme_id = $1
        )
        INSERT INTO recommendation_lists (programme_id, member_id, items, computed_at)
        SELECT $1, m.id, jsonb_build_object('c', (
            SELECT jsonb_agg(c.item[1 + (coalesce(m.id, 0) * 7 + k * 23) % c.n]
                             || jsonb_build_array(round(1.0 / k, 4),
                                  CASE WHEN m.id IS NULL THEN 'POPULAR'
                                       ELSE 'BOUGHT_TOGETHER' END) ORDER BY k)
            FROM generate_series(1, 20) AS k
          ), 'r', '[]'::jsonb), $3::timestamptz
        FROM catalogue AS c,
          (SELECT NULL::int AS id
           UNION ALL SELECT id FROM members WHERE programme_id = $1 AND consent_profiling) AS m
        """,
    ),
]

BULK_TABLES = ("members", "point_transactions", "point_lots", "coupons", "orders", "order_lines")
# Indexes that no constraint owns (those stay: primary keys, unique constraints).
PLAIN_INDEXES = """
SELECT indexname, indexdef FROM pg_indexes
WHERE schemaname = 'public' AND tablename = ANY($1::text[])
  AND indexname NOT IN (SELECT conname FROM pg_constraint)
"""
SETVAL = "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
# Pending orders belong to members of their own (`p-1`, ...; a hundred orders each), so the
# pages and the other mutations meet the same rows per member at every size.
PENDING = """
INSERT INTO members (id, programme_id, external_id, display_name, consent_marketing,
  consent_profiling, joined_at, tier_id, tier_since, tier_period_start, tier_event_id,
  points_available, points_pending, points_held, points_shortfall, qualifying_spend)
SELECT $2 + i, $1, 'p-' || i, 'Pending ' || i, false, false, $3::timestamptz, $6, $3::timestamptz,
  $3::timestamptz, 0, 0, 0, 0, 0, 0
FROM generate_series(1, $7::int) AS i;

INSERT INTO orders (programme_id, member_id, order_ref, status, currency, placed_at,
  recorded_at, matures_at, amount, returned_amount, paid_with_points, points, points_reversed)
SELECT $1, $2 + 1 + (n * 7919) % $7, 'pend-' || n, 'PENDING', 'CNY',
  $3::timestamptz - interval '1 hour', $3::timestamptz - interval '1 hour',
  $3::timestamptz + interval '30 days', 1000, 0, 0, $5, 0
FROM generate_series(1, $4::int) AS n;

INSERT INTO order_lines (order_id, sku, category, unit_price, quantity, discounted, points,
  rules, returned_quantity, points_reversed)
SELECT id, 'bench-pending', 'general', 1000, 1, false, $5, '[]', 0, 0
FROM orders WHERE programme_id = $1 AND status = 'PENDING';

INSERT INTO point_transactions (programme_id, member_id, kind, bucket, amount,
  available_after, pending_after, reference_type, reference, reason, actor, shortfall,
  created_at)
SELECT $1, member_id, 'EARN', 'PENDING', $5, 0, 0, 'ORDER', order_ref, 'order recorded',
  'bench', 0, recorded_at
FROM orders WHERE programme_id = $1 AND status = 'PENDING';

UPDATE members SET points_pending = points_pending + t.total
FROM (SELECT member_id, sum(points) AS total FROM orders
      WHERE programme_id = $1 AND status = 'PENDING' GROUP BY member_id) AS t
WHERE members.id = t.member_id;
"""


async def seed_rows(
    dsn: str,
    *,
    programme_id: int,
    tier_id: int,
    template_id: int,
    members: int,
    ledger_rows: int,
    pending: int,
    now: datetime,
) -> None:
    per_member = max(1, ledger_rows // members)
    conn = await asyncpg.connect(dsn)
    try:
        # Bulk loading as PostgreSQL's manual advises: no foreign-key triggers (the rows are
        # consistent by construction), plain indexes built once after the rows are in.
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("SET maintenance_work_mem = '256MB'")
        await conn.execute("SET synchronous_commit = off")
        indexes = await conn.fetch(PLAIN_INDEXES, list(BULK_TABLES))
        for name, _ in indexes:
            await conn.execute(f'DROP INDEX "{name}"')
        args = {1: programme_id, 2: members, 3: now, 4: tier_id, 5: per_member, 6: template_id}
        for name, sql in STEPS:
            started = time.perf_counter()
            await conn.execute(*bind(sql, args))
            print(f"  {name}: {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        for _, definition in indexes:
            await conn.execute(definition)
        print(f"  {len(indexes)} indexes: {time.perf_counter() - started:.1f} s", flush=True)
        for table in ("members", "point_transactions", "point_lots", "coupons", "orders"):
            await conn.execute(SETVAL.format(table=table))
        started = time.perf_counter()
        for statement in PENDING.split(";\n"):
            if statement.strip():
                values = {1: programme_id, 2: members, 3: now, 4: pending, 5: PENDING_POINTS,
                          6: tier_id, 7: max(10, pending // 100)}  # fmt: skip
                await conn.execute(*bind(statement, values))
        for table in ("members", "point_transactions", "orders"):
            await conn.execute(SETVAL.format(table=table))
        print(f"  {pending} pending orders: {time.perf_counter() - started:.1f} s", flush=True)
        # the load ran without triggers: the insights rollups the ledger's trigger would have
        # kept are made from the ledger at once
        started = time.perf_counter()
        for statement in insights_rollup.REBUILD:
            await conn.execute(statement, programme_id)
        print(f"  insights rollups: {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        await conn.execute("VACUUM ANALYZE")
        print(f"  vacuum analyze: {time.perf_counter() - started:.1f} s", flush=True)
        counts = {
            table: await conn.fetchval(f"SELECT count(*) FROM {table}")
            for table in (
                "members",
                "point_transactions",
                "point_lots",
                "coupons",
                "orders",
                "order_lines",
                "recommendation_lists",
            )
        }
        print("seeded: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()), flush=True)
    finally:
        await conn.close()


def bind(sql: str, values: dict[int, object]) -> list:
    """`sql` with the parameters it uses numbered $1, $2... and their values (asyncpg wants
    every number from 1 up used)."""
    used = sorted({int(n) for n in re.findall(r"\$(\d+)", sql)})
    number = {old: new for new, old in enumerate(used, start=1)}
    text = re.sub(r"\$(\d+)", lambda m: f"${number[int(m.group(1))]}", sql)
    return [text, *(values[n] for n in used)]
