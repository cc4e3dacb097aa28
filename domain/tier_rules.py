"""Tier qualification: which tier a member's qualifying total earns, and what happens when a
tier's validity ends. Pure: the totals and `now` are computed by the caller.

Vocabulary:
- qualifying total: the programme's metric (SPEND in minor units, ORDER_COUNT, or GROWTH
  points) summed over the programme's window (LIFETIME, the last N months, or the current
  tier's validity period), from the last tier change on when the accumulator resets.
- entry threshold: the total that earns a tier at once (upgrades are immediate).
- retention threshold: the total needed within a validity period to keep the tier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum

from domain.errors import Collector
from domain.lots import add_months
from domain.tiers import TierView


class Metric(StrEnum):
    SPEND = "SPEND"
    ORDER_COUNT = "ORDER_COUNT"
    GROWTH = "GROWTH"


class Window(StrEnum):
    LIFETIME = "LIFETIME"
    ROLLING_MONTHS = "ROLLING_MONTHS"
    VALIDITY = "VALIDITY"


@dataclass(frozen=True)
class TierPolicy:
    metric: Metric = Metric.SPEND
    window: Window = Window.LIFETIME
    window_months: int = 12
    validity_months: int = 12
    reset_on_change: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "metric": self.metric.value,
            "window": self.window.value,
            "window_months": self.window_months,
            "validity_months": self.validity_months,
            "reset_on_change": self.reset_on_change,
        }

    @classmethod
    def from_json(cls, data: dict[str, object] | None) -> TierPolicy:
        if not data:
            return cls()
        return cls(
            metric=Metric(str(data.get("metric", Metric.SPEND.value))),
            window=Window(str(data.get("window", Window.LIFETIME.value))),
            window_months=int(str(data.get("window_months", 12))),
            validity_months=int(str(data.get("validity_months", 12))),
            reset_on_change=bool(data.get("reset_on_change", False)),
        )


def validate_tier_policy(policy: TierPolicy, errors: Collector) -> None:
    if not 1 <= policy.validity_months <= 120:
        errors.add("validityMonths", "must be 1-120")
    if not 1 <= policy.window_months <= 120:
        errors.add("windowMonths", "must be 1-120")


def window_start(
    policy: TierPolicy,
    *,
    now: datetime,
    joined_at: datetime,
    tier_since: datetime | None,
    period_from: datetime | None = None,
    tz: tzinfo | None = None,
) -> datetime:
    """From when activity counts towards the qualifying total.

    `period_from` is the start of the current validity period, or None while the tier does
    not expire (the entry tier): then a VALIDITY window runs from joining, uncut, so the
    entry tier's spend accumulates ("2,000 cumulative -> VIP"). Months are counted on the
    calendar of `tz`, the programme's time zone.
    """
    if policy.window is Window.ROLLING_MONTHS:
        start = add_months(now, -policy.window_months, tz)
    elif policy.window is Window.VALIDITY and period_from is not None:
        start = period_from
    else:
        start = joined_at
    if policy.reset_on_change and tier_since is not None:
        start = max(start, tier_since)
    return max(start, joined_at)


def period_start(
    policy: TierPolicy, *, now: datetime, tier_since: datetime, tz: tzinfo | None = None
) -> datetime:
    """The start of the validity period `now` falls in. Periods are counted from tier_since
    (tier_since + k periods), not chained, so a Jan 31 start keeps its month ends."""
    passed = _periods_passed(policy, now, tier_since, tz)
    return add_months(tier_since, passed * policy.validity_months, tz)


def valid_until(
    policy: TierPolicy, *, now: datetime, tier_since: datetime, tz: tzinfo | None = None
) -> datetime:
    passed = _periods_passed(policy, now, tier_since, tz)
    return add_months(tier_since, (passed + 1) * policy.validity_months, tz)


def _periods_passed(
    policy: TierPolicy, now: datetime, tier_since: datetime, tz: tzinfo | None
) -> int:
    k = 0
    while add_months(tier_since, (k + 1) * policy.validity_months, tz) <= now:
        k += 1
    return k


def entry_tier_for(tiers: list[TierView], total: int) -> TierView | None:
    """The highest tier whose entry threshold `total` meets (tiers in any order)."""
    reached = [t for t in tiers if t.entry_threshold <= total]
    return max(reached, key=lambda t: t.rank, default=None)


def retention_of(tier: TierView) -> int:
    return (
        tier.retention_threshold if tier.retention_threshold is not None else tier.entry_threshold
    )


def after_activity(current: TierView | None, tiers: list[TierView], total: int) -> TierView | None:
    """Activity came in: upgrade at once when the total crosses a higher entry threshold.
    Never a downgrade here (with an accumulator reset the total is small right after every
    upgrade): see `after_return` and `at_period_end`."""
    earned = entry_tier_for(tiers, total)
    if current is None or (earned is not None and earned.rank > current.rank):
        return earned
    return current


def after_return(current: TierView, tiers: list[TierView], earning_total: int) -> TierView:
    """A return of what helped earn the current tier: `earning_total` is the total that earned
    it, less what came back. Below the tier's entry threshold, the member falls to the tier
    that total earns."""
    if earning_total >= current.entry_threshold:
        return current
    earned = entry_tier_for(tiers, earning_total)
    return earned if earned is not None else min(tiers, key=lambda t: t.rank)


def at_period_end(
    current: TierView, tiers: list[TierView], *, period_total: int, qualifying_total: int
) -> TierView:
    """A validity period ended: keep the tier if its retention threshold was met in the period;
    else the highest lower tier whose retention threshold the period's total meets — but never
    below what the entry thresholds give for the member's qualifying total now."""
    if period_total >= retention_of(current):
        return current
    lower = [t for t in tiers if t.rank < current.rank]
    kept = max(
        (t for t in lower if period_total >= retention_of(t)), key=lambda t: t.rank, default=None
    )
    floor = entry_tier_for(tiers, qualifying_total)
    if floor is not None and floor.rank >= current.rank:
        return current  # entry thresholds alone would give at least this tier
    candidates = [t for t in (kept, floor) if t is not None]
    base = min(tiers, key=lambda t: t.rank)
    return max(candidates, key=lambda t: t.rank, default=base)


@dataclass(frozen=True)
class Progress:
    next_tier: TierView | None
    amount_to_next: int | None
    amount_to_retain: int | None
    will_downgrade_to: TierView | None


def progress(
    current: TierView | None,
    tiers: list[TierView],
    *,
    total: int,
    period_total: int,
    qualifying_total: int,
) -> Progress:
    ordered = sorted(tiers, key=lambda t: t.rank)
    higher = [t for t in ordered if current is None or t.rank > current.rank]
    nxt = higher[0] if higher else None
    to_next = max(0, nxt.entry_threshold - total) if nxt else None
    if current is None:
        return Progress(nxt, to_next, None, None)
    to_retain = max(0, retention_of(current) - period_total)
    falls_to = at_period_end(
        current, tiers, period_total=period_total, qualifying_total=qualifying_total
    )
    return Progress(nxt, to_next, to_retain, None if falls_to.id == current.id else falls_to)
