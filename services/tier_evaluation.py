"""Tier qualification at work: upgrades the moment a completed order crosses a threshold,
re-evaluation on returns, and the decision at the end of each validity period (the job).

Callers hold the member's row lock inside their transaction. The member -> tier cache is
bumped by the caller after commit (see `forget_member_tier`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from db import tier_cache
from db.models import Member, Programme
from db.repositories import points as points_repo
from db.repositories import tier_events as event_repo
from domain.lots import add_months
from domain.tier_rules import (
    Metric,
    Progress,
    TierPolicy,
    Window,
    after_activity,
    after_return,
    at_period_end,
    progress,
    window_start,
)
from domain.tiers import TierView, entry_tier
from services.clock import now_of

BATCH = 500


def policy_of(programme: Programme) -> TierPolicy:
    return TierPolicy.from_json(programme.tier_policy)


async def _total(
    member: Member, policy: TierPolicy, since: datetime, until: datetime | None = None
) -> int:
    """The metric over [since, until). Counting from the moment of a tier change, the activity
    that caused the change (dated that very moment) is left out: the accumulator or the new
    tier's first period starts after it."""
    changed_then = (
        member.tier_since is not None
        and since == member.tier_since
        and member.tier_since != member.joined_at
    )
    sums = await event_repo.sums(member.id, since=since, until=until, strict=changed_then)
    return sums[policy.metric.value]


async def qualifying_total(member: Member, policy: TierPolicy, now: datetime) -> int:
    start = window_start(policy, now=now, joined_at=member.joined_at, tier_since=member.tier_since)
    return await _total(member, policy, start)


async def record_activity(
    member: Member,
    programme: Programme,
    *,
    at: datetime,
    spend: int,
    orders: int,
    growth: int,
    reference: str,
    reason: str,
) -> None:
    """Book qualifying activity; upgrade at once if the total now earns a higher tier."""
    now = now_of(programme)
    await event_repo.add_event(
        programme_id=programme.id,
        member_id=member.id,
        at=at,
        booked_at=now,
        spend=spend,
        orders=orders,
        growth=growth,
        reference=reference,
    )
    tiers = await tier_cache.programme_tiers(programme.id)
    if not tiers:
        return
    policy = policy_of(programme)
    total = await qualifying_total(member, policy, now)
    current = next((t for t in tiers if t.id == member.tier_id), None)
    earned = after_activity(current, tiers, total)
    if earned is not None and (current is None or earned.id != current.id):
        await change_tier(member, earned, policy, reason=reason, total=total, at=now, tiers=tiers)


async def record_return(
    member: Member,
    programme: Programme,
    *,
    completed_at: datetime,
    spend: int,
    orders: int,
    growth: int,
    reference: str,
) -> None:
    """Book a return (dated like the completion it undoes). If that order helped earn the
    current tier, re-evaluate at once: the total that earned the tier, less every return of
    such orders since, must still meet the tier's entry threshold."""
    now = now_of(programme)
    await event_repo.add_event(
        programme_id=programme.id,
        member_id=member.id,
        at=completed_at,
        booked_at=now,
        spend=spend,
        orders=orders,
        growth=growth,
        reference=reference,
    )
    tiers = await tier_cache.programme_tiers(programme.id)
    current = next((t for t in tiers if t.id == member.tier_id), None)
    since = member.tier_since
    if current is None or since is None or completed_at > since:
        return  # the order came after the tier was earned: only retention will feel it
    earned_by = await event_repo.last_change_to(member.id, current.id)
    if earned_by is None:
        return  # the entry tier, given at registration
    policy = policy_of(programme)
    late = (
        await event_repo.late_sums(member.id, before=since, after_event_id=earned_by.last_event_id)
    )[policy.metric.value]
    earning_total = earned_by.qualifying_total + late
    new = after_return(current, tiers, earning_total)
    if new.id != current.id:
        await change_tier(
            member, new, policy, reason="ORDER_RETURNED", total=earning_total, at=now, tiers=tiers
        )


