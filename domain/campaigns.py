"""Campaigns (DESIGN.md §8b): time-boxed earning rules kept as data, judged by a pure function.

A campaign says when it runs (a window, optionally narrowed to weekdays, days of the month or
dates, read in the programme's time zone at the moment of the fact: an order's `placedAt`),
whom it rewards, on which trigger, under which conditions, with which effects and limits.
`evaluate` takes the active campaigns, one order (or one other fact), what is known of the
member and of each campaign's budget and the member's use of it, and returns each campaign's
points per line, or why it did not apply. The service books exactly what it returns and the
preview shows it, so the two cannot disagree.

Stacking: a STACKABLE campaign adds to the others; an EXCLUSIVE one applies alone. An order gets
either the one exclusive campaign worth most to the member (ties: higher priority, then lower
id) or all stackable ones together, whichever is worth more (a tie goes to the exclusive one).

Limits: a budget is a campaign's total of points net of what returns and cancellations took
back; a campaign applies to an order only if its whole contribution fits what is left (the
service spends it by a conditional UPDATE, and judges again without the campaign when that
UPDATE finds the budget gone). A member's caps (per campaign, per period) clamp the
contribution; the most rewarded orders per member stops it. However many campaigns stack, a
fact with its campaigns earns at most MAX_POINTS (what one operation books): the campaigns
that would go beyond are cut (`capped`), in priority order, so a preview never answers more
than a 32-bit Int and an order is never refused for what its campaigns add.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.coupons.checkout import spread
from domain.coupons.templates import TEMPLATE_CODE_RE, check_template_code
from domain.errors import Collector
from domain.points import (
    BASIS,
    MAX_MONEY,
    MAX_POINTS,
    OrderLine,
    OrderPoints,
    Payment,
    PaymentMethod,
)
from domain.recommendations.rfm import Lifecycle
from domain.text import is_clean


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


# ---- stored form --------------------------------------------------------------------------
# The `rule` column holds what SQL never filters by; the columns hold the rest.


def _sorted(values: frozenset[object]) -> list[object]:
    return sorted(values, key=str)


def rule_of(campaign: Campaign) -> dict[str, object]:
    """The JSON kept in campaigns.rule (everything but the columns: id, code, name, status,
    trigger, stacking, priority, window and budget)."""
    s, a, c, e, lim = (
        campaign.schedule,
        campaign.audience,
        campaign.conditions,
        campaign.effects,
        campaign.limits,
    )
    return {
        "weekdays": sorted(s.weekdays),
        "monthDays": sorted(s.month_days),
        "dates": [d.isoformat() for d in sorted(s.dates)],
        "tiers": sorted(a.tiers),
        "segments": sorted(a.segments),
        "joinedWithinDays": a.joined_within_days,
        "nthOrder": a.nth_order,
        "birthdayMonth": a.birthday_month,
        "minSpend": c.min_spend,
        "categories": sorted(c.categories),
        "skus": sorted(c.skus),
        "excludedPaymentMethods": _sorted(frozenset(c.excluded_payment_methods)),
        "channels": _sorted(frozenset(c.channels)),
        "multiplier": e.multiplier,
        "bonusPerOrder": e.bonus_per_order,
        "bonusPerItem": e.bonus_per_item,
        "couponTemplate": e.coupon_template,
        "memberCap": lim.member_cap,
        "memberPeriodCap": lim.member_period_cap,
        "capPeriod": lim.cap_period.value if lim.cap_period else None,
        "maxRewardedOrders": lim.max_rewarded_orders,
    }


def campaign_of(
    *,
    id: int,
    code: str,
    name: str,
    status: str,
    trigger: str,
    stacking: str,
    priority: int,
    starts_at: datetime,
    ends_at: datetime,
    budget: int | None,
    rule: dict[str, object],
) -> Campaign:
    """A stored campaign (its columns and `rule`) as the domain judges it."""
    r: dict[str, object] = rule
    cap_period = r.get("capPeriod")
    return Campaign(
        id=id,
        code=code,
        name=name,
        status=CampaignStatus(status),
        trigger=Trigger(trigger),
        stacking=Stacking(stacking),
        priority=priority,
        schedule=Schedule(
            starts_at=starts_at,
            ends_at=ends_at,
            weekdays=frozenset(_ints(r.get("weekdays"))),
            month_days=frozenset(_ints(r.get("monthDays"))),
            dates=frozenset(date.fromisoformat(str(d)) for d in _list(r.get("dates"))),
        ),
        audience=Audience(
            tiers=frozenset(str(t) for t in _list(r.get("tiers"))),
            segments=frozenset(str(t) for t in _list(r.get("segments"))),
            joined_within_days=_int_or_none(r.get("joinedWithinDays")),
            nth_order=_int_or_none(r.get("nthOrder")),
            birthday_month=bool(r.get("birthdayMonth")),
        ),
        conditions=Conditions(
            min_spend=_int_or_none(r.get("minSpend")) or 0,
            categories=frozenset(str(t) for t in _list(r.get("categories"))),
            skus=frozenset(str(t) for t in _list(r.get("skus"))),
            excluded_payment_methods=frozenset(
                PaymentMethod(str(m)) for m in _list(r.get("excludedPaymentMethods"))
            ),
            channels=frozenset(Channel(str(m)) for m in _list(r.get("channels"))),
        ),
        effects=Effects(
            multiplier=_int_or_none(r.get("multiplier")) or BASIS,
            bonus_per_order=_int_or_none(r.get("bonusPerOrder")) or 0,
            bonus_per_item=_int_or_none(r.get("bonusPerItem")) or 0,
            coupon_template=str(r["couponTemplate"]) if r.get("couponTemplate") else None,
        ),
        limits=Limits(
            budget=budget,
            member_cap=_int_or_none(r.get("memberCap")),
            member_period_cap=_int_or_none(r.get("memberPeriodCap")),
            cap_period=CapPeriod(str(cap_period)) if cap_period else None,
            max_rewarded_orders=_int_or_none(r.get("maxRewardedOrders")),
        ),
    )


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _ints(value: object) -> list[int]:
    return [int(str(v)) for v in _list(value)]


def _int_or_none(value: object) -> int | None:
    return None if value is None else int(str(value))


# ---- judging ------------------------------------------------------------------------------


def in_schedule(schedule: Schedule, at: datetime, timezone: str) -> bool:
    """`at` falls in the window and its local date matches every non-empty recurrence set."""
    if not schedule.starts_at <= at < schedule.ends_at:
        return False
    return _matches(schedule, at.astimezone(ZoneInfo(timezone)).date())


def _matches(schedule: Schedule, day: date) -> bool:
    return (
        (not schedule.weekdays or day.isoweekday() in schedule.weekdays)
        and (not schedule.month_days or day.day in schedule.month_days)
        and (not schedule.dates or day in schedule.dates)
    )


def period_bounds(period: CapPeriod, at: datetime, timezone: str) -> tuple[datetime, datetime]:
    """The local day, ISO week (Monday to Sunday) or month containing `at`, from its first
    local midnight (inclusive) to the next period's (exclusive), in UTC. Built from local
    dates, never by adding hours to an aware time, so a DST day lasts 23 or 25 hours."""
    zone = ZoneInfo(timezone)
    day = at.astimezone(zone).date()
    if period is CapPeriod.DAY:
        first, after = day, day + timedelta(days=1)
    elif period is CapPeriod.WEEK:
        first = day - timedelta(days=day.isoweekday() - 1)
        after = first + timedelta(days=7)
    else:
        first = day.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
    return _midnight(first, zone), _midnight(after, zone)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    # fold=0: a midnight that happens twice starts at its first occurrence; one skipped by a
    # DST gap maps to the instant the gap begins, which is where that local day starts.
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def may_apply(campaigns: Sequence[Campaign], trigger: Trigger, at: datetime, timezone: str) -> bool:
    """Whether any active campaign of `trigger` runs at `at`: when none does, the fact needs
    no campaign state (no usage to read, no budget to lock)."""
    return any(
        c.status is CampaignStatus.ACTIVE
        and c.trigger is trigger
        and in_schedule(c.schedule, at, timezone)
        for c in campaigns
    )


def evaluate(campaigns: Sequence[Campaign], judging: Judging) -> CampaignPoints:
    """Every active campaign of the fact's trigger, judged on its own (schedule, audience,
    conditions, effects, limits) and then stacked as the module docstring says. Applied and
    skipped ones come in priority order (higher first, then lower id) whatever the input order.

    A member cap limits points only: a campaign with a coupon effect cut to 0 points still
    applies (0 points, `capped`) and its coupon is issued. A budget limits points too, but a
    budget with nothing left ends the campaign's whole effect, coupon included.
    """
    trigger = judging.fact.trigger if isinstance(judging.fact, OtherFact) else Trigger.ORDER
    ordered = sorted(
        (c for c in campaigns if c.status is CampaignStatus.ACTIVE and c.trigger is trigger),
        key=lambda c: (-c.priority, c.id),
    )
    judged = [(c, _judge(c, judging)) for c in ordered]
    candidates = [(c, r) for c, r in judged if isinstance(r, Contribution)]
    winners = _stack(candidates)
    applied: list[Contribution] = []
    skipped: list[Skipped] = []
    for campaign, result in judged:
        if isinstance(result, NotApplied):
            skipped.append(Skipped(campaign.id, campaign.code, result))
        elif campaign.id in winners:
            applied.append(result)
        else:
            skipped.append(Skipped(campaign.id, campaign.code, NotApplied.OUTWEIGHED))
    fact = judging.fact
    base = fact.earned.total if isinstance(fact, OrderFact) else fact.points
    return CampaignPoints(applied=_within(applied, MAX_POINTS - base), skipped=tuple(skipped))


def kept_within(booked: CampaignPoints, room: int) -> CampaignPoints:
    """`booked` cut to add at most `room` points (what an abuse cap leaves the order beyond
    its base points): in their order, each line keeping its part in proportion; a campaign
    left with no points and no coupon no longer applied."""
    kept = tuple(c for c in _within(list(booked.applied), room) if c.points or c.coupon_template)
    return CampaignPoints(applied=kept, skipped=booked.skipped)


def _within(applied: list[Contribution], room: int) -> tuple[Contribution, ...]:
    """The applied contributions, in their order, cut so that together they add at most
    `room` points (each line keeping its part in proportion, as a member cap cuts)."""
    kept: list[Contribution] = []
    room = max(0, room)
    for contribution in applied:
        if contribution.points > room:
            lines = contribution.lines
            cut = spread(room, [s.points for s in lines]) if lines else []
            contribution = replace(
                contribution,
                points=room,
                lines=tuple(LineShare(s.sku, p) for s, p in zip(lines, cut, strict=True) if p),
                capped=True,
            )
        room -= contribution.points
        kept.append(contribution)
    return tuple(kept)


def _stack(candidates: list[tuple[Campaign, Contribution]]) -> set[int]:
    """The ids that apply: the best exclusive one alone, or every stackable one together,
    whichever gives more points (a tie goes to the exclusive one). Coupons do not count."""
    exclusive = [(c, r) for c, r in candidates if c.stacking is Stacking.EXCLUSIVE]
    stackable = [(c, r) for c, r in candidates if c.stacking is Stacking.STACKABLE]
    if exclusive:
        best, contribution = min(
            exclusive, key=lambda cr: (-cr[1].points, -cr[0].priority, cr[0].id)
        )
        if contribution.points >= sum(r.points for _, r in stackable):
            return {best.id}
    return {c.id for c, _ in stackable}


def could_reward(campaign: Campaign, fact: OrderFact) -> bool:
    """Whether the order meets the campaign's conditions and it would add something (points
    or a coupon) for some member: schedule, audience, limits and stacking aside, none of
    which can make a campaign apply. A pure pass that spares reads for the rest."""
    eligible = _eligible_lines(campaign.conditions, fact)
    if eligible is None:
        return False
    if campaign.effects.coupon_template is not None:
        return True
    return sum(p for _, p in _order_shares(campaign.effects, fact, eligible)) > 0


def _judge(campaign: Campaign, judging: Judging) -> Contribution | NotApplied:
    """One campaign on its own: its contribution, or why it gives nothing."""
    if not in_schedule(campaign.schedule, judging.at, judging.timezone):
        return NotApplied.OUTSIDE_SCHEDULE
    if not _in_audience(campaign.audience, judging):
        return NotApplied.NOT_IN_AUDIENCE
    fact = judging.fact
    effects = campaign.effects
    if isinstance(fact, OrderFact):
        eligible = _eligible_lines(campaign.conditions, fact)
        if eligible is None:
            return NotApplied.CONDITIONS_NOT_MET
        shares = _order_shares(effects, fact, eligible)
    else:
        extra = fact.points * (effects.multiplier - BASIS) // BASIS + effects.bonus_per_order
        shares = [("", extra)]
    usage = judging.usage.get(campaign.id, Usage())
    limits = campaign.limits
    if (
        limits.max_rewarded_orders is not None
        and usage.member_rewarded >= limits.max_rewarded_orders
    ):
        return NotApplied.ORDER_LIMIT_REACHED
    coupon = effects.coupon_template
    points = sum(p for _, p in shares)
    if points <= 0 and coupon is None:
        return NotApplied.NOTHING_TO_ADD
    left = _cap_left(limits, usage)
    capped = left is not None and points > left
    if capped and left is not None:
        if left == 0 and coupon is None:
            return NotApplied.MEMBER_CAP_REACHED
        # the cut keeps each line's part in proportion, so a return takes back its own share
        cut = spread(left, [p for _, p in shares])
        shares = [(sku, p) for (sku, _), p in zip(shares, cut, strict=True)]
        points = left
    if campaign.id in judging.exhausted or (
        usage.budget_left is not None and (points > usage.budget_left or usage.budget_left <= 0)
    ):
        return NotApplied.BUDGET_EXHAUSTED
    lines = (
        tuple(LineShare(sku, p) for sku, p in shares if p) if isinstance(fact, OrderFact) else ()
    )
    return Contribution(campaign.id, campaign.code, points, lines, coupon, capped=capped)


def _in_audience(audience: Audience, judging: Judging) -> bool:
    member = judging.member
    if audience.tiers and member.tier_code not in audience.tiers:
        return False
    if audience.segments and member.segment not in audience.segments:
        return False
    if audience.joined_within_days is not None and judging.at - member.joined_at > timedelta(
        days=audience.joined_within_days
    ):
        return False
    if audience.nth_order is not None and member.orders_before + 1 != audience.nth_order:
        return False
    if audience.birthday_month:
        local_month = judging.at.astimezone(ZoneInfo(judging.timezone)).month
        if member.birthday_month != local_month:
            return False
    return True


def _eligible_lines(conditions: Conditions, fact: OrderFact) -> list[OrderLine] | None:
    """The order's lines the campaign rewards, or None when the order does not qualify."""
    if conditions.channels and fact.channel not in conditions.channels:
        return None
    if any(p.method in conditions.excluded_payment_methods for p in fact.payments):
        return None
    every = not conditions.categories and not conditions.skus
    eligible = [
        line
        for line in fact.lines
        if every or line.category in conditions.categories or line.sku in conditions.skus
    ]
    if not eligible or sum(line.amount for line in eligible) < conditions.min_spend:
        return None
    return eligible


