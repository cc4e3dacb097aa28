from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections
from tortoise.exceptions import IntegrityError

from db.connection import is_postgres, is_unique_violation, rows_unless_unique_violation
from db.models import Member, Order, OrderLine, PointTransaction
from db.repositories.audit import inline_cte, inline_values
from db.repositories.campaign_audience import Audience as AudienceFacts
from db.repositories.idempotency import Stored, _json, key_lock_cte, stored_key_cte
from db.repositories.members import LOCKED_COLUMNS, LockedMember, locked_of
from db.repositories.points import NewEvent, NewRow


async def get(programme_id: int, order_ref: str) -> Order | None:
    return await Order.get_or_none(programme_id=programme_id, order_ref=order_ref)


# The order, and its member's inviter when the member was invited (their referral's status).
# Subqueries, not a join: each is a probe of the referral's unique index by the order's
# member, where a join let the planner walk that index whole (a merge join, on small tables).
_WITH_INVITER = """
SELECT o.*,
    (SELECT r.inviter_id FROM referrals r WHERE r.invitee_id = o.member_id)
        AS referral_inviter_id,
    (SELECT r.status FROM referrals r WHERE r.invitee_id = o.member_id) AS referral_status
FROM orders o
WHERE o.programme_id = {p1} AND o.order_ref = {p2}
"""
_WITH_INVITER_TEXTS = (_WITH_INVITER.format(p1="?", p2="?"), _WITH_INVITER.format(p1="$1", p2="$2"))


async def get_with_inviter(
    programme_id: int, order_ref: str
) -> tuple[Order | None, tuple[int, str] | None]:
    """`get`, and the inviter of the order's member with their referral's status, read in one
    statement without a lock (the inviter never changes; the status is read again under it)."""
    rows = await connections.get("default").execute_query_dict(
        _WITH_INVITER_TEXTS[is_postgres()], [programme_id, order_ref]
    )
    if not rows:
        return None, None
    row = dict(rows[0])
    inviter_id, status = row.pop("referral_inviter_id"), row.pop("referral_status")
    return Order._init_from_db(**row), (int(inviter_id), str(status)) if inviter_id else None


async def lock(programme_id: int, order_ref: str) -> Order | None:
    return (
        await Order.filter(programme_id=programme_id, order_ref=order_ref)
        .select_for_update(no_key=True)
        .first()
    )


async def lines_of(order_id: int) -> list[OrderLine]:
    return await OrderLine.filter(order_id=order_id).order_by("id")


async def create(lines: list[dict[str, Any]], **fields: Any) -> Order:
    order = await Order.create(**fields)
    await OrderLine.bulk_create([OrderLine(order_id=order.id, **line) for line in lines])
    return order


async def save(order: Order, *fields: str) -> None:
    await order.save(update_fields=list(fields))


async def save_line(line: OrderLine, *fields: str) -> None:
    await line.save(update_fields=list(fields))


async def members_with_orders_due(
    programme_id: int, now: datetime, *, after_id: int, limit: int
) -> list[int]:
    rows = (
        await Order.filter(
            programme_id=programme_id,
            status="PENDING",
            matures_at__lte=now,
            member_id__gt=after_id,
        )
        .distinct()
        .order_by("member_id")
        .limit(limit)
        .values("member_id")
    )
    return [int(r["member_id"]) for r in rows]


async def first_due_of(member_id: int, now: datetime) -> Order | None:
    """The member's pending order whose return window closed first (by `now`)."""
    return (
        await Order.filter(member_id=member_id, status="PENDING", matures_at__lte=now)
        .order_by("matures_at", "id")
        .first()
    )


async def first_maturity_of(member_id: int) -> datetime | None:
    """When the member's first pending order matures."""
    row = (
        await Order.filter(member_id=member_id, status="PENDING")
        .order_by("matures_at")
        .first()
        .values("matures_at")
    )
    return row["matures_at"] if row else None


