"""Every query of the catalogue, segments, recommendation lists and the purchase history
they are built from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tortoise.expressions import Q
from tortoise.functions import Max
from tortoise.queryset import QuerySet

from db.models import (
    Member,
    MemberSegment,
    Order,
    OrderLine,
    Product,
    RecommendationList,
)
from db.repositories.paging import keyset
from domain.paging import PageRequest


async def products_by_skus(programme_id: int, skus: Sequence[str]) -> list[Product]:
    return await Product.filter(programme_id=programme_id, sku__in=list(skus))


async def create_products(rows: list[Product]) -> None:
    await Product.bulk_create(rows, batch_size=500)


async def update_products(rows: list[Product]) -> None:
    await Product.bulk_update(
        rows,
        fields=["title", "category", "price", "replenish_days", "active", "updated_at"],
        batch_size=500,
    )


def _products(programme_id: int, category: str | None) -> QuerySet[Product]:
    query = Product.filter(programme_id=programme_id)
    return query.filter(category=category) if category is not None else query


async def products_page(
    programme_id: int, request: PageRequest, *, category: str | None
) -> list[Product]:
    return await keyset(_products(programme_id, category), request, list_descending=False)


async def products_count(programme_id: int, *, category: str | None) -> int:
    return int(await _products(programme_id, category).count())


async def all_products(programme_id: int) -> list[Product]:
    return await Product.filter(programme_id=programme_id)


async def purchase_lines(programme_id: int) -> list[tuple[int, datetime, str]]:
    """(member, placed at, sku) of every line not cancelled nor wholly returned."""
    rows = (
        await OrderLine.filter(order__programme_id=programme_id)
        .exclude(order__status="CANCELLED")
        .values_list("order__member_id", "order__placed_at", "sku", "quantity", "returned_quantity")
    )
    return [(int(m), at, str(sku)) for m, at, sku, qty, back in rows if back < qty]


async def order_totals(programme_id: int) -> list[tuple[int, datetime, int]]:
    """(member, placed at, amount kept) of every order not cancelled."""
    rows = (
        await Order.filter(programme_id=programme_id)
        .exclude(status="CANCELLED")
        .values_list("member_id", "placed_at", "amount", "returned_amount")
    )
    return [(int(m), at, int(amount) - int(back)) for m, at, amount, back in rows]


async def members_for_build(programme_id: int) -> list[tuple[int, datetime, bool]]:
    rows = await Member.filter(programme_id=programme_id).values_list(
        "id", "joined_at", "consent_profiling"
    )
    return [(int(i), at, bool(consent)) for i, at, consent in rows]


async def replace_segments(programme_id: int, rows: list[MemberSegment]) -> None:
    await MemberSegment.filter(programme_id=programme_id).delete()
    await MemberSegment.bulk_create(rows, batch_size=1000)


async def replace_lists(programme_id: int, rows: list[RecommendationList]) -> None:
    await RecommendationList.filter(programme_id=programme_id).delete()
    await RecommendationList.bulk_create(rows, batch_size=500)


async def segment_of(member_id: int) -> MemberSegment | None:
    return await MemberSegment.get_or_none(member_id=member_id)


async def members_in_segment(
    programme_id: int, lifecycle: str, *, after_id: int | None, limit: int
) -> list[Member]:
    query = Member.filter(programme_id=programme_id, segment__lifecycle=lifecycle)
    if after_id is not None:
        query = query.filter(id__gt=after_id)
    return await query.order_by("id").limit(limit)


async def lists_for(programme_id: int, member_id: int | None) -> list[RecommendationList]:
    """The member's own list and the programme's popular list, in one statement."""
    whose = Q(member_id__isnull=True)
    if member_id is not None:
        whose = whose | Q(member_id=member_id)
    return await RecommendationList.filter(whose, programme_id=programme_id)


async def last_purchases(member_id: int) -> dict[str, datetime]:
    """Each product the member bought (in an order not cancelled), with the latest time."""
    rows = (
        await OrderLine.filter(order__member_id=member_id)
        .exclude(order__status="CANCELLED")
        .annotate(last=Max("order__placed_at"))
        .group_by("sku")
        .values_list("sku", "last")
    )
    return {str(sku): last for sku, last in rows}
