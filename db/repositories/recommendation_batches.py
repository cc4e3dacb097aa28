"""The purchase history `build-recommendations` reads, a page of members at a time (by id),
and the rows it writes, a chunk at a time: so the build's memory follows the page size, not
the programme."""

from __future__ import annotations

from datetime import datetime

from db.models import Member, MemberSegment, Order, OrderLine, RecommendationList


async def members_page(
    programme_id: int, *, after_id: int, limit: int
) -> list[tuple[int, datetime, bool]]:
    """(id, joined at, profiling consent) of the next `limit` members after `after_id`."""
    rows = (
        await Member.filter(programme_id=programme_id, id__gt=after_id)
        .order_by("id")
        .limit(limit)
        .values_list("id", "joined_at", "consent_profiling")
    )
    return [(int(i), at, bool(consent)) for i, at, consent in rows]


async def order_totals_of(
    programme_id: int, first_id: int, last_id: int
) -> list[tuple[int, datetime, int]]:
    """(member, placed at, amount kept) of the orders, not cancelled, of members with ids in
    [first_id, last_id]."""
    rows = (
        await Order.filter(
            programme_id=programme_id, member_id__gte=first_id, member_id__lte=last_id
        )
        .exclude(status="CANCELLED")
        .values_list("member_id", "placed_at", "amount", "returned_amount")
    )
    return [(int(m), at, int(amount) - int(back)) for m, at, amount, back in rows]


async def purchase_lines_of(
    programme_id: int, first_id: int, last_id: int
) -> list[tuple[int, datetime, str]]:
    """(member, placed at, sku) of the lines, not cancelled nor wholly returned, of members
    with ids in [first_id, last_id], oldest first."""
    rows = (
        await OrderLine.filter(
            order__programme_id=programme_id,
            order__member_id__gte=first_id,
            order__member_id__lte=last_id,
        )
        .exclude(order__status="CANCELLED")
        .order_by("order__placed_at", "id")
        .values_list("order__member_id", "order__placed_at", "sku", "quantity", "returned_quantity")
    )
    return [(int(m), at, str(sku)) for m, at, sku, qty, back in rows if back < qty]


async def forget_built(programme_id: int) -> None:
    """The last build's segments and lists, deleted (in the caller's transaction)."""
    await MemberSegment.filter(programme_id=programme_id).delete()
    await RecommendationList.filter(programme_id=programme_id).delete()


async def add_segments(rows: list[MemberSegment]) -> None:
    await MemberSegment.bulk_create(rows, batch_size=1000)


async def add_lists(rows: list[RecommendationList]) -> None:
    await RecommendationList.bulk_create(rows, batch_size=500)