async def completed_count(member_id: int) -> int:
    return (
        await Order.filter(member_id=member_id, status__in=["COMPLETED", "RETURNED"])
        .exclude(completed_at=None)
        .count()
    )


async def line_of_member(
    programme_id: int, member_id: int, order_ref: str, sku: str
) -> OrderLine | None:
    return await OrderLine.get_or_none(
        order__programme_id=programme_id,
        order__member_id=member_id,
        order__order_ref=order_ref,
        sku=sku,
    )


# ---- the write path of recordOrder, in plain rows -------------------------------------------


@dataclass(frozen=True)
class OrderRecord:
    """An order row, mapped once (what the API answers with; no model instance)."""

    id: int
    programme_id: int
    member_id: int
    order_ref: str
    status: str
    currency: str
    placed_at: datetime
    recorded_at: datetime
    matures_at: datetime
    completed_at: datetime | None
    closed_at: datetime | None
    amount: int
    returned_amount: int
    paid_with_points: int
    points: int
    points_reversed: int
    channel: str


@dataclass(frozen=True)
class NewLine:
    sku: str
    category: str
    unit_price: int
    quantity: int
    discounted: bool
    points: int
    rules: list[list[Any]]


@dataclass(frozen=True)
class NewOrder:
    programme_id: int
    member_id: int
    order_ref: str
    status: str
    currency: str
    placed_at: datetime
    recorded_at: datetime
    matures_at: datetime
    amount: int
    paid_with_points: int
    points: int
    lines: list[NewLine]
    channel: str = "ONLINE"  # domain.campaigns.Channel


_ORDER_COLUMNS = (
    "id, programme_id, member_id, order_ref, status, currency, placed_at, recorded_at, "
    "matures_at, completed_at, closed_at, amount, returned_amount, paid_with_points, points, "
    "points_reversed, channel"
)


def _record_of(row: Any) -> OrderRecord:
    return OrderRecord(**{name: row[name] for name in _ORDER_COLUMNS.split(", ")})


async def record_by_id(order_id: int) -> OrderRecord:
    if not is_postgres():  # SQLite's driver gives datetimes as text: the model reads them
        order = await Order.get(id=order_id)
        return _record_of({name: getattr(order, name) for name in _ORDER_COLUMNS.split(", ")})
    rows = await connections.get("default").execute_query_dict(
        f"SELECT {_ORDER_COLUMNS} FROM orders WHERE id = $1", [order_id]
    )
    return _record_of(rows[0])


# The order, its lines, its ledger row, the member's balances with the event of their change,
# and the idempotency key's result: one statement. Everything hangs off the order's insert,
# so an order id taken already (ON CONFLICT DO NOTHING: no row) writes nothing at all; the
# ledger row, balances and event only with points to credit ($19 > 0). The caller holds the
# member's row lock.
_RECORD = """
WITH o AS (
    INSERT INTO orders (programme_id, member_id, order_ref, status, currency, placed_at,
        recorded_at, matures_at, completed_at, closed_at, amount, returned_amount,
        paid_with_points, points, points_reversed, channel)
    VALUES ($1::int, $2::int, $3::text, 'PENDING', $4::text, $5::timestamptz,
        $6::timestamptz, $7::timestamptz, NULL, NULL, $8::bigint, 0, $9::bigint, $10::bigint,
        0, $29::text)
    ON CONFLICT (programme_id, order_ref) DO NOTHING
    RETURNING id
),
l AS (
    INSERT INTO order_lines (order_id, sku, category, unit_price, quantity, discounted, points,
        rules, returned_quantity, points_reversed)
    SELECT o.id, t.sku, t.category, t.unit_price, t.quantity, t.discounted, t.points,
        t.rules::jsonb, 0, 0
    FROM o, unnest($11::text[], $12::text[], $13::bigint[], $14::int[], $15::bool[],
        $16::bigint[], $17::text[]) AS t(sku, category, unit_price, quantity, discounted,
        points, rules)
),
k AS (
    UPDATE idempotency_keys SET result = jsonb_build_object('orderId', o.id)
    FROM o WHERE idempotency_keys.id = $18::bigint
),
tx AS (
    INSERT INTO point_transactions (programme_id, member_id, kind, bucket, amount,
        available_after, pending_after, reference_type, reference, reason, actor,
        idempotency_key, reverses_id, shortfall, created_at)
    SELECT $1::int, $2::int, 'EARN', 'PENDING', $19::bigint, $20::bigint, $21::bigint,
        'ORDER', $3::text, $22::text, $23::text, $24::text, NULL, 0, $6::timestamptz
    FROM o WHERE $19::bigint > 0
),
m AS (
    UPDATE members SET points_available = $20::bigint, points_pending = $21::bigint,
        event_seq = event_seq + 1
    FROM o WHERE members.id = $2::int AND $19::bigint > 0
    RETURNING members.event_seq
),
e AS (
    INSERT INTO events
        (event_id, programme_id, member_id, type, sequence, occurred_at, recorded_at, payload)
    SELECT $25::uuid, $1::int, $2::int, $26::text, m.event_seq, $6::timestamptz,
        $27::timestamptz, $28::jsonb
    FROM m
)
SELECT id FROM o
"""


