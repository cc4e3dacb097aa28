"""Tier and benefit rules, and the shape a tier ladder must keep, without a database."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import Collector, ErrorCode
from domain.tiers import (
    MAX_AMOUNT,
    TierDraft,
    TierView,
    check_code,
    entry_tier,
    normalised,
    validate_benefit,
    validate_ladder,
    validate_tier,
)


def draft(**overrides: Any) -> TierDraft:
    fields: dict[str, Any] = {
        "code": "GOLD",
        "name": "Gold",
        "rank": 2,
        "entry_threshold": 5_000,
        "retention_threshold": 4_000,
    }
    return TierDraft(**{**fields, **overrides})


def view(code: str, rank: int, entry_threshold: int = 0) -> TierView:
    return TierView(
        id=rank + 1,
        code=code,
        name=code.title(),
        rank=rank,
        entry_threshold=entry_threshold,
        retention_threshold=None,
    )


def fields_of(errors: Collector) -> list[str | None]:
    return [e.field for e in errors.errors]


def test_a_valid_tier_reports_nothing():
    # given
    errors = Collector()
    # when
    validate_tier(draft(), errors)
    # then
    assert errors.errors == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code": "gold"}, "code"),
        ({"code": "1GOLD"}, "code"),
        ({"code": ""}, "code"),
        ({"code": "G" * 33}, "code"),
        ({"code": "GOLD-1"}, "code"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 61}, "name"),
        ({"rank": -1}, "rank"),
        ({"rank": 101}, "rank"),
        ({"entry_threshold": -1, "retention_threshold": None}, "entryThreshold"),
        ({"entry_threshold": MAX_AMOUNT + 1, "retention_threshold": None}, "entryThreshold"),
        ({"retention_threshold": 5_001}, "retentionThreshold"),
        ({"retention_threshold": -1}, "retentionThreshold"),
    ],
)
def test_a_bad_tier_field_is_reported_on_that_field(overrides, field):
    # given
    errors = Collector()
    # when (the service validates drafts with their names trimmed)
    validate_tier(normalised(draft(**overrides)), errors)
    # then
    assert fields_of(errors) == [field]
    assert errors.errors[0].code is ErrorCode.VALIDATION


@pytest.mark.parametrize(
    "overrides",
    [
        {"code": "G" * 32},
        {"code": "G"},
        {"code": "TIER_2"},
        {"name": "n" * 60},
        {"rank": 0},
        {"rank": 100},
        {"entry_threshold": 0, "retention_threshold": None},
        {"entry_threshold": MAX_AMOUNT, "retention_threshold": None},
        {"retention_threshold": 5_000},
        {"retention_threshold": 0},
        {"retention_threshold": None},
    ],
)
def test_tier_values_at_the_limits_are_accepted(overrides):
    # given
    errors = Collector()
    # when
    validate_tier(draft(**overrides), errors)
    # then
    assert errors.errors == []


def test_every_bad_tier_field_is_reported_at_once():
    # given
    errors = Collector()
    bad = TierDraft(code="gold", name="", rank=-1, entry_threshold=-1, retention_threshold=None)
    # when
    validate_tier(bad, errors)
    # then
    assert fields_of(errors) == ["code", "name", "rank", "entryThreshold"]


def test_a_valid_ladder_in_any_order_reports_nothing():
    # given
    ladder = [
        draft(code="GOLD", rank=2, entry_threshold=5_000),
        draft(code="BRONZE", rank=0, entry_threshold=0, retention_threshold=None),
        draft(code="SILVER", rank=1, entry_threshold=1_000, retention_threshold=None),
    ]
    errors = Collector()
    # when
    validate_ladder(ladder, errors)
    # then
    assert errors.errors == []


def test_an_empty_ladder_reports_nothing():
    # given
    errors = Collector()
    # when
    validate_ladder([], errors)
    # then
    assert errors.errors == []


def test_the_lowest_tier_must_start_at_zero():
    # given
    ladder = [
        draft(code="BRONZE", rank=0, entry_threshold=100, retention_threshold=None),
        draft(code="SILVER", rank=1, entry_threshold=1_000, retention_threshold=None),
    ]
    errors = Collector()
    # when
    validate_ladder(ladder, errors)
    # then
    assert fields_of(errors) == ["entryThreshold"]
    assert "lowest" in errors.errors[0].message


def test_a_single_tier_ladder_must_start_at_zero():
    # given
    errors = Collector()
    # when
    validate_ladder([draft(code="ONLY", rank=5, entry_threshold=1)], errors)
    # then
    assert fields_of(errors) == ["entryThreshold"]


@pytest.mark.parametrize("silver_threshold", [0, 5_000, 999_999])
def test_thresholds_must_increase_strictly_with_rank(silver_threshold):
    # given silver (rank 1) needs no more than bronze (rank 0) or no less than gold (rank 2)
    ladder = [
        draft(code="BRONZE", rank=0, entry_threshold=0, retention_threshold=None),
        draft(code="SILVER", rank=1, entry_threshold=silver_threshold, retention_threshold=None),
        draft(code="GOLD", rank=2, entry_threshold=5_000),
    ]
    errors = Collector()
    # when
    validate_ladder(ladder, errors)
    # then
    assert fields_of(errors) == ["entryThreshold"]


def test_equal_thresholds_on_neighbouring_ranks_are_rejected_and_name_both_tiers():
    # given
    ladder = [
        draft(code="BRONZE", rank=0, entry_threshold=0, retention_threshold=None),
        draft(code="SILVER", rank=1, entry_threshold=1_000, retention_threshold=None),
        draft(code="GOLD", rank=2, entry_threshold=1_000, retention_threshold=None),
    ]
    errors = Collector()
    # when
    validate_ladder(ladder, errors)
    # then
    assert fields_of(errors) == ["entryThreshold"]
    assert "GOLD" in errors.errors[0].message
    assert "SILVER" in errors.errors[0].message


def test_a_duplicate_rank_is_rejected_on_rank():
    # given
    ladder = [
        draft(code="BRONZE", rank=0, entry_threshold=0, retention_threshold=None),
        draft(code="SILVER", rank=1, entry_threshold=1_000, retention_threshold=None),
        draft(code="GOLD", rank=1, entry_threshold=5_000),
    ]
    errors = Collector()
    # when
    validate_ladder(ladder, errors)
    # then
    assert fields_of(errors) == ["rank"]


def test_entry_tier_is_the_lowest_rank_whatever_the_order():
    # given
    tiers = [view("GOLD", 2, 5_000), view("BRONZE", 0), view("SILVER", 1, 1_000)]
    # when
    tier = entry_tier(tiers)
    # then
    assert tier is not None
    assert tier.code == "BRONZE"


def test_entry_tier_of_no_tiers_is_none():
    # given no tiers
    # when
    tier = entry_tier([])
    # then
    assert tier is None


def test_check_code_reports_on_the_field_it_is_given():
    # given
    errors = Collector("tiers.1.")
    # when
    check_code(errors, "benefitCode", "free shipping")
    check_code(errors, "code", "FREE_SHIPPING")
    # then
    assert fields_of(errors) == ["tiers.1.benefitCode"]


def benefit(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "code": "FREE_SHIPPING",
        "title": "Free shipping",
        "value": 0,
        "description": "On every order.",
    }
    return {**fields, **overrides}


def test_a_valid_benefit_reports_nothing():
    # given
    errors = Collector()
    # when
    validate_benefit(**benefit(), errors=errors)
    # then
    assert errors.errors == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"title": "t" * 100},
        {"value": MAX_AMOUNT},
        {"value": 15_000},
        {"description": ""},
        {"description": "d" * 1000},
    ],
)
def test_benefit_values_at_the_limits_are_accepted(overrides):
    # given
    errors = Collector()
    # when
    validate_benefit(**benefit(**overrides), errors=errors)
    # then
    assert errors.errors == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code": "free_shipping"}, "code"),
        ({"title": ""}, "title"),
        ({"title": "  "}, "title"),
        ({"title": "t" * 101}, "title"),
        ({"value": -1}, "value"),
        ({"value": MAX_AMOUNT + 1}, "value"),
        ({"description": "d" * 1001}, "description"),
    ],
)
def test_a_bad_benefit_field_is_reported_on_that_field(overrides, field):
    # given
    errors = Collector()
    # when
    validate_benefit(**benefit(**overrides), errors=errors)
    # then
    assert fields_of(errors) == [field]


def test_every_bad_benefit_field_is_reported_at_once():
    # given
    errors = Collector()
    # when
    validate_benefit(code="", title="", value=-5, description="d" * 2000, errors=errors)
    # then
    assert fields_of(errors) == ["code", "title", "value", "description"]
