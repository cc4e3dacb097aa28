"""Orders written under the member's lock (the caller holds it, and the order's): recordOrder's
insert of the order with its lines, ledger row, balances, event and key result (one statement
on PostgreSQL, one per row on SQLite), an order's completion (its pending points made
available, in one statement too), and plain saves of an order's or a line's fields."""

from __future__ import annotations

import json
from typing import Any

from tortoise import connections
from tortoise.exceptions import IntegrityError

from db.connection import is_postgres, is_unique_violation
from db.models import Member, Order, OrderLine, PointTransaction
from db.repositories.orders import NewOrder, OrderRecord, record_of_new
from db.repositories.points import NewEvent, NewRow


async def create(lines: list[dict[str, Any]], **fields: Any) -> Order:
    order = await Order.create(**fields)
    await OrderLine.bulk_create([OrderLine(order_id=order.id, **line) for line in lines])
    return order


async def save(order: Order, *fields: str) -> None:
    await order.save(update_fields=list(fields))


async def save_line(line: OrderLine, *fields: str) -> None:
    await line.save(update_fields=list(fields))


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
    (status, completed_at; balances and qualifying spend); `move` is `ledger_rows.Maturing`
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
