"""Programme insights (issue 21.1): the rules behind the figures, without I/O.

What the SQL in db/sql/insights.py reads is classified here: which ledger rows are earning,
spending or expiry, and under which source or use they count. A ledger row is
(kind, bucket, reference type, amount); only rows of the AVAILABLE bucket move earned and
spent points: an order's points are earned when they become available (its return window
closed), not when they are recorded as pending.

A campaign's bonus on an order is booked inside the order's own ledger row, so it counts
under ORDERS; CAMPAIGNS counts the bonus rows campaigns book for the other facts (check-ins,
reviews, referrals, registrations). Each campaign's own total, orders included, is in the
campaigns list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain import calendar
from domain.errors import Collector
from domain.points import PointsPolicy
from domain.points import cash_value as checkout_value

MAX_RANGE_DAYS = 1096  # three years, a leap day included


class Granularity(StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"  # starting Monday
    MONTH = "MONTH"


class Source(StrEnum):
    ORDERS = "ORDERS"
    CHECK_IN = "CHECK_IN"
    REVIEWS = "REVIEWS"
    REFERRALS = "REFERRALS"
    CAMPAIGNS = "CAMPAIGNS"
    PARTNERS_IN = "PARTNERS_IN"
    ADJUSTMENTS = "ADJUSTMENTS"
    OTHER = "OTHER"


class Use(StrEnum):
    REWARDS = "REWARDS"
    COUPONS = "COUPONS"
    CHECKOUT = "CHECKOUT"
    PARTNERS_OUT = "PARTNERS_OUT"
    OTHER = "OTHER"


# Ledger reference types (services/*: the Entry each write makes) -> where the points came from
_SOURCES = {
    "ORDER": Source.ORDERS,
    "CHECK_IN": Source.CHECK_IN,
    "REVIEW": Source.REVIEWS,
    "REFERRAL": Source.REFERRALS,
    "CAMPAIGN": Source.CAMPAIGNS,
    "PARTNER_IN": Source.PARTNERS_IN,
    "ADJUSTMENT": Source.ADJUSTMENTS,  # adjustPoints, either sign
    "GRANT": Source.ADJUSTMENTS,  # grantPoints
}
# ... and where spent points went. A cash + points reward is paid by a checkout hold, so its
# points are a capture (reference type ORDER): CHECKOUT, like any points paid at checkout.
_USES = {
    "REWARD": Use.REWARDS,
    "COUPON": Use.COUPONS,
    "ORDER": Use.CHECKOUT,
    "PARTNER_OUT": Use.PARTNERS_OUT,
}

EARNING_KINDS = ("EARN", "TRANSFER_IN", "ADJUST")
SPENDING_KINDS = ("REDEEM", "TRANSFER_OUT")
EXPIRY_KIND = "EXPIRE"
REVERSAL_KIND = "REVERSE"
ERASURE_KIND = "ERASE"


class Flow(StrEnum):
    EARNED = "EARNED"
    SPENT = "SPENT"
    EXPIRED = "EXPIRED"
    FORFEITED = "FORFEITED"


def flow_of(kind: str, amount: int) -> Flow | None:
    """What an AVAILABLE ledger row is. A reversal is the undoing of either side: taking
    points back (a return: negative) lowers what was earned, giving them back (a cancelled
    redemption: positive) lowers what was spent. Erasure forfeits a balance."""
    if kind in EARNING_KINDS:
        return Flow.EARNED
    if kind in SPENDING_KINDS:
        return Flow.SPENT
    if kind == EXPIRY_KIND:
        return Flow.EXPIRED
    if kind == ERASURE_KIND:
        return Flow.FORFEITED
    if kind == REVERSAL_KIND:
        return Flow.EARNED if amount < 0 else Flow.SPENT
    return None


def source_of(reference_type: str) -> Source:
    return _SOURCES.get(reference_type, Source.OTHER)


def use_of(reference_type: str) -> Use:
    return _USES.get(reference_type, Use.OTHER)


@dataclass(frozen=True)
class LedgerGroup:
    """One group of the range's AVAILABLE ledger rows: their kind, reference type, sign, sum."""

    kind: str
    reference_type: str
    credit: bool
    points: int


@dataclass(frozen=True)
class PointFlows:
    earned_by_source: dict[Source, int]
    spent_by_use: dict[Use, int]
    expired: int
    forfeited: int

    @property
    def earned(self) -> int:
        return sum(self.earned_by_source.values())

    @property
    def spent(self) -> int:
        return sum(self.spent_by_use.values())


