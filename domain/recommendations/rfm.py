"""RFM per member and the lifecycle segment.

Recency, frequency and monetary are counted over the programme's window (default 365 days)
and scored 1-5 by quintile among the members who ordered in it (5 = most recent, most
orders, most spend); members who did not order in the window score 1 on all three.

Lifecycle, first rule that holds (days are the policy's, defaults shown):
- NEW: joined within 30 days and at most one order ever;
- ACTIVE: last order within 60 days;
- INTERMITTENT: last order 61-180 days ago;
- AT_RISK: last order 181 days ago up to the window (365);
- INACTIVE: no order within the window, or never ordered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.errors import Collector

DAY_SECONDS = 86_400


class Lifecycle(StrEnum):
    NEW = "NEW"
    ACTIVE = "ACTIVE"
    INTERMITTENT = "INTERMITTENT"
    AT_RISK = "AT_RISK"
    INACTIVE = "INACTIVE"


@dataclass(frozen=True)
class SegmentPolicy:
    window_days: int = 365
    new_days: int = 30
    active_days: int = 60
    intermittent_days: int = 180

    def to_json(self) -> dict[str, Any]:
        return {
            "window_days": self.window_days,
            "new_days": self.new_days,
            "active_days": self.active_days,
            "intermittent_days": self.intermittent_days,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> SegmentPolicy:
        return cls(**data) if data else cls()


def validate_policy(policy: SegmentPolicy, errors: Collector) -> None:
    if not 30 <= policy.window_days <= 3660:
        errors.add("windowDays", "must be 30-3660")
    if not 1 <= policy.new_days <= 365:
        errors.add("newDays", "must be 1-365")
    if not 1 <= policy.active_days < policy.intermittent_days:
        errors.add("activeDays", "must be at least 1 and below intermittentDays")
    if not policy.intermittent_days < policy.window_days:
        errors.add("intermittentDays", "must be below windowDays")


@dataclass(frozen=True)
class Activity:
    """A member's orders as the segment job sees them (completed or pending, not cancelled)."""

    member_id: int
    joined_at: datetime
    last_order_at: datetime | None
    orders_in_window: int
    spend_in_window: int
    orders_ever: int


@dataclass(frozen=True)
class Segment:
    member_id: int
    recency_days: int | None
    frequency: int
    monetary: int
    recency_score: int
    frequency_score: int
    monetary_score: int
    lifecycle: Lifecycle


def days_between(earlier: datetime, later: datetime) -> int:
    return int((later - earlier).total_seconds() // DAY_SECONDS)


def lifecycle(a: Activity, policy: SegmentPolicy, now: datetime) -> Lifecycle:
    if a.orders_ever <= 1 and days_between(a.joined_at, now) <= policy.new_days:
        return Lifecycle.NEW
    if a.last_order_at is None:
        return Lifecycle.INACTIVE
    age = days_between(a.last_order_at, now)
    if age <= policy.active_days:
        return Lifecycle.ACTIVE
    if age <= policy.intermittent_days:
        return Lifecycle.INTERMITTENT
    if age <= policy.window_days:
        return Lifecycle.AT_RISK
    return Lifecycle.INACTIVE


def quintile_scores(values: Sequence[float]) -> list[int]:
    """1-5 by quintile of rank, higher value higher score; equal values score alike (the
    score of the first of them), so a tie never splits across two scores."""
    n = len(values)
    order = sorted(range(n), key=lambda i: values[i])
    scores = [0] * n
    first_rank_of: dict[float, int] = {}
    for rank, i in enumerate(order):
        first = first_rank_of.setdefault(values[i], rank)
        scores[i] = 1 + (5 * first) // n
    return scores


def segments(activities: Sequence[Activity], policy: SegmentPolicy, now: datetime) -> list[Segment]:
    """Every member's RFM scores and lifecycle, the quintiles taken over those who ordered
    within the window."""
    ordered = [
        a
        for a in activities
        if a.orders_in_window > 0
        and a.last_order_at is not None
        and days_between(a.last_order_at, now) <= policy.window_days
    ]
    recency = quintile_scores(
        [-days_between(a.last_order_at, now) for a in ordered if a.last_order_at]
    )
    frequency = quintile_scores([a.orders_in_window for a in ordered])
    monetary = quintile_scores([a.spend_in_window for a in ordered])
    scored = {a.member_id: (recency[n], frequency[n], monetary[n]) for n, a in enumerate(ordered)}
    result = []
    for a in activities:
        r, f, m = scored.get(a.member_id, (1, 1, 1))
        result.append(
            Segment(
                member_id=a.member_id,
                recency_days=days_between(a.last_order_at, now) if a.last_order_at else None,
                frequency=a.orders_in_window,
                monetary=a.spend_in_window,
                recency_score=r,
                frequency_score=f,
                monetary_score=m,
                lifecycle=lifecycle(a, policy, now),
            )
        )
    return result