def _order_shares(
    effects: Effects, fact: OrderFact, eligible: list[OrderLine]
) -> list[tuple[str, int]]:
    """Each eligible line's points from the campaign: its multiplier part (rounded down, of the
    line's own base points), its per-item bonus and its share of the per-order bonus."""
    base = {line.sku: line.points for line in fact.earned.lines}
    amounts = [line.amount for line in eligible]
    if not any(amounts):
        amounts = [1] * len(eligible)
    order_bonus = spread(effects.bonus_per_order, amounts)
    return [
        (
            line.sku,
            base.get(line.sku, 0) * (effects.multiplier - BASIS) // BASIS
            + effects.bonus_per_item * line.quantity
            + bonus,
        )
        for line, bonus in zip(eligible, order_bonus, strict=True)
    ]


def _cap_left(limits: Limits, usage: Usage) -> int | None:
    """The points the member may still get from the campaign (None: no cap)."""
    left: list[int] = []
    if limits.member_cap is not None:
        left.append(limits.member_cap - usage.member_points)
    if limits.member_period_cap is not None:
        left.append(limits.member_period_cap - usage.member_period_points)
    return max(0, min(left)) if left else None


# ---- validation ---------------------------------------------------------------------------

MAX_WINDOW = timedelta(days=3 * 365 + 1)
MAX_BONUS = 1_000_000
MAX_MULTIPLIER = 10 * BASIS
MAX_PRIORITY = 1000
MAX_LIST = 500  # tiers, categories, skus, dates


