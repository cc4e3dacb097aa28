"""Qualifying activity and tier history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Sum

from db.models import Member, QualifyingEvent, TierChange
from db.repositories.paging import keyset
from domain.paging import PageRequest

SUMS = {"spend_sum": Sum("spend"), "orders_sum": Sum("orders"), "growth_sum": Sum("growth")}


async def add_event(
    *,
    programme_id: int,
    member_id: int,
    at: datetime,
    booked_at: datetime,
    spend: int,
    orders: int,
    growth: int,
    reference: str,
) -> int:
    event = await QualifyingEvent.create(
        programme_id=programme_id,
        member_id=member_id,
        at=at,
        booked_at=booked_at,
        spend=spend,
        orders=orders,
        growth=growth,
        reference=reference,
    )
    return int(event.id)


async def last_event_id(member_id: int) -> int:
    row = await QualifyingEvent.filter(member_id=member_id).order_by("-id").first().values("id")
    return int(row["id"]) if row else 0


def _sums(row: dict[str, Any] | None) -> dict[str, int]:
    row = row or {}
    return {
        "SPEND": int(row.get("spend_sum") or 0),
        "ORDER_COUNT": int(row.get("orders_sum") or 0),
        "GROWTH": int(row.get("growth_sum") or 0),
    }


async def sums(
    member_id: int, *, since: datetime, until: datetime | None = None, after_event_id: int = 0
) -> dict[str, int]:
    """Spend, orders and growth of events dated in [since, until), leaving out those dated
    exactly `since` that were booked up to event `after_event_id`."""
    query = QualifyingEvent.filter(member_id=member_id).filter(
        Q(at__gt=since) | Q(at=since, id__gt=after_event_id)
    )
    if until is not None:
        query = query.filter(at__lt=until)
    return _sums(await query.annotate(**SUMS).first().values(*SUMS))


async def late_sums(
    member_id: int, *, before: datetime, after_event_id: int, window_from: datetime | None
) -> dict[str, int]:
    """Activity dated in [window_from, before] but booked after event `after_event_id`: returns
    of orders counted in the total that earned a tier, booked after it."""
    query = QualifyingEvent.filter(member_id=member_id, at__lte=before, id__gt=after_event_id)
    if window_from is not None:
        query = query.filter(at__gte=window_from)
    return _sums(await query.annotate(**SUMS).first().values(*SUMS))


async def last_change_to(member_id: int, tier_id: int) -> TierChange | None:
    return await TierChange.filter(member_id=member_id, to_tier_id=tier_id).order_by("-id").first()


async def add_change(
    *,
    programme_id: int,
    member_id: int,
    from_tier_id: int | None,
    to_tier_id: int | None,
    reason: str,
    qualifying_total: int,
    last_event_id: int,
    window_from: datetime | None,
    at: datetime,
) -> TierChange:
    return await TierChange.create(
        programme_id=programme_id,
        member_id=member_id,
        from_tier_id=from_tier_id,
        to_tier_id=to_tier_id,
        reason=reason,
        qualifying_total=qualifying_total,
        last_event_id=last_event_id,
        window_from=window_from,
        at=at,
    )


async def history_page(member_id: int, request: PageRequest) -> list[TierChange]:
    """Newest first, keyset by id."""
    return await keyset(TierChange.filter(member_id=member_id), request, list_descending=True)


async def history_count(member_id: int) -> int:
    return int(await TierChange.filter(member_id=member_id).count())


async def due_for_period_end(
    programme_id: int, now: datetime, *, after_id: int, limit: int
) -> list[int]:
    rows = (
        await Member.filter(programme_id=programme_id, tier_valid_until__lte=now, id__gt=after_id)
        .order_by("id")
        .limit(limit)
        .values("id")
    )
    return [int(r["id"]) for r in rows]
