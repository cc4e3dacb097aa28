"""Tier qualification at work: upgrades the moment a completed order crosses a threshold,
re-evaluation on returns, and the decision at the end of each validity period (the job).

Callers hold the member's row lock inside their transaction; the member -> tier cache is
bumped by the caller after commit.

One measure serves the upgrade, the job and the member page, so they cannot disagree:
- the qualifying total counts the programme's window up to a moment: LIFETIME from joining;
  VALIDITY from the start of the current validity period (from joining while the tier does
  not expire, as the entry tier); ROLLING_MONTHS the last n months; with reset-on-change never
  before the last tier change;
- retention at a period's end is judged on that period — or, under a rolling window, on the
  window at the period's end.
Activity dated the very instant of a tier change, booked before it, caused it and is not
counted again after it (told apart by event id, so a frozen sandbox clock cannot blur it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, tzinfo
from typing import Any, Protocol

from db import tier_cache
from db.models import Member, Programme
from db.repositories import tier_events as event_repo
from domain.events import EventType, tier_changed_payload, tier_direction
from domain.lots import add_months
from domain.tier_rules import (
    Progress,
    TierPolicy,
    Window,
    after_activity,
    after_return,
    at_period_end,
    entry_tier_for,
    period_start,
    progress,
    valid_until,
    window_start,
)
from domain.tiers import TierView, entry_tier
from services import events as event_service
from services.clock import now_of, zone_of
from services.parsed import parsed
from services.points.ledger import INSTANT

UPGRADE, RETURNED, PERIOD_ENDED = "ORDER_COMPLETED", "ORDER_RETURNED", "PERIOD_ENDED"

# Reads the qualifying sums of a member over [since, until) (tier_events.sums, or the member
# page's batched reader, which reads them with the rest of the page).
Sums = Callable[..., Awaitable[dict[str, int]]]


def policy_of(programme: Programme) -> TierPolicy:
    return parsed("tiers", programme.id, programme.tier_policy, TierPolicy.from_json)


class TierFacts(Protocol):
    """What the measure reads of a member: a Member, or a job batch's row (DueMember)."""

    @property
    def id(self) -> int: ...
    @property
    def joined_at(self) -> datetime: ...
    @property
    def tier_since(self) -> datetime | None: ...
    @property
    def tier_period_start(self) -> datetime | None: ...
    @property
    def tier_valid_until(self) -> datetime | None: ...
    @property
    def tier_event_id(self) -> int: ...


def _after(member: TierFacts, since: datetime, *, from_change: bool) -> int:
    """When `since` is a tier change (a reset accumulator, a new tier's first period), what
    was booked up to that change caused it: events up to this id, dated `since`, left out."""
    return member.tier_event_id if from_change and since == member.tier_since else 0


async def _sum(
    member: TierFacts,
    policy: TierPolicy,
    since: datetime,
    until: datetime | None,
    *,
    from_change: bool,
    sums: Sums | None = None,
) -> int:
    """The metric over [since, until)."""
    after = _after(member, since, from_change=from_change)
    read = sums or event_repo.sums
    found = await read(member.id, since=since, until=until, after_event_id=after)
    return found[policy.metric.value]


def window_from(member: TierFacts, policy: TierPolicy, at: datetime, tz: tzinfo) -> datetime:
    expires = member.tier_valid_until is not None
    return window_start(
        policy,
        now=at,
        joined_at=member.joined_at,
        tier_since=member.tier_since,
        period_from=(member.tier_period_start or member.tier_since) if expires else None,
        tz=tz,
    )


def qualifying_window(
    member: TierFacts, policy: TierPolicy, at: datetime, *, tz: tzinfo
) -> tuple[datetime, int]:
    """Where the qualifying total at `at` counts from, and the event id up to which what is
    dated exactly then is left out."""
    counts_from_change = policy.reset_on_change or policy.window is Window.VALIDITY
    start = window_from(member, policy, at, tz)
    return start, _after(member, start, from_change=counts_from_change)


async def qualifying_total(
    member: TierFacts,
    policy: TierPolicy,
    at: datetime,
    *,
    tz: tzinfo,
    until: datetime | None = None,
    sums: Sums | None = None,
) -> int:
    since, after = qualifying_window(member, policy, at, tz=tz)
    read = sums or event_repo.sums
    found = await read(member.id, since=since, until=until, after_event_id=after)
    return found[policy.metric.value]


