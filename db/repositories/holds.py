from __future__ import annotations

from datetime import datetime

from db.models import PointHold


async def create(
    *,
    programme_id: int,
    member_id: int,
    order_ref: str,
    amount: int,
    at: datetime,
    expires_at: datetime,
) -> PointHold:
    return await PointHold.create(
        programme_id=programme_id,
        member_id=member_id,
        order_ref=order_ref,
        amount=amount,
        status="HELD",
        created_at=at,
        expires_at=expires_at,
    )


async def get(programme_id: int, hold_id: int) -> PointHold | None:
    return await PointHold.get_or_none(programme_id=programme_id, id=hold_id)


async def lock(programme_id: int, hold_id: int) -> PointHold | None:
    return (
        await PointHold.filter(programme_id=programme_id, id=hold_id)
        .select_for_update(no_key=True)
        .first()
    )


async def save(hold: PointHold, *fields: str) -> None:
    await hold.save(update_fields=list(fields))


async def expired_open(programme_id: int, now: datetime, limit: int) -> list[PointHold]:
    return (
        await PointHold.filter(programme_id=programme_id, status="HELD", expires_at__lte=now)
        .order_by("id")
        .limit(limit)
    )


async def open_for_order(programme_id: int, member_id: int, order_ref: str) -> list[PointHold]:
    return (
        await PointHold.filter(
            programme_id=programme_id, member_id=member_id, order_ref=order_ref, status="HELD"
        )
        .select_for_update(no_key=True)
        .order_by("id")
    )
