"""What no programme could mean by a campaign, refused with the field it is in."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from domain.campaigns.judging import recurs_on
from domain.campaigns.model import (
    Audience,
    Campaign,
    Conditions,
    Effects,
    Limits,
    Schedule,
    Trigger,
)
from domain.coupons.templates import TEMPLATE_CODE_RE, check_template_code
from domain.errors import Collector
from domain.points import (
    BASIS,
    MAX_MONEY,
    MAX_POINTS,
)
from domain.recommendations.rfm import Lifecycle
from domain.text import is_clean

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
    check_audience(campaign.audience, errors)
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
    never = [name for name in given if not any(recurs_on(alone[name], d) for d in days)]
    for name in never:
        errors.add(name, "never runs: no day of the window matches")
    if given and not never and not any(recurs_on(s, d) for d in days):
        errors.add(given[0], "never runs: no day of the window matches all the recurrences")


def _recurs(s: Schedule) -> bool:
    return bool(s.weekdays or s.month_days or s.dates)


def check_audience(a: Audience, errors: Collector) -> None:
    """An audience's shape (campaigns' and challenges'), fields under `audience.`."""
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