async def change_tier(
    member: Member,
    tier: TierView,
    policy: TierPolicy,
    *,
    reason: str,
    total: int,
    at: datetime,
    tiers: list[TierView],
) -> None:
    """Move the member, start the new tier's validity period, and write the history row."""
    previous = member.tier_id
    member.tier_id = tier.id
    member.tier_since = at
    member.tier_period_start = at
    base = entry_tier(tiers)
    member.tier_valid_until = (
        None if base is not None and tier.id == base.id else add_months(at, policy.validity_months)
    )
    await member.save(
        update_fields=["tier_id", "tier_since", "tier_period_start", "tier_valid_until"]
    )
    await event_repo.add_change(
        last_event_id=await event_repo.last_event_id(member.id),
        programme_id=member.programme_id,
        member_id=member.id,
        from_tier_id=previous,
        to_tier_id=tier.id,
        reason=reason,
        qualifying_total=total,
        at=at,
    )


async def end_periods(programme: Programme) -> tuple[int, int]:
    """Job: members whose tier validity ended keep it (retention met in the period) or drop.
    Returns (members judged, members moved). A second run finds no one due."""
    tiers = await tier_cache.programme_tiers(programme.id)
    if not tiers:
        return 0, 0
    policy = policy_of(programme)
    now = now_of(programme)
    judged = moved = 0
    after_id = 0
    while True:
        due = await event_repo.due_for_period_end(programme.id, now, after_id=after_id, limit=BATCH)
        if not due:
            return judged, moved
        for member_id in due:
            after_id = member_id
            async with in_transaction():
                member = await points_repo.lock_member(programme.id, member_id)
                changed = await _judge_periods(member, policy, tiers, now)
            judged += 1
            moved += changed
            if changed:
                await tier_cache.forget_member_tier(programme.id, member_id)


async def _judge_periods(
    member: Member, policy: TierPolicy, tiers: list[TierView], now: datetime
) -> bool:
    changed = False
    while member.tier_valid_until is not None and member.tier_valid_until <= now:
        current = next((t for t in tiers if t.id == member.tier_id), None)
        end = member.tier_valid_until
        start = member.tier_period_start or member.tier_since or member.joined_at
        if current is None:
            member.tier_valid_until = None
            await member.save(update_fields=["tier_valid_until"])
            break
        total = await qualifying_total(member, policy, end)
        # Retention is judged on the period, except under a rolling window ("800 in the last
        # three months, re-evaluated monthly"), where the window is the measure.
        period_total = (
            total
            if policy.window is Window.ROLLING_MONTHS
            else await _total(member, policy, start, end)
        )
        kept = at_period_end(current, tiers, period_total=period_total, qualifying_total=total)
        if kept.id == current.id:
            member.tier_period_start = end
            member.tier_valid_until = add_months(end, policy.validity_months)
            await member.save(update_fields=["tier_period_start", "tier_valid_until"])
        else:
            await change_tier(
                member, kept, policy, reason="PERIOD_ENDED", total=period_total, at=end, tiers=tiers
            )
            changed = True
    return changed


async def progress_of(programme: Programme, member: Member) -> Progress:
    tiers = await tier_cache.programme_tiers(programme.id)
    policy = policy_of(programme)
    now = now_of(programme)
    total = await qualifying_total(member, policy, now)
    start = member.tier_period_start or member.tier_since or member.joined_at
    period_total = await _total(member, policy, start)
    current = next((t for t in tiers if t.id == member.tier_id), None)
    return progress(current, tiers, total=total, period_total=period_total, qualifying_total=total)


def order_activity(amount_before: int, amount_after: int) -> dict[str, Any]:
    """Spend and growth (1 per yuan, on the running total so partial returns add up)."""
    return {
        "spend": amount_after - amount_before,
        "growth": amount_after // 100 - amount_before // 100,
    }


__all__ = ["Metric", "end_periods", "progress_of", "record_activity"]