_COMPACT = json.JSONEncoder(separators=(",", ":"))  # json.dumps's, made once


def _dumps(value: Any) -> str:
    return _COMPACT.encode(value)


def _order_values(order: NewOrder) -> list[Any]:
    """The order's and its lines' parameters ($1-$17), in the order both writing statements
    (the locking one and the optimistic one) take them."""
    lines = order.lines
    return [
        order.programme_id,
        order.member_id,
        order.order_ref,
        order.currency,
        order.placed_at,
        order.recorded_at,
        order.matures_at,
        order.amount,
        order.paid_with_points,
        order.points,
        [x.sku for x in lines],
        [x.category for x in lines],
        [x.unit_price for x in lines],
        [x.quantity for x in lines],
        [x.discounted for x in lines],
        [x.points for x in lines],
        [_dumps(x.rules) for x in lines],
    ]


async def record(
    order: NewOrder, *, key_id: int, credit: NewRow | None, event: NewEvent | None
) -> OrderRecord | None:
    """Write a PENDING order as above; None when its order id is taken (nothing written).
    `credit` is the EARN row into the pending bucket (None: the order earned nothing) and
    `event` the event it makes."""
    if not is_postgres():
        order_id = await _record_sqlite(order, key_id=key_id, credit=credit, event=event)
        return None if order_id is None else record_of_new(order, order_id)
    assert (credit is None) == (event is None) and order.status == "PENDING"
    # the statement writes an order's EARN into the pending bucket, dated when it is recorded
    assert credit is None or (
        (credit.kind, credit.bucket, credit.reference_type, credit.reference, credit.created_at)
        == ("EARN", "PENDING", "ORDER", order.order_ref, order.recorded_at)
    )
    assert event is None or event.occurred_at == order.recorded_at
    rows = await connections.get("default").execute_query_dict(
        _RECORD,
        [
            *_order_values(order),
            key_id,
            credit.amount if credit else 0,
            credit.available_after if credit else 0,
            credit.pending_after if credit else 0,
            credit.reason if credit else "",
            credit.actor if credit else "",
            credit.idempotency_key if credit else None,
            event.event_id if event else None,
            event.type if event else "",
            event.recorded_at if event else order.recorded_at,
            _dumps(event.payload) if event else "{}",
            order.channel,
        ],
    )
    return record_of_new(order, int(rows[0]["id"])) if rows else None