def validate_campaign(
    campaign: Campaign, errors: Collector, *, timezone: str | None = None
) -> None:
    """Everything a campaign may say, field by field (GraphQL input names). Recurrences are
    read in `timezone` (the programme's; None: the zone `starts_at` was given in). Whether
    the coupon template exists is the service's question."""
    check_template_code(errors, campaign.code)
    if not (1 <= len(campaign.name.strip()) <= 100 and is_clean(campaign.name)):
        errors.add("name", "must be 1-100 characters, no control characters")
    if not -MAX_PRIORITY <= campaign.priority <= MAX_PRIORITY:
        errors.add("priority", f"must be {-MAX_PRIORITY}-{MAX_PRIORITY}")
    _check_schedule(campaign.schedule, errors, timezone)
    _check_audience(campaign.audience, errors)
    _check_conditions(campaign.conditions, errors)
    _check_effects(campaign.effects, errors)
    _check_limits(campaign.limits, errors)
    if campaign.trigger is not Trigger.ORDER:
        _check_not_order(campaign, errors)


def _check_schedule(s: Schedule, errors: Collector, timezone: str | None) -> None:
    aware = True
    for name, moment in (("startsAt", s.starts_at), ("endsAt", s.ends_at)):
        if moment.tzinfo is None:
            errors.add(name, "needs a time zone (2027-03-01T00:00:00+08:00)")
            aware = False
    shapes = (
        ("weekdays", any(not 1 <= d <= 7 for d in s.weekdays), "ISO weekdays are 1-7 (Monday 1)"),
        ("monthDays", any(not 1 <= d <= 31 for d in s.month_days), "days of the month are 1-31"),
        ("dates", len(s.dates) > MAX_LIST, f"at most {MAX_LIST} dates"),
    )
    bad = False
    for name, wrong, message in shapes:
        if wrong:
            errors.add(name, message)
            bad = True
    if not aware:
        return
    if s.ends_at <= s.starts_at:
        errors.add("endsAt", "must be after startsAt")
        return
    if s.ends_at - s.starts_at > MAX_WINDOW:
        errors.add("endsAt", "a campaign runs at most 3 years")
        return
    zone = ZoneInfo(timezone) if timezone else s.starts_at.tzinfo
    first = s.starts_at.astimezone(zone).date()
    last = (s.ends_at - timedelta(microseconds=1)).astimezone(zone).date()
    if any(not first <= d <= last for d in s.dates):
        errors.add("dates", f"each date must fall in the window ({first} to {last})")
        bad = True
    if bad:
        return
    # a recurrence that no day of the window matches would make a campaign that never runs
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    alone = {
        "weekdays": Schedule(s.starts_at, s.ends_at, weekdays=s.weekdays),
        "monthDays": Schedule(s.starts_at, s.ends_at, month_days=s.month_days),
        "dates": Schedule(s.starts_at, s.ends_at, dates=s.dates),
    }
    given = [name for name, one in alone.items() if _recurs(one)]
    never = [name for name in given if not any(_matches(alone[name], d) for d in days)]
    for name in never:
        errors.add(name, "never runs: no day of the window matches")
    if given and not never and not any(_matches(s, d) for d in days):
        errors.add(given[0], "never runs: no day of the window matches all the recurrences")


