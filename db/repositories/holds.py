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


async def members_with_holds_lapsed(
    programme_id: int, now: datetime, *, after_id: int, limit: int
) -> list[int]:
    rows = (
        await PointHold.filter(
            programme_id=programme_id, status="HELD", expires_at__lte=now, member_id__gt=after_id
        )
        .distinct()
        .order_by("member_id")
        .limit(limit)
        .values("member_id")
    )
    return [int(r["member_id"]) for r in rows]


async def first_lapsed_of(member_id: int, now: datetime) -> PointHold | None:
    """The member's open hold that ran out first (by `now`), locked."""
    return (
        await PointHold.filter(member_id=member_id, status="HELD", expires_at__lte=now)
        .order_by("expires_at", "id")
        .select_for_update(no_key=True)
        .first()
    )


async def open_for_order(programme_id: int, member_id: int, order_ref: str) -> list[PointHold]:
    return (
        await PointHold.filter(
            programme_id=programme_id, member_id=member_id, order_ref=order_ref, status="HELD"
        )
        .select_for_update(no_key=True)
        .order_by("id")
    )