def point_flows(groups: list[LedgerGroup]) -> PointFlows:
    """Earned by source, spent by use (both net of reversals), expired and forfeited points.
    Every named source and use is listed (0 when none); OTHER only when something is in it."""
    earned: dict[Source, int] = {s: 0 for s in Source if s is not Source.OTHER}
    spent: dict[Use, int] = {u: 0 for u in Use if u is not Use.OTHER}
    expired = forfeited = 0
    for group in groups:
        flow = flow_of(group.kind, 1 if group.credit else -1)
        if flow is Flow.EARNED:
            source = source_of(group.reference_type)
            earned[source] = earned.get(source, 0) + group.points
        elif flow is Flow.SPENT:
            use = use_of(group.reference_type)
            spent[use] = spent.get(use, 0) - group.points
        elif flow is Flow.EXPIRED:
            expired -= group.points
        elif flow is Flow.FORFEITED:
            forfeited -= group.points
    return PointFlows(earned, spent, expired, forfeited)


def rate(numerator: int, denominator: int) -> float:
    """A share, 0 when there is nothing to share."""
    return numerator / denominator if denominator else 0.0


def cash_value(points: int, policy: PointsPolicy) -> int:
    """What outstanding `points` are worth at checkout (domain.points.cash_value: minor units,
    rounded down); nothing below 0."""
    return max(0, checkout_value(points, policy))


def direction(from_rank: int | None, to_rank: int | None) -> str:
    """UP to a higher rank (or into a tier from none), DOWN otherwise."""
    if from_rank is None:
        return "UP"
    if to_rank is None:
        return "DOWN"
    return "UP" if to_rank > from_rank else "DOWN"


# --- the range and its buckets ----------------------------------------------------------------


@dataclass(frozen=True)
class InsightsRange:
    """[first, last] days of the programme's calendar, and the instants they span:
    from `starts` (the first day's local midnight) up to, not including, `ends`."""

    first: date
    last: date
    granularity: Granularity
    starts: datetime
    ends: datetime


def check_range(first: date, last: date, granularity: str, zone: ZoneInfo) -> InsightsRange:
    """The range asked for, or VALIDATION naming each bad argument."""
    errors = Collector()
    if first > last:
        errors.add("from", "`from` is after `to`")
    elif (last - first).days + 1 > MAX_RANGE_DAYS:
        errors.add("to", f"`to` is more than {MAX_RANGE_DAYS} days (3 years) from `from`")
    if granularity not in Granularity.__members__:
        errors.add("granularity", "`granularity` must be DAY, WEEK or MONTH")
    errors.raise_if_any()
    return InsightsRange(
        first,
        last,
        Granularity(granularity),
        local_midnight(first, zone),
        local_midnight(last + timedelta(days=1), zone),
    )


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant (UTC) a local day begins."""
    return datetime.combine(day, time(), zone).astimezone(UTC)


def bucket_start(day: date, granularity: Granularity) -> date:
    return calendar.first_day(granularity.value, day)


def _next_start(start: date, granularity: Granularity) -> date:
    return calendar.next_first_day(granularity.value, start)


def bucket_starts(first: date, last: date, granularity: Granularity) -> list[date]:
    """Every bucket touching [first, last], by its start (a Monday; the 1st of a month): the
    first may start before `first`, and counts only what falls in the range."""
    starts = []
    start = bucket_start(first, granularity)
    while start <= last:
        starts.append(start)
        start = _next_start(start, granularity)
    return starts


@dataclass(frozen=True)
class BucketDays:
    """A bucket by its start, the days of it within the range [lo, hi], and whether those are
    all of its days (a whole bucket is counted from its own period's activity rows)."""

    start: date
    lo: date
    hi: date
    whole: bool


def bucket_days(span: InsightsRange) -> list[BucketDays]:
    """Each bucket's days within the range, in order."""
    days = []
    for start in bucket_starts(span.first, span.last, span.granularity):
        end = _next_start(start, span.granularity) - timedelta(days=1)
        lo, hi = max(start, span.first), min(end, span.last)
        days.append(BucketDays(start, lo, hi, lo == start and hi == end))
    return days


@dataclass(frozen=True)
class Cover:
    """A range of days as whole years, whole months and the days left over, each by its first
    day: the fewest periods whose activity rows, together, are the range's."""

    years: list[date]
    months: list[date]
    days: list[date]


def cover(first: date, last: date) -> Cover:
    years: list[date] = []
    months: list[date] = []
    days: list[date] = []
    day = first
    while day <= last:
        for period, pieces in ((calendar.YEAR, years), (calendar.MONTH, months)):
            if calendar.first_day(period, day) == day and calendar.last_day(period, day) <= last:
                pieces.append(day)
                day = calendar.next_first_day(period, day)
                break
        else:
            days.append(day)
            day += timedelta(days=1)
    return Cover(years, months, days)


def bucket_bounds(span: InsightsRange, zone: ZoneInfo) -> list[tuple[date, datetime, datetime]]:
    """Each bucket's start day and the instants it covers within the range."""
    starts = bucket_starts(span.first, span.last, span.granularity)
    bounds = []
    for start in starts:
        lo = max(local_midnight(start, zone), span.starts)
        hi = min(local_midnight(_next_start(start, span.granularity), zone), span.ends)
        bounds.append((start, lo, hi))
    return bounds