def _recurs(s: Schedule) -> bool:
    return bool(s.weekdays or s.month_days or s.dates)


def _check_audience(a: Audience, errors: Collector) -> None:
    if len(a.tiers) > MAX_LIST or not all(1 <= len(t) <= 64 and is_clean(t) for t in a.tiers):
        errors.add("audience.tiers", f"at most {MAX_LIST} tier codes")
    if not a.segments <= {s.value for s in Lifecycle}:
        errors.add("audience.segments", f"one of {', '.join(s.value for s in Lifecycle)}")
    if a.joined_within_days is not None and not 1 <= a.joined_within_days <= 3650:
        errors.add("audience.joinedWithinDays", "must be 1-3650")
    if a.nth_order is not None and not 1 <= a.nth_order <= 1000:
        errors.add("audience.nthOrder", "must be 1-1000")


def _check_conditions(c: Conditions, errors: Collector) -> None:
    if not 0 <= c.min_spend <= MAX_MONEY:
        errors.add("conditions.minSpend", f"must be 0-{MAX_MONEY} minor units")
    for name, values in (("conditions.categories", c.categories), ("conditions.skus", c.skus)):
        if len(values) > MAX_LIST or not all(1 <= len(v) <= 64 and is_clean(v) for v in values):
            errors.add(name, f"at most {MAX_LIST}, each 1-64 characters")