def retention_window(
    member: TierFacts,
    policy: TierPolicy,
    *,
    end: datetime | None,
    tz: tzinfo,
    start: datetime | None = None,
) -> tuple[datetime, int]:
    """Where the total retention is judged on counts from (up to `end`): a validity period
    (the current one unless `start` says otherwise) — under a rolling window, the window at
    the period end."""
    at = end if end is not None else member.tier_valid_until
    if policy.window is Window.ROLLING_MONTHS:
        assert at is not None
        return qualifying_window(member, policy, at, tz=tz)
    if start is None:
        start = member.tier_period_start or member.tier_since or member.joined_at
    return start, _after(member, start, from_change=True)


async def retention_total(
    member: TierFacts,
    policy: TierPolicy,
    *,
    end: datetime | None,
    tz: tzinfo,
    start: datetime | None = None,
    sums: Sums | None = None,
) -> int:
    """What retention is judged on (retention_window), up to `end` (or so far)."""
    since, after = retention_window(member, policy, end=end, tz=tz, start=start)
    read = sums or event_repo.sums
    found = await read(member.id, since=since, until=end, after_event_id=after)
    return found[policy.metric.value]


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


async def judge_period(member: Member, programme: Programme, now: datetime) -> bool | None:
    """The job, one period: the member's validity period that ended (by `now`) is judged on
    activity up to its own end — the tier is kept (retention met in the period) or dropped,
    dated at the period's end. The caller holds the member's row lock. Returns whether the
    tier changed, or None when no period had ended."""
    end = member.tier_valid_until
    if end is None or end > now:
        return None
    tiers = await tier_cache.programme_tiers(programme.id)
    current = next((t for t in tiers if t.id == member.tier_id), None)
    if current is None:
        member.tier_valid_until = None
        await member.save(update_fields=["tier_valid_until"])
        return False
    policy = policy_of(programme)
    tz = zone_of(programme)
    period_total = await retention_total(member, policy, end=end, tz=tz)
    total = await qualifying_total(member, policy, end, tz=tz, until=end)
    kept = at_period_end(current, tiers, period_total=period_total, qualifying_total=total)
    if kept.id == current.id:
        member.tier_period_start = end
        # periods are counted from the tier change (not chained), so month ends hold
        member.tier_valid_until = valid_until(
            policy, now=end, tier_since=member.tier_since or end, tz=tz
        )
        await member.save(update_fields=["tier_period_start", "tier_valid_until"])
        return False
    await change_tier(
        member,
        kept,
        programme,
        reason=PERIOD_ENDED,
        total=period_total,
        at=end,
        tiers=tiers,
        counted_from=member.tier_period_start,
    )
    return True


async def progress_of(
    programme: Programme,
    member: Member,
    *,
    tiers: list[TierView] | None = None,
    sums: Sums | None = None,
) -> Progress:
    """`tiers`, `sums`: the member page's, which has the tiers at hand and reads the sums
    with the rest of the page (both totals at once, so in one statement)."""
    if tiers is None:
        tiers = await tier_cache.programme_tiers(programme.id)
    policy = policy_of(programme)
    tz = zone_of(programme)
    now = now_of(programme)
    if member.tier_valid_until is None:
        total = period_total = await qualifying_total(member, policy, now, tz=tz, sums=sums)
    elif sums is None:  # maybe in a transaction: one statement at a time on its connection
        total = await qualifying_total(member, policy, now, tz=tz)
        period_total = await retention_total(member, policy, end=None, tz=tz)
    else:
        total, period_total = await asyncio.gather(
            qualifying_total(member, policy, now, tz=tz, sums=sums),
            retention_total(member, policy, end=None, tz=tz, sums=sums),
        )
    current = next((t for t in tiers if t.id == member.tier_id), None)
    return progress(current, tiers, total=total, period_total=period_total, qualifying_total=total)


def order_activity(amount_before: int, amount_after: int) -> dict[str, Any]:
    """Spend and growth (1 per yuan, on the running total so partial returns add up)."""
    return {
        "spend": amount_after - amount_before,
        "growth": amount_after // 100 - amount_before // 100,
    }
