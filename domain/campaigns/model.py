"""The campaigns' vocabulary: what a campaign is, and what judging one reads and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from domain.points import (
    BASIS,
    OrderLine,
    OrderPoints,
    Payment,
    PaymentMethod,
)


class CampaignStatus(StrEnum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    ENDED = "ENDED"


class Trigger(StrEnum):
    ORDER = "ORDER"
    CHECK_IN = "CHECK_IN"
    REVIEW = "REVIEW"
    REFERRAL = "REFERRAL"  # the referrer's reward, when the referred member's order completes
    REGISTRATION = "REGISTRATION"


class Channel(StrEnum):
    """Where an order was placed (Order.channel): the seeds' online-offline integration."""

    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"


class Stacking(StrEnum):
    EXCLUSIVE = "EXCLUSIVE"
    STACKABLE = "STACKABLE"


class CapPeriod(StrEnum):
    DAY = "DAY"
    WEEK = "WEEK"  # Monday to Sunday
    MONTH = "MONTH"


class NotApplied(StrEnum):
    """Why a campaign gave an order nothing: the preview says it."""

    OUTSIDE_SCHEDULE = "OUTSIDE_SCHEDULE"
    NOT_IN_AUDIENCE = "NOT_IN_AUDIENCE"
    CONDITIONS_NOT_MET = "CONDITIONS_NOT_MET"
    NOTHING_TO_ADD = "NOTHING_TO_ADD"  # eligible, but worth 0 points (and no coupon)
    BUDGET_EXHAUSTED = "BUDGET_EXHAUSTED"
    MEMBER_CAP_REACHED = "MEMBER_CAP_REACHED"
    ORDER_LIMIT_REACHED = "ORDER_LIMIT_REACHED"
    OUTWEIGHED = "OUTWEIGHED"  # stacking: another choice was worth more to the member


@dataclass(frozen=True)
class Schedule:
    """From `starts_at` (inclusive) to `ends_at` (exclusive), both aware. Each non-empty
    recurrence set narrows the window, all of them together (a weekday AND a day of the month,
    if both are given); dates and days are those of the programme's time zone."""

    starts_at: datetime
    ends_at: datetime
    weekdays: frozenset[int] = frozenset()  # ISO: 1 = Monday ... 7 = Sunday
    month_days: frozenset[int] = frozenset()  # 1-31; the member day is {8}
    dates: frozenset[date] = frozenset()


@dataclass(frozen=True)
class Audience:
    """Every non-empty criterion must hold; all empty: every member."""

    tiers: frozenset[str] = frozenset()  # tier codes
    segments: frozenset[str] = frozenset()  # lifecycle segments (Lifecycle values)
    joined_within_days: int | None = None  # joined at most this many days before the fact
    nth_order: int | None = None  # the order is the member's Nth (1: the first order)
    birthday_month: bool = False


@dataclass(frozen=True)
class Conditions:
    """Orders only (other triggers have no lines). Lines are eligible when they match the
    categories or skus (both empty: every line); the eligible lines' amount must reach
    `min_spend` (minor units)."""

    min_spend: int = 0
    categories: frozenset[str] = frozenset()
    skus: frozenset[str] = frozenset()
    # the order qualifies only if none of its payments uses one of these (e.g. GIFT_CARD)
    excluded_payment_methods: frozenset[PaymentMethod] = frozenset()
    channels: frozenset[Channel] = frozenset()  # empty: any channel


@dataclass(frozen=True)
class Effects:
    """`multiplier` in basis points (20000 = double points): the campaign adds
    base * (multiplier - 1) of each eligible line's own points. `bonus_per_order` is spread
    over the eligible lines by amount (largest remainder) so a return takes back its share;
    `bonus_per_item` is per eligible item. For other triggers the multiplier applies to the
    fact's own points and `bonus_per_order` is the bonus per fact. `coupon_template` is the
    code of a template issued to the member once per rewarded order or fact."""

    multiplier: int = BASIS
    bonus_per_order: int = 0
    bonus_per_item: int = 0
    coupon_template: str | None = None


@dataclass(frozen=True)
class Limits:
    budget: int | None = None  # total points, net of take-backs
    member_cap: int | None = None  # points per member over the whole campaign
    member_period_cap: int | None = None  # points per member per `cap_period`
    cap_period: CapPeriod | None = None
    max_rewarded_orders: int | None = None  # per member (per fact, for other triggers)


@dataclass(frozen=True)
class Campaign:
    id: int
    code: str
    name: str
    status: CampaignStatus
    trigger: Trigger
    schedule: Schedule
    audience: Audience = Audience()
    conditions: Conditions = Conditions()
    effects: Effects = Effects()
    limits: Limits = Limits()
    stacking: Stacking = Stacking.STACKABLE
    priority: int = 0  # higher first


@dataclass(frozen=True)
class MemberFacts:
    """What the audience needs to know about the member at the moment of the fact."""

    tier_code: str | None
    segment: str | None
    joined_at: datetime
    birthday_month: int | None
    orders_before: int  # the member's orders recorded before this one, not cancelled


@dataclass(frozen=True)
class Usage:
    """A campaign's use so far: the budget left (None: no budget), and this member's points
    in the campaign, in the cap period containing the fact, and rewarded orders (facts)."""

    budget_left: int | None = None
    member_points: int = 0
    member_period_points: int = 0
    member_rewarded: int = 0


@dataclass(frozen=True)
class LineShare:
    sku: str
    points: int


@dataclass(frozen=True)
class Contribution:
    campaign_id: int
    code: str
    points: int  # the sum of `lines` (for other triggers: the fact's bonus, lines empty)
    lines: tuple[LineShare, ...]
    coupon_template: str | None
    capped: bool = False  # a member cap cut it down


@dataclass(frozen=True)
class Skipped:
    campaign_id: int
    code: str
    reason: NotApplied


@dataclass(frozen=True)
class CampaignPoints:
    applied: tuple[Contribution, ...] = ()
    skipped: tuple[Skipped, ...] = ()

    @property
    def total(self) -> int:
        return sum(c.points for c in self.applied)


@dataclass(frozen=True)
class OrderFact:
    lines: tuple[OrderLine, ...]
    payments: tuple[Payment, ...]
    channel: Channel
    earned: OrderPoints  # the base earning, per line (domain.points.order_points)


@dataclass(frozen=True)
class OtherFact:
    """A check-in, a review, a referral reward or a registration, with its own points."""

    trigger: Trigger
    points: int


@dataclass(frozen=True)
class Judging:
    """Everything `evaluate` reads besides the campaigns: the fact, its moment, the
    programme's time zone, the member, and each campaign's `Usage` by id (absent: unused)."""

    fact: OrderFact | OtherFact
    at: datetime
    timezone: str
    member: MemberFacts
    usage: dict[int, Usage] = field(default_factory=dict)
    # campaigns whose budget the service found gone after judging: judged again without them
    exhausted: frozenset[int] = frozenset()