async def _record_sqlite(
    order: NewOrder, *, key_id: int, credit: NewRow | None, event: NewEvent | None
) -> int | None:
    """The same writes, one statement each: SQLite runs one writer at a time, and a failed
    statement there rolls back only itself."""
    from db.repositories import events as event_repo
    from db.repositories import idempotency as key_repo

    try:
        row = await Order.create(
            programme_id=order.programme_id,
            member_id=order.member_id,
            order_ref=order.order_ref,
            status=order.status,
            currency=order.currency,
            placed_at=order.placed_at,
            recorded_at=order.recorded_at,
            matures_at=order.matures_at,
            amount=order.amount,
            paid_with_points=order.paid_with_points,
            points=order.points,
            channel=order.channel,
        )
    except IntegrityError as error:
        if not is_unique_violation(error):
            raise
        return None
    await OrderLine.bulk_create(
        [OrderLine(order_id=row.id, **line.__dict__) for line in order.lines]
    )
    await key_repo.store_result(key_id, {"orderId": row.id})
    if credit is not None and event is not None:
        await PointTransaction.create(
            programme_id=order.programme_id, member_id=order.member_id, **credit.__dict__
        )
        await Member.filter(id=order.member_id).update(
            points_available=credit.available_after, points_pending=credit.pending_after
        )
        await event_repo.insert(
            event_id=event.event_id,
            programme_id=order.programme_id,
            member_id=order.member_id,
            type=event.type,
            occurred_at=event.occurred_at,
            recorded_at=event.recorded_at,
            payload=event.payload,
        )
    return int(row.id)


# An order's completion: its pending points made available (two ledger rows, in this order,
# and the lot of the credit), the member's balances and qualifying spend with the credit's
# event, and the order's status: one statement. Without points to move ($12 false) only the
# member's spend and the order change. The caller holds the member's and the order's locks.
_COMPLETE = """
WITH t AS (
    INSERT INTO point_transactions (programme_id, member_id, kind, bucket, amount,
        available_after, pending_after, reference_type, reference, reason, actor,
        idempotency_key, reverses_id, shortfall, created_at)
    SELECT $1::int, $2::int, $13::text, v.bucket, v.amount, v.available_after,
        v.pending_after, $20::text, $21::text, $22::text, $23::text, $24::text, NULL, 0,
        $25::timestamptz
    FROM (VALUES (1, 'PENDING', $14::bigint, $15::bigint, $16::bigint),
                 (2, 'AVAILABLE', $17::bigint, $18::bigint, $19::bigint))
        AS v(n, bucket, amount, available_after, pending_after)
    WHERE $12::bool
    ORDER BY v.n
    RETURNING id, bucket
),
lot AS (
    INSERT INTO point_lots
        (programme_id, member_id, source_id, amount, remaining, earned_at, expires_at)
    SELECT $1::int, $2::int, t.id, $26::bigint, $26::bigint, $25::timestamptz,
        $27::timestamptz
    FROM t WHERE t.bucket = 'AVAILABLE' AND $26::bigint > 0
),
m AS (
    UPDATE members SET points_available = $6::bigint, points_pending = $7::bigint,
        points_held = $8::bigint, points_shortfall = $9::bigint,
        last_earned_at = $10::timestamptz, expiry_due_at = $11::timestamptz,
        qualifying_spend = $5::bigint,
        event_seq = event_seq + CASE WHEN $12::bool THEN 1 ELSE 0 END
    WHERE id = $2::int
    RETURNING event_seq
),
e AS (
    INSERT INTO events
        (event_id, programme_id, member_id, type, sequence, occurred_at, recorded_at, payload)
    SELECT $28::uuid, $1::int, $2::int, $29::text, m.event_seq, $30::timestamptz,
        $31::timestamptz, $32::jsonb
    FROM m WHERE $12::bool
)
UPDATE orders SET status = 'COMPLETED', completed_at = $4::timestamptz WHERE id = $3::bigint
"""


