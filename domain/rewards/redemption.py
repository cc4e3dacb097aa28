"""Redeeming a reward, as rules: what it costs, whether this member may have it now, and
where a per-member limit's period starts. No I/O; `now` and the zone are passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain import calendar
from domain.errors import DomainError, ErrorCode, invalid
from domain.points import MAX_POINTS
from domain.rewards.model import LimitPeriod, Reward, RewardKind, RewardStatus

MAX_QUANTITY = 100  # items in one redemption
# Kinds handed over as one thing (a redemption holds one coupon or one code).
ONE_AT_A_TIME = frozenset({RewardKind.COUPON, RewardKind.DIGITAL})
# A redemption's cash in all: what a client can send back as `cash` (a 32-bit integer).
MAX_TOTAL_CASH = 2**31 - 1


class RedemptionStatus(StrEnum):
    REQUESTED = "REQUESTED"  # points spent (or held); the item is still owed
    FULFILLED = "FULFILLED"  # handed over (coupon or code delivered, parcel shipped)
    CANCELLED = "CANCELLED"  # points and stock given back


class RewardRetired(DomainError):
    code = ErrorCode.REWARD_RETIRED


class NotAvailable(DomainError):
    code = ErrorCode.NOT_AVAILABLE


class NotEligible(DomainError):
    code = ErrorCode.NOT_ELIGIBLE


class LimitReached(DomainError):
    code = ErrorCode.LIMIT_REACHED


class OutOfStock(DomainError):
    code = ErrorCode.OUT_OF_STOCK


class CashMismatch(DomainError):
    code = ErrorCode.CASH_MISMATCH


class AlreadyCancelled(DomainError):
    code = ErrorCode.ALREADY_CANCELLED


class AlreadyFulfilled(DomainError):
    code = ErrorCode.ALREADY_FULFILLED


class NotPaid(DomainError):
    code = ErrorCode.NOT_PAID


class WholeHoldRequired(DomainError):
    code = ErrorCode.WHOLE_HOLD_REQUIRED


@dataclass(frozen=True, slots=True)
class Quote:
    """What `quantity` items cost in all: points, and cash in minor units of `currency`."""

    points: int
    cash: int
    currency: str


def quote(reward: Reward, quantity: int, currency: str) -> Quote:
    """Prices are per item and integers, so the total is exact: no rounding. A quantity whose
    total passes one ledger operation's points or MAX_TOTAL_CASH is refused: the catalogue's
    price limits are per item, so a dear reward times 100 items could otherwise overflow."""
    priced = Quote(reward.points_price * quantity, reward.cash_price * quantity, currency)
    if priced.points > MAX_POINTS or priced.cash > MAX_TOTAL_CASH:
        raise invalid("quantity", "too many items for one redemption: the total is too large")
    return priced


def check_open(reward: Reward, now: datetime, tier_id: int | None) -> None:
    """Retired, out of its window or closed to the member's tier: refused, in that order."""
    if reward.status is RewardStatus.RETIRED:
        raise RewardRetired("this reward was retired", field="code")
    if not reward.in_window(now):
        raise NotAvailable("this reward is not available now", field="code")
    if not reward.open_to_tier(tier_id):
        raise NotEligible("the member's tier may not redeem this reward", field="code")


def check_items(reward: Reward, quantity: int) -> None:
    """A COUPON or DIGITAL redemption hands over one coupon or code: more items would be
    paid for and never delivered."""
    if reward.kind in ONE_AT_A_TIME and quantity != 1:
        raise invalid("quantity", "a coupon or code reward is redeemed one at a time")


def check_limit(reward: Reward, already: int, quantity: int) -> None:
    """`already`: items of this reward the member redeemed in the current period, cancelled
    ones left out."""
    limit = reward.per_member_limit
    if limit is not None and already + quantity > limit:
        left = max(limit - already, 0)
        raise LimitReached(
            f"at most {limit} per member per {reward.limit_period.value.lower()}; {left} left",
            field="quantity",
        )


def check_cash(expected: Quote, cash: int | None) -> None:
    """The shop pays the cash part itself, so it must send the very amount quoted: a price
    changed between quote and redemption is refused, not charged differently."""
    if (cash or 0) != expected.cash:
        raise CashMismatch(
            f"this redemption costs {expected.cash} {expected.currency} in cash", field="cash"
        )


def period_start(period: LimitPeriod, now: datetime, zone: ZoneInfo) -> datetime | None:
    """When the limit's current period began, on the programme's calendar (weeks start on
    Monday); None for EVER. A DST change inside the period does not move its start."""
    if period is LimitPeriod.EVER:
        return None
    day = calendar.first_day(period.value, now.astimezone(zone).date())
    return datetime.combine(day, time(0), tzinfo=zone)
