"""A campaign's stored form: the JSON of campaigns.rule beside the columns."""

from __future__ import annotations

from datetime import date, datetime

from domain.campaigns.model import (
    Audience,
    Campaign,
    CampaignStatus,
    CapPeriod,
    Channel,
    Conditions,
    Effects,
    Limits,
    Schedule,
    Stacking,
    Trigger,
)
from domain.points import (
    BASIS,
    PaymentMethod,
)

# The `rule` column holds what SQL never filters by; the columns hold the rest.


def _sorted(values: frozenset[object]) -> list[object]:
    return sorted(values, key=str)


def audience_rule(a: Audience) -> dict[str, object]:
    """An audience as JSON (a campaign's rule holds it; a challenge's audience column too)."""
    return {
        "tiers": sorted(a.tiers),
        "segments": sorted(a.segments),
        "joinedWithinDays": a.joined_within_days,
        "nthOrder": a.nth_order,
        "birthdayMonth": a.birthday_month,
    }


def audience_of_rule(r: dict[str, object]) -> Audience:
    """`audience_rule`'s JSON read back."""
    return Audience(
        tiers=frozenset(str(t) for t in _list(r.get("tiers"))),
        segments=frozenset(str(t) for t in _list(r.get("segments"))),
        joined_within_days=_int_or_none(r.get("joinedWithinDays")),
        nth_order=_int_or_none(r.get("nthOrder")),
        birthday_month=bool(r.get("birthdayMonth")),
    )


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
        **audience_rule(a),
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
        audience=audience_of_rule(r),
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