async def complete(order: Order, member: Member, move: Any) -> None:
    """Write an order's completion as above. `order` and `member` carry their new values
    (status, completed_at; balances and qualifying spend); `move` is the ledger's `Maturing`
    (None: no points left to make available)."""
    assert order.status == "COMPLETED" and order.completed_at is not None
    if not is_postgres():
        await _complete_sqlite(order, member, move)
        return
    debit, credit = (move.debit, move.credit) if move else (None, None)
    await connections.get("default").execute_query_dict(
        _COMPLETE,
        [
            order.programme_id,
            member.id,
            order.id,
            order.completed_at,
            member.qualifying_spend,
            member.points_available,
            member.points_pending,
            member.points_held,
            member.points_shortfall,
            member.last_earned_at,
            member.expiry_due_at,
            move is not None,
            debit.kind if debit else "",
            debit.amount if debit else 0,
            debit.available_after if debit else 0,
            debit.pending_after if debit else 0,
            credit.amount if credit else 0,
            credit.available_after if credit else 0,
            credit.pending_after if credit else 0,
            credit.reference_type if credit else "",
            credit.reference if credit else "",
            credit.reason if credit else "",
            credit.actor if credit else "",
            credit.idempotency_key if credit else None,
            credit.created_at if credit else order.completed_at,
            move.lot_amount if move else 0,
            move.lot_expires_at if move else None,
            move.event.event_id if move else None,
            move.event.type if move else "",
            move.event.occurred_at if move else order.completed_at,
            move.event.recorded_at if move else order.completed_at,
            _dumps(move.event.payload) if move else "{}",
        ],
    )


async def _complete_sqlite(order: Order, member: Member, move: Any) -> None:
    from db.repositories import events as event_repo
    from db.repositories import points as points_repo

    if move is not None:
        await PointTransaction.create(
            programme_id=order.programme_id, member_id=member.id, **move.debit.__dict__
        )
        credit = await PointTransaction.create(
            programme_id=order.programme_id, member_id=member.id, **move.credit.__dict__
        )
        if move.lot_amount > 0:
            await points_repo.insert_lot(
                programme_id=order.programme_id,
                member_id=member.id,
                source_id=credit.id,
                amount=move.lot_amount,
                earned_at=move.credit.created_at,
                expires_at=move.lot_expires_at,
            )
        await event_repo.insert(
            event_id=move.event.event_id,
            programme_id=order.programme_id,
            member_id=member.id,
            type=move.event.type,
            occurred_at=move.event.occurred_at,
            recorded_at=move.event.recorded_at,
            payload=move.event.payload,
        )
    await Member.filter(id=member.id).update(
        qualifying_spend=member.qualifying_spend,
        **{name: getattr(member, name) for name in points_repo.BALANCES},
    )
    await Order.filter(id=order.id).update(status=order.status, completed_at=order.completed_at)


# ---- recordOrder without a transaction (PostgreSQL): read, then one conditional write --------


@dataclass(frozen=True)
class Seen:
    """What an optimistic recordOrder reads in one statement, locking nothing: the key's row
    stored before (a replay), the member with its row version (`xmin`), whether the order id
    is taken, and the id the new order will have (drawn from its sequence only when there is
    an order to write: a gap in the ids is harmless)."""

    stored: Stored | None
    member: LockedMember | None
    version: str | None
    ref_taken: bool
    order_id: int | None
    # what campaigns' audiences ask beyond the member row (services.campaigns.common), read
    # with it when a campaign running now may reward orders, so judging needs no more reads
    audience: AudienceFacts | None = None


