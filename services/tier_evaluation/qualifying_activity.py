"""Qualifying activity: booking what counts towards a tier (completed orders, reviews) and
its returns. A completion that crosses a threshold upgrades at once; a return of what earned
(or kept) the current tier re-evaluates it at once. Callers hold the member's row lock inside
their transaction; the member -> tier cache is bumped by the caller after commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from db import tier_cache
from db.models import Member, Programme
from db.repositories import tier_events as event_repo
from domain.tier_rules import (
    after_activity,
    after_return,
    at_period_end,
    entry_tier_for,
    period_start,
)
from domain.tiers import TierView
from services.clock import now_of, zone_of
from services.points.ledger import INSTANT
from services.tier_evaluation.changes import PERIOD_ENDED, RETURNED, UPGRADE, change_tier
from services.tier_evaluation.measure import (
    policy_of,
    qualifying_total,
    qualifying_window,
    retention_total,
    window_from,
)


async def _book(member: Member, programme: Programme, *, at: datetime, **activity: Any) -> datetime:
    now = now_of(programme)
    await event_repo.add_event(
        programme_id=programme.id, member_id=member.id, at=at, booked_at=now, **activity
    )
    return now


async def record_activity(
    member: Member,
    programme: Programme,
    *,
    at: datetime,
    spend: int,
    orders: int,
    growth: int,
    reference: str,
) -> None:
    """Book qualifying activity dated `at`; upgrade at once if the total at that moment earns
    a higher tier. The upgrade is dated `at` too (never before the member's last change), so
    a completion the job books late moves the tier when it would have moved then."""
    tiers = await tier_cache.programme_tiers(programme.id)
    if not tiers:
        await _book(
            member, programme, at=at, spend=spend, orders=orders, growth=growth, reference=reference
        )
        return
    policy = policy_of(programme)
    tz = zone_of(programme)
    when = max(at, member.tier_since) if member.tier_since is not None else at
    # the activity booked, and the total at `when` read with it (qualifying_total's window)
    since, after = qualifying_window(member, policy, when, tz=tz)
    found = await event_repo.add_event_and_sum(
        programme_id=programme.id,
        member_id=member.id,
        at=at,
        booked_at=now_of(programme),
        spend=spend,
        orders=orders,
        growth=growth,
        reference=reference,
        since=since,
        until=when + INSTANT,
        after_event_id=after,
    )
    total = found[policy.metric.value]
    current = next((t for t in tiers if t.id == member.tier_id), None)
    earned = after_activity(current, tiers, total)
    if earned is not None and (current is None or earned.rank > current.rank):
        await change_tier(
            member,
            earned,
            programme,
            reason=UPGRADE,
            total=total,
            at=when,
            tiers=tiers,
            counted_from=window_from(member, policy, when, tz),
        )


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
    """Book a return (dated like the completion it undoes). If that order counted towards
    the current tier, re-evaluate at once: the total that earned (or, at a period end, kept)
    the tier, less returns of what it counted, must still earn (or keep) it — and the member
    never falls below what their total now earns."""
    now = await _book(
        member,
        programme,
        at=completed_at,
        spend=spend,
        orders=orders,
        growth=growth,
        reference=reference,
    )
    tiers = await tier_cache.programme_tiers(programme.id)
    current = next((t for t in tiers if t.id == member.tier_id), None)
    since = member.tier_since
    if current is None or since is None:
        return
    policy = policy_of(programme)
    tz = zone_of(programme)
    if completed_at > since:
        # It came after the tier was earned. If it counted in a period already judged "kept",
        # judge that period again without it (else a return after a period end keeps a tier
        # for a year on nothing).
        start = member.tier_period_start
        if member.tier_valid_until is not None and start is not None and completed_at < start:
            await _judge_again(member, programme, tiers, current, period_end=start, now=now)
        return
    change = await event_repo.last_change_to(member.id, current.id)
    if change is None:
        return  # the entry tier, given at registration
    late = (
        await event_repo.late_sums(
            member.id,
            before=since,
            after_event_id=change.last_event_id,
            window_from=change.window_from,
        )
    )[policy.metric.value]
    reduced = change.qualifying_total + late
    now_total = await qualifying_total(member, policy, now, tz=tz)
    if change.reason == PERIOD_ENDED:
        before = next((t for t in tiers if t.id == change.from_tier_id), current)
        new = at_period_end(before, tiers, period_total=reduced, qualifying_total=now_total)
    else:
        new = after_return(current, tiers, reduced)
    floor = entry_tier_for(tiers, now_total)
    if floor is not None and floor.rank > new.rank:
        new = floor if floor.rank <= current.rank else current
    if new.rank < current.rank:
        await change_tier(
            member,
            new,
            programme,
            reason=RETURNED,
            total=reduced,
            at=now,
            tiers=tiers,
            counted_from=change.window_from,
        )


async def _judge_again(
    member: Member,
    programme: Programme,
    tiers: list[TierView],
    current: TierView,
    *,
    period_end: datetime,
    now: datetime,
) -> None:
    # the period that ended at `period_end`, counted from the tier change like every period
    policy = policy_of(programme)
    tz = zone_of(programme)
    just_before = period_end - INSTANT
    start = period_start(
        policy, now=just_before, tier_since=member.tier_since or member.joined_at, tz=tz
    )
    period_total = await retention_total(member, policy, end=period_end, tz=tz, start=start)
    total = await qualifying_total(member, policy, now, tz=tz)
    kept = at_period_end(current, tiers, period_total=period_total, qualifying_total=total)
    if kept.rank < current.rank:
        await change_tier(
            member,
            kept,
            programme,
            reason=RETURNED,
            total=period_total,
            at=now,
            tiers=tiers,
            counted_from=start,
        )


def order_activity(amount_before: int, amount_after: int) -> dict[str, Any]:
    """Spend and growth (1 per yuan, on the running total so partial returns add up)."""
    return {
        "spend": amount_after - amount_before,
        "growth": amount_after // 100 - amount_before // 100,
    }
