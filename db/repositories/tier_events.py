"""Qualifying activity and tier history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise import connections
from tortoise.expressions import Q
from tortoise.functions import Sum

from db.connection import is_postgres
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


# The event and, in the same statement, the sums `sums` reads with it counted: the statement's
# other parts do not see the row it inserts, so its own share is added when it is in range.
_ADD_AND_SUM = """
WITH w AS (SELECT $9::timestamptz AS since, $10::bigint AS after, $11::timestamptz AS until),
ins AS (
    INSERT INTO qualifying_events
        (programme_id, member_id, at, booked_at, spend, orders, growth, reference)
    VALUES ($1::int, $2::int, $3::timestamptz, $4::timestamptz, $5::bigint, $6::int,
        $7::bigint, $8::text)
    RETURNING id, at, spend, orders, growth
),
counted AS (
    SELECT e.spend, e.orders, e.growth FROM qualifying_events e, w
    WHERE e.member_id = $2::int AND (e.at > w.since OR (e.at = w.since AND e.id > w.after))
        AND e.at < w.until
    UNION ALL
    SELECT i.spend, i.orders, i.growth FROM ins i, w
    WHERE (i.at > w.since OR (i.at = w.since AND i.id > w.after)) AND i.at < w.until
)
SELECT sum(spend) AS spend_sum, sum(orders) AS orders_sum, sum(growth) AS growth_sum
FROM counted
"""


async def add_event_and_sum(
    *,
    programme_id: int,
    member_id: int,
    at: datetime,
    booked_at: datetime,
    spend: int,
    orders: int,
    growth: int,
    reference: str,
    since: datetime,
    until: datetime,
    after_event_id: int,
) -> dict[str, int]:
    """`add_event`, then `sums` over [since, until) with it: one statement on PostgreSQL."""
    if not is_postgres():
        await add_event(
            programme_id=programme_id,
            member_id=member_id,
            at=at,
            booked_at=booked_at,
            spend=spend,
            orders=orders,
            growth=growth,
            reference=reference,
        )
        return await sums(member_id, since=since, until=until, after_event_id=after_event_id)
    rows = await connections.get("default").execute_query_dict(
        _ADD_AND_SUM,
        [
            programme_id,
            member_id,
            at,
            booked_at,
            spend,
            orders,
            growth,
            reference,
            since,
            after_event_id,
            until,
        ],
    )
    return _sums(rows[0])


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
