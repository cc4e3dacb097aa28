"""Every statement a hot path sends can be served by an index: no sequential scans.

Each hot path (the member page with its next best actions, recordOrder, completeOrder,
redeemPoints, holdPoints, captureHold, claimCoupon, checkIn) runs once through the GraphQL
API while every statement that reaches PostgreSQL is captured with its parameters, at the
asyncpg connection (tortoise's queries and SQL the project sends itself, through tortoise's
client or the raw connection, all end there). Then each SELECT, UPDATE, DELETE, INSERT and
WITH statement is EXPLAINed -- plain EXPLAIN, never ANALYZE, so a data-modifying statement
or CTE is planned, not run -- in one transaction that is rolled back, in which:

- sequential scans, hash joins and merge joins are off: a plan that still reads a whole
  table (or a whole index, filtering) means no index serves that statement or its joins;
- the planner sees production-sized tables (a million rows each, one programme, ten rows
  per member, order, template...), not the test's few rows, so it picks the index it would
  pick there rather than any index that happens to be cheap on a tiny table.

Tables tiny by design are listed, with the reason, in TINY_BY_DESIGN. The test is generic on
purpose (capture and explain, not a list of statements), so it keeps holding as the hot
paths' SQL changes. It names each offending statement with what its plan reads.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from api.member_page import MEMBER_PAGE
from domain.auth import Role
from services.recommendations.build import build
from tests.conftest import DATABASE_URL, ON_POSTGRES
from tests.fixtures.coupons import claim, make_template
from tests.fixtures.page import a_challenge, a_reward
from tests.fixtures.recommendations import buy, stock_shop
from tests.graphql.points.documents import (
    CAPTURE_HOLD,
    CHECK_IN,
    COMPLETE_ORDER,
    HOLD_POINTS,
    RECORD_ORDER,
    REDEEM,
)
from tests.graphql.points.helpers import fund, order_input, programme_now

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="plans are PostgreSQL's: SQLite's EXPLAIN QUERY PLAN says other things in other "
    "words (the PostgreSQL suite runs this test)",
)

# Tables a sequential scan may read on a hot path, each small by design. Keep it short and
# say why: anything that grows with members, orders or the ledger does not belong here.
TINY_BY_DESIGN: dict[str, str] = {
    "programmes": "one row per programme",
    "tiers": "a programme's tier ladder: a handful of rows, written by admins",
    "benefits": "a few per tier, written by admins",
    "coupon_templates": "a programme's coupon templates: tens, written by admins; the "
    "next best actions list its claimable ones",
}

# What is planned; the rest (transaction control, session settings) is not.
PLANNED = re.compile(r"^\(?\s*(SELECT|WITH|UPDATE|DELETE|INSERT)\b", re.I)
COMMENTS = re.compile(r"^\s*(?:--[^\n]*\n|/\*.*?\*/|\s)*", re.S)
# A semicolon outside quotes ends a statement.
STATEMENT_END = re.compile(r";(?=(?:[^']*'[^']*')*[^']*$)")


def statements(sql: str, args: tuple) -> Iterator[tuple[str, tuple]]:
    """The plannable statements of what was sent: a text without arguments may hold several
    (the simple query protocol), and each may open with comments."""
    parts = [sql] if args else STATEMENT_END.split(sql)
    for part in parts:
        text = COMMENTS.sub("", part, count=1).strip()
        if PLANNED.match(text):
            yield text, args


DSN = DATABASE_URL.split("?")[0].replace("postgres://", "postgresql://", 1)
NEXT_BEST_ACTIONS = """
    nextBestActions {
      __typename
      ... on UseExpiringPointsAction { priority points }
      ... on RedeemPointsAction { priority pointsPrice template { code } }
      ... on ClaimCouponAction { priority template { code } }
      ... on ReachNextTierAction { priority amountToNext tier { code } }
    }
