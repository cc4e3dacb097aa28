"""The campaigns `make bench-campaigns` gives the bench programme: a programme's year of
promotions, twenty of them not applying to the bench's orders at the moment they are placed (online
card orders of coffee and books by MEMBER-tier members who ordered before), as in a real
programme on most days, and two more that apply to every one of them (a stackable bonus
on books, double points on coffee with a member cap). A script's helper, not a test."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from db.campaign_cache import forget_campaigns
from db.models import Campaign as CampaignRow
from domain.campaigns import (
    Audience,
    CampaignStatus,
    CapPeriod,
    Channel,
    Conditions,
    Effects,
    Limits,
    Schedule,
    Stacking,
    Trigger,
    rule_of,
)
from domain.campaigns import Campaign as CampaignRule
from domain.points import PaymentMethod

DOUBLE = 20_000


def _mix(now: datetime, coupon: str, timezone: str) -> list[tuple[str, Trigger, Schedule, dict]]:
    today = now.astimezone(ZoneInfo(timezone))  # recurrences are read in the programme's zone
    year = Schedule(now - timedelta(days=180), now + timedelta(days=185))
    past = Schedule(now - timedelta(days=60), now - timedelta(days=30))
    future = Schedule(now + timedelta(days=30), now + timedelta(days=60))
    not_today = frozenset({1, 2, 3, 4, 5, 6, 7}) - {today.isoweekday()}
    return [
        ("WEEKENDS", Trigger.ORDER, Schedule(year.starts_at, year.ends_at, weekdays=frozenset({6, 7})),
         {"effects": Effects(multiplier=DOUBLE), "audience": Audience(tiers=frozenset({"SILVER"}))}),
        ("MEMBER-DAY", Trigger.ORDER, Schedule(year.starts_at, year.ends_at, month_days=frozenset({(today.day % 28) + 1})),
         {"effects": Effects(multiplier=DOUBLE),
          "limits": Limits(member_period_cap=500, cap_period=CapPeriod.MONTH)}),
        ("FIRST-ORDER", Trigger.ORDER, year,
         {"effects": Effects(bonus_per_order=100), "audience": Audience(nth_order=1)}),
        ("APPLIANCES", Trigger.ORDER, year,
         {"effects": Effects(multiplier=30_000), "conditions": Conditions(categories=frozenset({"appliances"})),
          "limits": Limits(budget=10_000_000)}),
        ("BIG-BASKET", Trigger.ORDER, year,
         {"effects": Effects(coupon_template=coupon), "conditions": Conditions(min_spend=29_900)}),
        ("IN-STORE", Trigger.ORDER, year,
         {"effects": Effects(bonus_per_order=200), "conditions": Conditions(channels=frozenset({Channel.OFFLINE}))}),
        ("BIRTHDAY", Trigger.ORDER, year,
         {"effects": Effects(multiplier=DOUBLE), "audience": Audience(birthday_month=True)}),
        ("WELCOME-30", Trigger.ORDER, year,
         {"effects": Effects(bonus_per_order=100), "audience": Audience(joined_within_days=30)}),
        ("SILVER-EXTRA", Trigger.ORDER, year,
         {"effects": Effects(multiplier=15_000), "audience": Audience(tiers=frozenset({"SILVER"}))}),
        ("NO-GIFT-CARDS", Trigger.ORDER, Schedule(year.starts_at, year.ends_at, weekdays=frozenset(not_today)),
         {"effects": Effects(bonus_per_item=5),
          "conditions": Conditions(excluded_payment_methods=frozenset({PaymentMethod.GIFT_CARD}))}),
        ("SINGLES-DAY", Trigger.ORDER, past, {"effects": Effects(multiplier=DOUBLE), "stacking": Stacking.EXCLUSIVE}),
        ("SPRING-FESTIVAL", Trigger.ORDER, future, {"effects": Effects(multiplier=30_000), "stacking": Stacking.EXCLUSIVE}),
        ("SUMMER-SALE", Trigger.ORDER, future, {"effects": Effects(bonus_per_order=300)}),
        ("AT-RISK-WINBACK", Trigger.ORDER, year,
         {"effects": Effects(bonus_per_order=150), "audience": Audience(segments=frozenset({"AT_RISK"}))}),
        ("CHECK-IN-WEEKEND", Trigger.CHECK_IN, year, {"effects": Effects(multiplier=DOUBLE)}),
        ("REVIEW-BONUS", Trigger.REVIEW, year, {"effects": Effects(bonus_per_order=20)}),
        ("JOIN-BONUS", Trigger.REGISTRATION, year, {"effects": Effects(bonus_per_order=100)}),
        ("REFER-A-FRIEND", Trigger.REFERRAL, year, {"effects": Effects(bonus_per_order=200)}),
        ("LIMITED-SKUS", Trigger.ORDER, year,
         {"effects": Effects(bonus_per_item=30), "conditions": Conditions(skus=frozenset({"tea-07", "tea-08"}))}),
        ("ANNIVERSARY", Trigger.ORDER, Schedule(year.starts_at, year.ends_at, dates=frozenset({(today + timedelta(days=40)).date()})),
         {"effects": Effects(multiplier=DOUBLE)}),
        ("BOOKS-BOOST", Trigger.ORDER, year,
         {"effects": Effects(bonus_per_item=50), "conditions": Conditions(categories=frozenset({"books"}))}),
        ("COFFEE-DOUBLE", Trigger.ORDER, year,
         {"effects": Effects(multiplier=DOUBLE), "conditions": Conditions(categories=frozenset({"coffee"})),
          "limits": Limits(member_cap=100_000)}),
    ]  # fmt: skip


APPLYING = ("BOOKS-BOOST", "COFFEE-DOUBLE")  # the last two of the mix apply to bench orders


async def seed_campaigns(
    programme_id: int, now: datetime, *, count: int, coupon: str, timezone: str
) -> list[str]:
    """`count` active campaigns (up to 22), the applying ones last: 20 gives none that
    applies, 22 two that apply to every order. Returns their codes."""
    mix = _mix(now, coupon, timezone)[:count]
    for n, (code, trigger, schedule, parts) in enumerate(mix, start=1):
        rule = CampaignRule(
            id=n, code=code, name=code.title(), status=CampaignStatus.ACTIVE, trigger=trigger,
            schedule=schedule, **parts,
        )  # fmt: skip
        await CampaignRow.create(
            programme_id=programme_id, code=code, name=rule.name, status=rule.status.value,
            trigger=trigger.value, stacking=rule.stacking.value, priority=rule.priority,
            starts_at=schedule.starts_at, ends_at=schedule.ends_at, rule=rule_of(rule),
            budget=rule.limits.budget, created_at=now, updated_at=now, activated_at=now,
        )  # fmt: skip
    await forget_campaigns(programme_id)
    return [code for code, *_ in mix]