# $1 programme, $2 principal, $3 key, $4 the member's externalId, $5 the order id, $6 the
# most orders of the member to count for campaigns (0: none; see campaign_audience).
_SEEN = f"""
SELECT k.operation AS old_operation, k.fingerprint AS old_fingerprint, k.result AS old_result,
    m.xmin::text AS version, {", ".join(f"m.{c}" for c in LOCKED_COLUMNS.split(", "))},
    r.taken AS ref_taken,
    CASE WHEN k.id IS NULL AND m.id IS NOT NULL AND NOT r.taken
        THEN nextval('orders_id_seq') END AS order_id,
    m.joined_at, s.lifecycle,
    CASE WHEN $6::int > 0 THEN (SELECT count(*) FROM (SELECT 1 FROM orders o
        WHERE o.member_id = m.id AND o.status <> 'CANCELLED' LIMIT $6::int) AS x) END AS orders
FROM (SELECT EXISTS (SELECT 1 FROM orders WHERE programme_id = $1::int AND order_ref = $5::text)
        AS taken) r
LEFT JOIN idempotency_keys k ON k.programme_id = $1::int AND k.principal = $2::text
    AND k.key = $3::text
LEFT JOIN members m ON m.programme_id = $1::int AND m.external_id = $4::text
LEFT JOIN member_segments s ON $7::bool AND s.member_id = m.id
"""


async def seen_for_order(
    claim: list[Any],
    external_id: str,
    order_ref: str,
    *,
    orders_up_to: int = 0,
    audience: bool = False,
) -> Seen:
    """One statement, no transaction (see `Seen`). `claim` is the key's `claim_values`. With
    `audience` (a campaign may reward orders now), the member's join date, segment and
    orders counted up to `orders_up_to` come with it."""
    rows = await connections.get("default").execute_query_dict(
        _SEEN, [*claim[:3], external_id, order_ref, orders_up_to, audience]
    )
    row = rows[0]
    stored = None
    if row["old_operation"] is not None:
        stored = Stored(row["old_operation"], row["old_fingerprint"], _json(row["old_result"]))
    member = locked_of(row) if row["id"] is not None else None
    order_id = row["order_id"]
    return Seen(
        stored=stored,
        member=member,
        version=row["version"],
        ref_taken=bool(row["ref_taken"]),
        order_id=int(order_id) if order_id is not None else None,
        audience=AudienceFacts(row["joined_at"], row["lifecycle"], int(row["orders"] or 0))
        if audience and member is not None
        else None,
    )


# Everything in one statement run on its own (autocommit), and only if the member row is
# still the version read ($29): the member's update comes first, and every other write
# selects from it, so a member changed meanwhile (any ledger write updates its row) writes
# nothing. Before it, the key's advisory lock that a locking claim of it takes
# (db.repositories.idempotency, same name), without waiting: a twin holding it makes this
# write nothing too. So a twin with the key never waits on this statement's member row
# while this one waits on its key (a deadlock: a locking claim takes the key, then the
# member), and a locking twin that finds the lock taken waits for this one's commit. The
# key's row is inserted with its result; a twin's key, or an order id taken meanwhile, is a
# unique violation that undoes the whole statement. The member's balances are written even
# when the order earns nothing, for the version check and its row lock. The audit row ($35:
# one to write) goes with it.
_RECORD_UNLESS_CHANGED = f"""
WITH {key_lock_cte(30)},
m AS (
    UPDATE members SET points_available = $20::bigint, points_pending = $21::bigint,
        event_seq = event_seq + CASE WHEN $19::bigint > 0 THEN 1 ELSE 0 END
    FROM lk WHERE lk.got AND members.id = $2::int AND members.xmin::text = $29::text
    RETURNING members.event_seq
),
{stored_key_cte(30, result="jsonb_build_object('orderId', $18::bigint)", after="m")},
o AS (
    INSERT INTO orders (id, programme_id, member_id, order_ref, status, currency, placed_at,
        recorded_at, matures_at, completed_at, closed_at, amount, returned_amount,
        paid_with_points, points, points_reversed, channel)
    SELECT $18::bigint, $1::int, $2::int, $3::text, 'PENDING', $4::text, $5::timestamptz,
        $6::timestamptz, $7::timestamptz, NULL, NULL, $8::bigint, 0, $9::bigint, $10::bigint, 0,
        $47::text
    FROM k
    RETURNING id
),
l AS (
    INSERT INTO order_lines (order_id, sku, category, unit_price, quantity, discounted, points,
        rules, returned_quantity, points_reversed)
    SELECT o.id, t.sku, t.category, t.unit_price, t.quantity, t.discounted, t.points,
        t.rules::jsonb, 0, 0
    FROM o, unnest($11::text[], $12::text[], $13::bigint[], $14::int[], $15::bool[],
        $16::bigint[], $17::text[]) AS t(sku, category, unit_price, quantity, discounted,
        points, rules)
),
tx AS (
    INSERT INTO point_transactions (programme_id, member_id, kind, bucket, amount,
        available_after, pending_after, reference_type, reference, reason, actor,
        idempotency_key, reverses_id, shortfall, created_at)
    SELECT $1::int, $2::int, 'EARN', 'PENDING', $19::bigint, $20::bigint, $21::bigint,
        'ORDER', $3::text, $22::text, $23::text, $24::text, NULL, 0, $6::timestamptz
    FROM o WHERE $19::bigint > 0
),
e AS (
    INSERT INTO events
        (event_id, programme_id, member_id, type, sequence, occurred_at, recorded_at, payload)
    SELECT $25::uuid, $1::int, $2::int, $26::text, m.event_seq, $6::timestamptz,
        $27::timestamptz, $28::jsonb
    FROM m, o WHERE $19::bigint > 0
),
{inline_cte(36, after="o", wanted=35)}
SELECT id FROM o
"""