"""
# api/member_page.py's page, with the next best actions the issue counts in it.
PAGE = MEMBER_PAGE.replace(
    "externalId displayName", "externalId displayName" + NEXT_BEST_ACTIONS, 1
)
CLAIM_COUPON = """
mutation ($input: ClaimCouponInput!) {
  claimCoupon(input: $input) {
    __typename
    ... on ClaimCouponError { errors { field code message } }
  }
}
"""


@contextmanager
def capturing_statements(skip: asyncpg.Connection) -> Iterator[list[tuple[str, tuple]]]:
    """Every statement sent on any asyncpg connection but `skip`, with its arguments (the
    first row's, for executemany).

    Tortoise's client and code using the raw connection both end in these methods, or in a
    prepared statement's.
    """
    captured: list[tuple[str, tuple]] = []
    connection = asyncpg.connection.Connection
    prepared = asyncpg.prepared_stmt.PreparedStatement
    patched = [
        (cls, name, getattr(cls, name))
        for cls, names in (
            (connection, ("execute", "fetch", "fetchrow", "fetchval", "executemany")),
            (prepared, ("fetch", "fetchrow", "fetchval", "executemany")),
        )
        for name in names
    ]

    def wrap(cls, name, original):
        async def wrapper(self, *args, **kwargs):
            if cls is prepared:  # the statement's own query; the connection is kept private
                query, values, sender = self.get_query(), list(args), self._connection
            else:
                query, values, sender = args[0], list(args[1:]), self
            if name == "executemany":  # one argument: the rows, perhaps an iterator
                values[0] = rows = list(values[0])
                shown = tuple(rows[0]) if rows else ()
            else:
                shown = tuple(values)
            if sender is not skip:
                captured.append((query, shown))
            head = () if cls is prepared else (query,)
            return await original(self, *head, *values, **kwargs)

        return wrapper

    for cls, name, original in patched:
        setattr(cls, name, wrap(cls, name, original))
    try:
        yield captured
    finally:
        for cls, name, original in patched:
            setattr(cls, name, original)


LEADING_COLUMNS = """
SELECT c.relname, t.relname, a.attname
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
WHERE t.relnamespace = 'public'::regnamespace
"""


COLUMNS = """
SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'
"""


@dataclass(frozen=True)
class Schema:
    indexes: dict[str, tuple[str, str | None]]  # index: (its table, its first column)
    columns: dict[str, set[str]]


async def schema_of(conn: asyncpg.Connection) -> Schema:
    columns: dict[str, set[str]] = {}
    for table, column in await conn.fetch(COLUMNS):
        columns.setdefault(table, set()).add(column)
    indexes = {row[0]: (row[1], row[2]) for row in await conn.fetch(LEADING_COLUMNS)}
    return Schema(indexes, columns)


def full_scans(plan: dict[str, Any], schema: Schema) -> Iterator[str]:
    """Nodes that read a whole table, or a whole index filtering as they go: an index scan
    with no condition, one whose condition misses the index's first column, or one whose
    only condition is the programme (with one programme, that is every row)."""
    kind, index = plan.get("Node Type", ""), plan.get("Index Name")
    table, first = schema.indexes.get(index, (None, None)) if index else (None, None)
    table = plan.get("Relation Name") or table
    if table and table not in TINY_BY_DESIGN:
        condition = plan.get("Index Cond")
        named = {
            c for c in schema.columns.get(table, ()) if re.search(rf"\b{c}\b", condition or "")
        }
        if kind == "Seq Scan":
            yield f"Seq Scan on {table}"
        elif kind not in ("Index Scan", "Index Only Scan", "Bitmap Index Scan"):
            pass
        elif condition is None:
            yield f"{kind} on {table} using {index} with no condition"
        elif first and first not in named:
            yield f"{kind} on {table} using {index}, whose first column {first} is not in {condition}"
        elif named == {"programme_id"}:
            yield f"{kind} on {table} using {index} by the programme alone: {condition}"
    for child in plan.get("Plans", ()):
        yield from full_scans(child, schema)


REFERENCES = """
SELECT table_name, column_name FROM information_schema.columns
WHERE table_schema = 'public' AND column_name LIKE '%\\_id' AND column_name <> 'id'
  AND table_name IN (SELECT tablename FROM pg_tables WHERE schemaname = 'public')
"""
# The test's own rows would be most common values that outweigh n_distinct: drop them.
NO_MOST_COMMON_VALUES = """
UPDATE pg_statistic SET stakind1 = 0, stakind2 = 0, stakind3 = 0, stakind4 = 0, stakind5 = 0
WHERE starelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
"""
BIG_TABLES = """
UPDATE pg_class SET reltuples = 1000000, relpages = 1
WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'i')
  AND NOT relname = ANY($1::text[])
