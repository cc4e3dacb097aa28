"""Orders read: by reference (with the member's inviter, in one statement), locked, their
lines, the pending ones due to mature, the completed ones counted; and the rows recordOrder
works in (`NewOrder` and `NewLine` to write, `OrderRecord` to answer with, mapped once), which
the writers (db.repositories.order_writes, db.repositories.optimistic_orders) share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections

from db.connection import is_postgres
from db.models import Order, OrderLine


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


# ---- the rows of recordOrder, plain (no model instance) -----------------------------------


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
