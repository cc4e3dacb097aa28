"""The catalogue's pure rules: what a reward may be, what a change may do, who may redeem."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import Collector, DomainError, ErrorCode
from domain.rewards import LimitPeriod, Reward, RewardKind, RewardStatus
from domain.rewards.validation import (
    RewardSpec,
    check_editable,
    edited,
    stock_left_after,
    validate,
)

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def spec(**overrides: object) -> RewardSpec:
    fields: dict[str, object] = {
        "code": "TUMBLER",
        "title": "Tumbler",
        "category": "home",
        "kind": RewardKind.PRODUCT,
        "points_price": 1200,
        **overrides,
    }
    return RewardSpec(**fields)  # type: ignore[arg-type]


def problems(given: RewardSpec) -> list[str | None]:
    errors = Collector()
    validate(given, errors)
    return [e.field for e in errors.errors]


def reward(**overrides: object) -> Reward:
    fields: dict[str, object] = {
        "id": 1,
        "programme_id": 1,
        "code": "TUMBLER",
        "title": "Tumbler",
        "description": "",
        "image_url": None,
        "category": "home",
        "kind": RewardKind.PRODUCT,
        "points_price": 1200,
        "cash_price": 0,
        "coupon_template_id": None,
        "partner_id": None,
        "partner_units": None,
        "total_stock": 100,
        "stock_left": 70,
        "redeemed": 30,
        "per_member_limit": None,
        "limit_period": LimitPeriod.EVER,
        "eligible_tiers": frozenset(),
        "valid_from": None,
        "valid_until": None,
        "status": RewardStatus.ACTIVE,
        "created_at": NOW,
        "updated_at": NOW,
        "retired_at": None,
        **overrides,
    }
    return Reward(**fields)  # type: ignore[arg-type]


def test_a_plain_product_is_valid():
    assert problems(spec()) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code": "tumbler"}, "code"),
        ({"code": "X" * 33}, "code"),
        ({"title": ""}, "title"),
        ({"title": "a\x00b"}, "title"),
        ({"description": "d" * 1001}, "description"),
        ({"image_url": "javascript:alert(1)"}, "imageUrl"),
        ({"image_url": "https://"}, "imageUrl"),
        ({"category": " "}, "category"),
        ({"points_price": 0}, "pointsPrice"),
        ({"cash_price": -1}, "cashPrice"),
        ({"total_stock": -1}, "totalStock"),
        ({"per_member_limit": 0}, "perMemberLimit"),
        ({"limit_period": LimitPeriod.DAY}, "limitPeriod"),
        ({"eligible_tier_codes": ("GOLD", "GOLD")}, "eligibleTierCodes"),
        ({"kind": RewardKind.COUPON}, "couponTemplateCode"),
        ({"coupon_template_code": "T"}, "couponTemplateCode"),
        ({"kind": RewardKind.PARTNER, "partner_units": 1}, "partnerCode"),
        ({"kind": RewardKind.PARTNER, "partner_code": "AIR"}, "partnerUnits"),
        ({"partner_code": "AIR"}, "partnerCode"),
        ({"partner_units": 2}, "partnerUnits"),
        ({"valid_from": NOW, "valid_until": NOW}, "validUntil"),
        ({"valid_from": NOW, "valid_until": NOW - timedelta(seconds=1)}, "validUntil"),
    ],
)
def test_each_bad_field_is_reported_on_its_field(overrides, field):
    assert problems(spec(**overrides)) == [field]


def test_each_kind_with_what_it_needs_is_valid():
    assert problems(spec(kind=RewardKind.COUPON, coupon_template_code="10PCT")) == []
    assert problems(spec(kind=RewardKind.PARTNER, partner_code="AIR", partner_units=800)) == []
    assert problems(spec(kind=RewardKind.DIGITAL, per_member_limit=1)) == []
    ok = spec(per_member_limit=1, limit_period=LimitPeriod.MONTH, cash_price=3000)
    assert problems(ok) == []


def test_an_edit_changes_only_editable_fields():
    changed = edited(spec(), {"title": "Mug", "total_stock": 5})
    assert (changed.title, changed.total_stock, changed.code) == ("Mug", 5, "TUMBLER")
    with pytest.raises(DomainError) as refused:
        edited(spec(), {"kind": RewardKind.DIGITAL})
    assert refused.value.field == "kind"


def test_a_new_total_moves_what_is_left_by_the_difference():
    held = reward(total_stock=100, stock_left=70, redeemed=30)
    assert stock_left_after(held, 120) == 90
    assert stock_left_after(held, 30) == 0
    assert stock_left_after(held, None) is None
    unlimited = reward(total_stock=None, stock_left=None, redeemed=30)
    assert stock_left_after(unlimited, 50) == 20


def test_a_total_below_what_was_redeemed_is_refused():
    with pytest.raises(DomainError) as refused:
        stock_left_after(reward(redeemed=30), 29)
    assert (refused.value.field, refused.value.code) == ("totalStock", ErrorCode.VALIDATION)


def test_a_retired_reward_changes_no_more():
    check_editable(reward())
    with pytest.raises(DomainError) as refused:
        check_editable(reward(status=RewardStatus.RETIRED, retired_at=NOW))
    assert refused.value.code is ErrorCode.REWARD_RETIRED


def test_redeemable_needs_active_window_stock_and_tier():
    base = reward(eligible_tiers=frozenset({3}))
    assert base.redeemable(NOW, 3)
    assert not base.redeemable(NOW, 2)
    assert not base.redeemable(NOW, None)
    assert reward().redeemable(NOW, None)  # open to every tier, a guest too
    assert not replace(base, status=RewardStatus.RETIRED).redeemable(NOW, 3)
    assert not replace(base, stock_left=0).redeemable(NOW, 3)
    assert replace(base, stock_left=None).redeemable(NOW, 3)
    assert not replace(base, valid_from=NOW + timedelta(seconds=1)).redeemable(NOW, 3)
    assert replace(base, valid_from=NOW).redeemable(NOW, 3)
    assert not replace(base, valid_until=NOW).redeemable(NOW, 3)
