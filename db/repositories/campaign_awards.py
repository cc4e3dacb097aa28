"""What campaigns gave members (campaign_awards): written in the transaction of the fact that
earned it (an order or another fact), read under the member's lock for the member's caps, and
found again by the order or fact when it is returned, cancelled or reversed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.functions import Count, Sum

from db.models import CampaignAward


@dataclass(frozen=True)
class MemberUse:
    points: int  # net of take-backs
    period_points: int  # within the period asked for
    rewarded: int  # awards not cancelled


async def member_use(
    member_id: int, periods: dict[int, tuple[datetime, datetime] | None]
) -> dict[int, MemberUse]:
    """Per campaign id in `periods`: the member's use of it, overall and within the period
    given for it (None: no period cap). Read under the member's lock, so a concurrent fact of
    the same member cannot slip past a cap."""
    if not periods:
        return {}
    base = CampaignAward.filter(
        member_id=member_id, campaign_id__in=list(periods), cancelled=False
    ).group_by("campaign_id")
    totals = {
        r["campaign_id"]: r
        for r in await base.annotate(
            points=Sum("points"), reversed=Sum("points_reversed"), rewarded=Count("id")
        ).values("campaign_id", "points", "reversed", "rewarded")
    }
    use: dict[int, MemberUse] = {}
    for campaign_id, period in periods.items():
        total = totals.get(campaign_id)
        if total is None:
            continue
        in_period = 0
        if period is not None:
            rows = await CampaignAward.filter(
                member_id=member_id,
                campaign_id=campaign_id,
                cancelled=False,
                awarded_at__gte=period[0],
                awarded_at__lt=period[1],
            ).values_list("points", "points_reversed")
            in_period = sum(p - r for p, r in rows)
        use[campaign_id] = MemberUse(
            points=int(total["points"] or 0) - int(total["reversed"] or 0),
            period_points=in_period,
            rewarded=int(total["rewarded"] or 0),
        )
    return use


async def insert(**fields: Any) -> CampaignAward:
    """One award row (see db.models.CampaignAward for the fields)."""
    return await CampaignAward.create(**fields)


async def insert_many(awards: list[dict[str, Any]]) -> None:
    """The awards of a new order, in one statement (db.models.CampaignAward's fields)."""
    await CampaignAward.bulk_create([CampaignAward(**fields) for fields in awards])


async def of_order(order_id: int) -> list[CampaignAward]:
    """The order's awards not cancelled, by id; the caller holds the order's lock."""
    return await CampaignAward.filter(order_id=order_id, cancelled=False).order_by("id")


async def of_fact(member_id: int, *, reference_type: str, reference: str) -> list[CampaignAward]:
    """The member's awards for one fact that is not an order (found by the fact's own
    reference), not cancelled, oldest first."""
    return await CampaignAward.filter(
        member_id=member_id,
        order_id=None,
        reference_type=reference_type,
        reference=reference,
        cancelled=False,
    ).order_by("id")


async def save(award: CampaignAward, *fields: str) -> None:
    await award.save(update_fields=list(fields))
