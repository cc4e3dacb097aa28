"""Abuse controls (issue 18.6, 刷单 and 套现): caps on what a member may earn per source and
period, and velocity rules. Pure: the service reads the sums and applies the verdicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from domain import calendar
from domain.errors import Collector
from domain.points import EarnRule, LinePoints, OrderPoints, RulePoints

MAX_CAP = 10**12


class Source(StrEnum):
    """Where earned points come from, by the ledger row's reference type."""

    ORDER = "ORDER"
    CHECK_IN = "CHECK_IN"
    REVIEW = "REVIEW"
    REFERRAL = "REFERRAL"
    PARTNER_IN = "PARTNER_IN"  # transfers in from partners (TRANSFER_IN rows, not EARN)


class Period(StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"


class FlagStatus(StrEnum):
    OPEN = "OPEN"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


@dataclass(frozen=True)
class Cap:
    source: Source
    period: Period
    points: int


@dataclass(frozen=True)
class OrderVelocity:
    """More than `orders` orders from one member within `minutes` raises a flag."""

    orders: int
    minutes: int


@dataclass(frozen=True)
class ReturnRatio:
    """Returns taking back more than `percent` of the order points a member earned in the last
    `days` days raise a flag."""

    percent: int
    days: int = 30


@dataclass(frozen=True)
class AbusePolicy:
    caps: tuple[Cap, ...] = ()
    order_velocity: OrderVelocity | None = None
    # More than this many referrals accepted from one inviter in a local day raises a flag.
    referrals_per_day: int | None = None
    return_ratio: ReturnRatio | None = None

    def caps_for(self, source: Source) -> list[Cap]:
        return [c for c in self.caps if c.source is source]

    def to_json(self) -> dict[str, Any]:
        return {
            "caps": [
                {"source": c.source.value, "period": c.period.value, "points": c.points}
                for c in self.caps
            ],
            "orderVelocity": None
            if self.order_velocity is None
            else {"orders": self.order_velocity.orders, "minutes": self.order_velocity.minutes},
            "referralsPerDay": self.referrals_per_day,
            "returnRatio": None
            if self.return_ratio is None
            else {"percent": self.return_ratio.percent, "days": self.return_ratio.days},
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> AbusePolicy:
        if not raw:
            return cls()
        velocity = raw.get("orderVelocity")
        ratio = raw.get("returnRatio")
        referrals = raw.get("referralsPerDay")
        return cls(
            referrals_per_day=None if referrals is None else int(referrals),
            return_ratio=None
            if ratio is None
            else ReturnRatio(int(ratio["percent"]), int(ratio["days"])),
            caps=tuple(
                Cap(Source(c["source"]), Period(c["period"]), int(c["points"]))
                for c in raw.get("caps", [])
            ),
            order_velocity=None
            if velocity is None
            else OrderVelocity(int(velocity["orders"]), int(velocity["minutes"])),
        )


def check_policy(policy: AbusePolicy, errors: Collector) -> None:
    seen = set()
    for n, cap in enumerate(policy.caps):
        if not 0 <= cap.points <= MAX_CAP:
            errors.add(f"caps.{n}.points", f"must be 0-{MAX_CAP}")
        if (cap.source, cap.period) in seen:
            errors.add(f"caps.{n}", "one cap per source and period")
        seen.add((cap.source, cap.period))
    velocity = policy.order_velocity
    if velocity is not None:
        if not 1 <= velocity.orders <= 1_000:
            errors.add("orderVelocity.orders", "must be 1-1000")
        if not 1 <= velocity.minutes <= 10_080:
            errors.add("orderVelocity.minutes", "must be 1-10080 (a week)")
    if policy.referrals_per_day is not None and not 1 <= policy.referrals_per_day <= 10_000:
        errors.add("referralsPerDay", "must be 1-10000")
    ratio = policy.return_ratio
    if ratio is not None:
        if not 1 <= ratio.percent <= 100:
            errors.add("returnRatio.percent", "must be 1-100")
        if not 1 <= ratio.days <= 365:
            errors.add("returnRatio.days", "must be 1-365")


def period_start(period: Period, local_day: date) -> date:
    """The first local day of the period the day is in (weeks start on Monday)."""
    return calendar.first_day(period.value, local_day)


def period_key(period: Period, local_day: date) -> str:
    """Names the period a flag is about: one flag per member, rule and period."""
    return f"{period.value}:{period_start(period, local_day).isoformat()}"


def cap_rule(cap: Cap) -> str:
    return f"CAP_{cap.source.value}_{cap.period.value}"


VELOCITY_RULE = "ORDER_VELOCITY"
REFERRAL_RULE = "REFERRAL_VELOCITY"
RETURN_RULE = "RETURN_RATIO"


@dataclass(frozen=True)
class Verdict:
    """Of `amount` points earned: `credit` now, `held` for review under `rule` in `period`."""

    credit: int
    held: int = 0
    rule: str | None = None
    period: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def judge_earning(amount: int, caps: list[tuple[Cap, int]], local_day: date) -> Verdict:
    """`caps` pairs each cap of the source with what the member earned from the source in the
    cap's period so far. The tightest cap decides; nothing is dropped: what is over it is held."""
    credit, rule, period = amount, None, None
    for cap, earned in caps:
        room = max(cap.points - earned, 0)
        if room < credit:
            credit, rule, period = room, cap_rule(cap), period_key(cap.period, local_day)
    return Verdict(credit=credit, held=amount - credit, rule=rule, period=period)


def velocity_exceeded(velocity: OrderVelocity | None, orders_in_window: int) -> bool:
    """`orders_in_window` counts the order being recorded."""
    return velocity is not None and orders_in_window > velocity.orders


def velocity_window_start(velocity: OrderVelocity, now: datetime) -> datetime:
    return now - timedelta(minutes=velocity.minutes)


def referrals_exceeded(limit: int | None, accepted_today: int) -> bool:
    """`accepted_today` counts the referral being accepted."""
    return limit is not None and accepted_today > limit


def return_ratio_exceeded(ratio: ReturnRatio | None, *, earned: int, taken_back: int) -> bool:
    """Integer arithmetic: taken_back / earned > percent / 100."""
    return ratio is not None and earned > 0 and taken_back * 100 > ratio.percent * earned


def capped_order(earned: OrderPoints, credit: int) -> OrderPoints:
    """The order's points cut to `credit`, line by line in proportion to what each earned
    (largest remainder, ties to the earlier line), each cut shown as a negative ABUSE_CAP rule:
    returns take back per line, so the lines must add up to what was credited."""
    if credit >= earned.total:
        return earned
    if earned.total <= 0:
        return earned
    shares = [line.points * credit for line in earned.lines]
    kept = [share // earned.total for share in shares]
    order = sorted(range(len(kept)), key=lambda n: (-(shares[n] % earned.total), n))
    for n in order[: credit - sum(kept)]:
        kept[n] += 1
    lines = tuple(
        line
        if points == line.points
        else LinePoints(
            line.sku,
            line.quantity,
            line.amount,
            points,
            (*line.rules, RulePoints(EarnRule.ABUSE_CAP, points - line.points)),
        )
        for line, points in zip(earned.lines, kept, strict=True)
    )
    return OrderPoints(lines=lines, total=credit, amount=earned.amount)