def _check_effects(e: Effects, errors: Collector) -> None:
    if not BASIS <= e.multiplier <= MAX_MULTIPLIER:
        errors.add("effects.multiplier", f"must be {BASIS} (1x) to {MAX_MULTIPLIER} (10x)")
    for name, bonus in (
        ("effects.bonusPerOrder", e.bonus_per_order),
        ("effects.bonusPerItem", e.bonus_per_item),
    ):
        if not 0 <= bonus <= MAX_BONUS:
            errors.add(name, f"must be 0-{MAX_BONUS} points")
    if e.coupon_template is not None and not TEMPLATE_CODE_RE.match(e.coupon_template):
        errors.add("effects.couponTemplate", "not a coupon template code")
    nothing = e.multiplier <= BASIS and e.bonus_per_order <= 0 and e.bonus_per_item <= 0
    if nothing and e.coupon_template is None:
        errors.add("effects", "give a multiplier above 1x, a bonus or a coupon template")


def _check_limits(lim: Limits, errors: Collector) -> None:
    for name, value in (
        ("limits.budget", lim.budget),
        ("limits.memberCap", lim.member_cap),
        ("limits.memberPeriodCap", lim.member_period_cap),
        ("limits.maxRewardedOrders", lim.max_rewarded_orders),
    ):
        if value is not None and not 1 <= value <= MAX_POINTS:
            errors.add(name, f"must be 1-{MAX_POINTS}, or null for no limit")
    if (lim.member_period_cap is None) != (lim.cap_period is None):
        name = "limits.capPeriod" if lim.cap_period is None else "limits.memberPeriodCap"
        errors.add(name, "a period cap needs both memberPeriodCap and capPeriod")


def _check_not_order(campaign: Campaign, errors: Collector) -> None:
    c, only_orders = campaign.conditions, "only orders have it"
    for name, present in (
        ("conditions.minSpend", c.min_spend != 0),
        ("conditions.categories", bool(c.categories)),
        ("conditions.skus", bool(c.skus)),
        ("conditions.excludedPaymentMethods", bool(c.excluded_payment_methods)),
        ("conditions.channels", bool(c.channels)),
        ("effects.bonusPerItem", campaign.effects.bonus_per_item != 0),
        ("audience.nthOrder", campaign.audience.nth_order is not None),
    ):
        if present:
            errors.add(name, f"{only_orders}; this campaign's trigger is {campaign.trigger}")
    if campaign.trigger is Trigger.REGISTRATION and campaign.effects.multiplier != BASIS:
        # a registration earns no points of its own (services.members.register): 0 x N is 0
        errors.add("effects.multiplier", "a registration earns no points to multiply: give a bonus")
