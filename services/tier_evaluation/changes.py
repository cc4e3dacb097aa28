"""Tier changes: the reasons a member moves, the new tier's validity, and the move itself —
the member's row, the tier history row and the TIER_CHANGED event. The caller holds the
member's row lock and bumps the member -> tier cache after commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from db.models import Member, Programme
from db.repositories import tier_events as event_repo
from domain.events import EventType, tier_changed_payload, tier_direction
from domain.lots import add_months
from domain.tiers import TierView, entry_tier
from services import events as event_service
from services.clock import zone_of
from services.tier_evaluation.measure import policy_of

UPGRADE, RETURNED, PERIOD_ENDED = "ORDER_COMPLETED", "ORDER_RETURNED", "PERIOD_ENDED"


def new_valid_until(
    tier: TierView, tiers: list[TierView], programme: Programme, at: datetime
) -> datetime | None:
    """A tier moved to at `at` is valid until a validity period later; the entry tier for good."""
    base = entry_tier(tiers)
    if base is not None and tier.id == base.id:
        return None
    return add_months(at, policy_of(programme).validity_months, zone_of(programme))


def changed_payload(
    external_id: str,
    before: TierView | None,
    tier: TierView,
    *,
    reason: str,
    valid_until: datetime | None,
    total: int,
) -> dict[str, Any]:
    return tier_changed_payload(
        external_id=external_id,
        from_tier=(before.code, before.name) if before else None,
        to_tier=(tier.code, tier.name),
        direction=tier_direction(before.rank if before else None, tier.rank),
        reason=reason,
        valid_until=valid_until,
        qualifying_total=total,
    )


async def change_tier(
    member: Member,
    tier: TierView,
    programme: Programme,
    *,
    reason: str,
    total: int,
    at: datetime,
    tiers: list[TierView],
    counted_from: datetime | None,
) -> None:
    """Move the member, start the new tier's validity period, and write the history row."""
    previous = member.tier_id
    last_event = await event_repo.last_event_id(member.id)
    member.tier_id = tier.id
    member.tier_since = at
    member.tier_period_start = at
    member.tier_event_id = last_event
    member.tier_valid_until = new_valid_until(tier, tiers, programme, at)
    await member.save(
        update_fields=[
            "tier_id",
            "tier_since",
            "tier_period_start",
            "tier_event_id",
            "tier_valid_until",
        ]
    )
    await event_repo.add_change(
        programme_id=member.programme_id,
        member_id=member.id,
        from_tier_id=previous,
        to_tier_id=tier.id,
        reason=reason,
        qualifying_total=total,
        last_event_id=last_event,
        window_from=counted_from,
        at=at,
    )
    before = next((t for t in tiers if t.id == previous), None)
    await event_service.record(
        member.programme_id,
        EventType.TIER_CHANGED,
        changed_payload(
            member.external_id,
            before,
            tier,
            reason=reason,
            valid_until=member.tier_valid_until,
            total=total,
        ),
        occurred_at=at,
        member_id=member.id,
    )