async def record_unless_changed(
    order: NewOrder,
    *,
    order_id: int,
    version: str,
    claim: list[Any],
    credit: NewRow | None,
    event: NewEvent | None,
    available: int,
    pending: int,
    audit: dict[str, Any] | None,
) -> OrderRecord | None:
    """Write a PENDING order as above (PostgreSQL, outside a transaction); None when nothing
    was written: the member changed since `version` was read, or a twin's key or an order id
    was written meanwhile (read again). `available`/`pending` are the member's balances after
    it (as read, when the order earns nothing); `claim` the key's `claim_values`; `audit` the
    audit row's columns (`db.repositories.audit.insert`'s), None for none."""
    assert (credit is None) == (event is None) and order.status == "PENDING"
    assert credit is None or (
        (credit.kind, credit.bucket, credit.reference_type, credit.reference, credit.created_at)
        == ("EARN", "PENDING", "ORDER", order.order_ref, order.recorded_at)
        and (credit.available_after, credit.pending_after) == (available, pending)
    )
    assert event is None or event.occurred_at == order.recorded_at
    programme_id, principal, key, operation, fingerprint, now = claim
    assert programme_id == order.programme_id
    values = [
        *_order_values(order),
        order_id,
        credit.amount if credit else 0,
        available,
        pending,
        credit.reason if credit else "",
        credit.actor if credit else "",
        credit.idempotency_key if credit else None,
        event.event_id if event else None,
        event.type if event else "",
        event.recorded_at if event else order.recorded_at,
        _dumps(event.payload) if event else "{}",
        version,
        principal,
        key,
        operation,
        fingerprint,
        now,
        audit is not None,
        *inline_values(audit, now),
        order.channel,
    ]
    rows = await rows_unless_unique_violation(_RECORD_UNLESS_CHANGED, values)
    return record_of_new(order, int(rows[0]["id"])) if rows else None


def record_of_new(order: NewOrder, order_id: int) -> OrderRecord:
    """The row a new PENDING order is written as."""
    return OrderRecord(
        id=order_id,
        programme_id=order.programme_id,
        member_id=order.member_id,
        order_ref=order.order_ref,
        status=order.status,
        currency=order.currency,
        placed_at=order.placed_at,
        recorded_at=order.recorded_at,
        matures_at=order.matures_at,
        completed_at=None,
        closed_at=None,
        amount=order.amount,
        returned_amount=0,
        paid_with_points=order.paid_with_points,
        points=order.points,
        points_reversed=0,
        channel=order.channel,
    )
