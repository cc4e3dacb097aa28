"""Judging campaigns (the package's docstring says how they stack and limit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain import calendar
from domain.campaigns.model import (
    Audience,
    Campaign,
    CampaignPoints,
    CampaignStatus,
    CapPeriod,
    Conditions,
    Contribution,
    Effects,
    Judging,
    Limits,
    LineShare,
    MemberFacts,
    NotApplied,
    OrderFact,
    OtherFact,
    Schedule,
    Skipped,
    Stacking,
    Trigger,
    Usage,
)
from domain.coupons.checkout import spread
from domain.points import (
    BASIS,
    MAX_POINTS,
    OrderLine,
)


def in_schedule(schedule: Schedule, at: datetime, timezone: str) -> bool:
    """`at` falls in the window and its local date matches every non-empty recurrence set."""
    if not schedule.starts_at <= at < schedule.ends_at:
        return False
    return recurs_on(schedule, at.astimezone(ZoneInfo(timezone)).date())


def recurs_on(schedule: Schedule, day: date) -> bool:
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
    first, after = calendar.first_day(period.value, day), calendar.next_first_day(period.value, day)
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
    if not in_audience(campaign.audience, judging.member, judging.at, judging.timezone):
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


def in_audience(audience: Audience, member: MemberFacts, at: datetime, timezone: str) -> bool:
    """Whether the member, as known at `at`, is one the audience names (campaigns and
    challenges share it; an Nth-order criterion reads `orders_before`)."""
    if audience.tiers and member.tier_code not in audience.tiers:
        return False
    if audience.segments and member.segment not in audience.segments:
        return False
    if audience.joined_within_days is not None and at - member.joined_at > timedelta(
        days=audience.joined_within_days
    ):
        return False
    if audience.nth_order is not None and member.orders_before + 1 != audience.nth_order:
        return False
    if audience.birthday_month:
        local_month = at.astimezone(ZoneInfo(timezone)).month
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