"""


@asynccontextmanager
async def planning(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """A transaction, rolled back, in which the planner sees production-sized tables and may
    neither scan a table sequentially nor join other than by nested loops (a hot path reads
    a member's few rows, so each joined table must be reachable by an index on the join key).
    """
    tx = conn.transaction()
    await tx.start()
    try:
        for setting in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin"):
            await conn.execute(f"SET LOCAL {setting} = off")
        await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        # Statistics as in production, whatever rows the tests left: one programme (the
        # worst case: its condition selects the whole table), ten rows per member, order,
        # template... (and no histograms or most common values). Then sizes: the planner takes pg_class's rows per page times a
        # table's pages now, so a million rows a page makes every table but the tiny ones
        # look as they do in production.
        for table, column in await conn.fetch(REFERENCES):
            share = 1 if column == "programme_id" else -0.1
            await conn.execute(
                f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET (n_distinct = {share})'
            )
        await conn.execute("ANALYZE")
        await conn.execute(NO_MOST_COMMON_VALUES)
        await conn.execute(BIG_TABLES, sorted(TINY_BY_DESIGN))
        yield
    finally:
        await tx.rollback()


async def explain(conn: asyncpg.Connection, sql: str, args: tuple) -> dict[str, Any]:
    """The plan of `sql`: plain EXPLAIN, which plans a data-modifying statement without
    running it."""
    rows = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args)
    plan: dict[str, Any] = (json.loads(rows) if isinstance(rows, str) else rows)[0]["Plan"]
    return plan


def ok(body: dict[str, Any], field: str, success: str) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][field]
    assert result["__typename"] == success, result
    return result


async def test_no_hot_path_statement_needs_a_sequential_scan(gql, programme, make_member, make_key):
    # given a member with an order history, coupons, points and recommendations
    from db.models import Programme

    admin, storefront = await make_key(programme, Role.ADMIN), await make_key(programme)
    await stock_shop(programme)
    member = await make_member(programme, consent_profiling=True)
    other = await make_member(programme, consent_profiling=True)
    await buy(programme, member, "phone")
    await buy(programme, other, "phone", "earbuds")
    await fund(gql, admin, member.external_id, 5_000)
    template = await make_template(programme)
    # rows for the page's rewards and challenges parts (an empty table is planned as any)
    await a_reward(programme, points_price=100)
    await a_challenge(programme, member, current=1, target=2)
    await claim(programme, await make_template(programme), member)
    await build(await Programme.get(id=programme.id))
    now = await programme_now(gql, admin)
    pending = order_input(member.external_id, now)
    ok(await gql(RECORD_ORDER, {"input": pending}, auth=admin), "recordOrder", "OrderSuccess")
    e = member.external_id

    def key() -> str:
        return uuid.uuid4().hex

    conn = await asyncpg.connect(DSN)
    try:
        # when every hot path runs once
        with capturing_statements(skip=conn) as captured:
            page = await gql(PAGE, {"e": e}, auth=storefront)
            assert "errors" not in page and page["data"]["member"]["externalId"] == e, page
            order = order_input(e, now)
            ok(await gql(RECORD_ORDER, {"input": order}, auth=admin), "recordOrder", "OrderSuccess")
            done = {"orderId": pending["orderId"], "idempotencyKey": key()}
            ok(
                await gql(COMPLETE_ORDER, {"input": done}, auth=admin),
                "completeOrder",
                "OrderSuccess",
            )
            spend = {
                "memberExternalId": e,
                "amount": 10,
                "reason": "a mug",
                "idempotencyKey": key(),
            }
            ok(
                await gql(REDEEM, {"input": spend}, auth=admin),
                "redeemPoints",
                "TransactionSuccess",
            )
            hold_input = {
                "memberExternalId": e,
                "amount": 100,
                "orderId": "cart-1",
                "idempotencyKey": key(),
            }
            hold = ok(
                await gql(HOLD_POINTS, {"input": hold_input}, auth=admin),
                "holdPoints",
                "HoldSuccess",
            )
            capture = {"holdId": hold["hold"]["id"], "amount": 60, "idempotencyKey": key()}
            ok(
                await gql(CAPTURE_HOLD, {"input": capture}, auth=admin),
                "captureHold",
                "HoldSuccess",
            )
            coupon = {"templateCode": template.code, "memberExternalId": e, "idempotencyKey": key()}
            ok(
                await gql(CLAIM_COUPON, {"input": coupon}, auth=storefront),
                "claimCoupon",
                "CouponSuccess",
            )
            visit = {"memberExternalId": e, "idempotencyKey": key()}
            ok(await gql(CHECK_IN, {"input": visit}, auth=storefront), "checkIn", "CheckInSuccess")
        # then no statement they sent needs a whole table read
        planned: dict[str, tuple] = {}
        for sent, arguments in captured:
            for sql, args in statements(sent, arguments):
                planned.setdefault(sql, args)
        assert len(planned) >= 8, f"too few statements captured: {list(planned)}"
        found = []
        schema = await schema_of(conn)
        async with planning(conn):
            for sql, args in planned.items():
                plan = await explain(conn, sql, args)
                scans = sorted(set(full_scans(plan, schema)))
                if scans:
                    found.append(f"{', '.join(scans)}:\n    {' '.join(sql.split())}")
    finally:
        await conn.close()
    assert not found, "statements no index can serve:\n" + "\n".join(found)


async def test_the_check_sees_a_statement_no_index_serves(programme):
    # given statements on a large table: by a column no index leads, and by its primary key
    conn = await asyncpg.connect(DSN)
    try:
        schema = await schema_of(conn)
        async with planning(conn):
            unserved = await explain(conn, "SELECT id FROM orders WHERE amount = $1", (5,))
            served = await explain(conn, "SELECT id FROM orders WHERE id = $1", (5,))
            second_column = await explain(
                conn, "SELECT id FROM coupons WHERE period_seq = $1 ORDER BY template_id", (1,)
            )
    finally:
        await conn.close()
    # then the first is named and the second is not
    assert list(full_scans(unserved, schema)) == ["Seq Scan on orders"]
    assert list(full_scans(served, schema)) == []
    assert list(full_scans(second_column, schema)), second_column


def test_what_is_planned_of_what_was_sent():
    sent = "-- why\nSET LOCAL lock_timeout = '1s'; /* a */ UPDATE t SET a = 'x;y'; COMMIT"
    assert list(statements(sent, ())) == [("UPDATE t SET a = 'x;y'", ())]
    assert list(statements("  WITH a AS (SELECT 1) SELECT * FROM a", (1,))) == [
        ("WITH a AS (SELECT 1) SELECT * FROM a", (1,))
    ]
    assert list(statements("BEGIN", ())) == []


async def test_the_capture_sees_each_way_a_statement_is_sent(programme):
    # given two connections, one of them the explainer's (not captured)
    explainer, other = await asyncpg.connect(DSN), await asyncpg.connect(DSN)
    try:
        # when statements go by the connection, by a prepared statement and in a batch
        with capturing_statements(skip=explainer) as captured:
            await other.fetchval("SELECT $1::int", 1)
            statement = await other.prepare("SELECT id FROM orders WHERE member_id = $1")
            await statement.fetch(7)
            await other.executemany("SELECT $1::int", iter([(2,), (3,)]))
            await explainer.fetchval("SELECT 4")
    finally:
        await explainer.close()
        await other.close()
    # then each is seen once, with its arguments, and the explainer's is not
    assert captured == [
        ("SELECT $1::int", (1,)),
        ("SELECT id FROM orders WHERE member_id = $1", (7,)),
        ("SELECT $1::int", (2,)),
    ]
