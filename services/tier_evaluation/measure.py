"""The tier measure: one reading of a member's qualifying activity serves the upgrade, the job
and the member page, so they cannot disagree. The qualifying total counts the programme's
window up to a moment: LIFETIME from joining; VALIDITY from the start of the current validity
period (from joining while the tier does not expire, as the entry tier); ROLLING_MONTHS the
last n months; with reset-on-change never before the last tier change. Retention at a
period's end is judged on that period — or, under a rolling window, on the window at the
period's end. Activity dated the very instant of a tier change, booked before it, caused it
and is not counted again after it (told apart by event id, so a frozen sandbox clock cannot
blur it). Also the programme's tier policy and a member's progress towards the next tier.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, tzinfo
from typing import Protocol

from db import tier_cache
from db.models import Member, Programme
from db.repositories import tier_events as event_repo
from domain.tier_rules import Progress, TierPolicy, Window, progress, window_start
from domain.tiers import TierView
from services.clock import now_of, zone_of
from services.parsed import parsed

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
