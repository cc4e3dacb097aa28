from __future__ import annotations

from datetime import datetime
from typing import Any

from db.models import Order, OrderLine


async def get(programme_id: int, order_ref: str) -> Order | None:
    return await Order.get_or_none(programme_id=programme_id, order_ref=order_ref)


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
