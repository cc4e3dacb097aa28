"""Challenges' pure rules (issue 20): what a fact adds, the progress they make, the window, the
reward in words and as stored, and what a challenge may say."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.campaigns import Audience
from domain.challenges import (
    Badge,
    Challenge,
    ChallengeStatus,
    Counted,
    Goal,
    KeptLine,
    Reward,
    counts_at,
    current_of,
    describe_reward,
    order_counted,
    reward_of_rule,
    reward_rule,
    validate_challenge,
)
from domain.errors import Collector

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)


def challenge(**overrides: object) -> Challenge:
    given: dict[str, object] = {
        "id": 1,
        "code": "THREE",
        "name": "Three orders",
        "description": "",
        "status": ChallengeStatus.ACTIVE,
        "starts_at": NOW - timedelta(days=1),
        "ends_at": NOW + timedelta(days=30),
        "goal": Goal.ORDERS,
        "target": 3,
        "audience": Audience(),
        "reward": Reward(points=100),
        "undo_on_return": False,
        **overrides,
    }
    return Challenge(**given)  # type: ignore[arg-type]


def fields_of(c: Challenge) -> list[str]:
    errors = Collector()
    validate_challenge(c, errors, now=NOW)
    return [e.field for e in errors.errors if e.field is not None]


LINES = [KeptLine("shoes", 1), KeptLine("hats", 2), KeptLine("bags", 0)]


def test_an_order_adds_one_its_spend_or_its_kept_categories():
    assert order_counted(Goal.ORDERS, LINES, 5_000) == (1, frozenset())
    assert order_counted(Goal.SPEND, LINES, 5_000) == (5_000, frozenset())
    assert order_counted(Goal.CATEGORIES, LINES, 5_000) == (2, frozenset({"shoes", "hats"}))


def test_an_order_with_nothing_kept_adds_nothing():
    gone = [KeptLine("shoes", 0)]
    for goal in (Goal.ORDERS, Goal.SPEND, Goal.CATEGORIES):
        assert order_counted(goal, gone, 0) == (0, frozenset())


def test_progress_counts_sums_or_unions_what_is_not_undone():
    counted = [
        Counted("o-1", 3_000, frozenset({"shoes"})),
        Counted("o-2", 2_000, frozenset({"shoes", "hats"})),
        Counted("o-3", 9_000, frozenset({"bags"}), undone=True),
    ]
    assert current_of(Goal.ORDERS, counted) == 2
    assert current_of(Goal.REVIEWS, counted) == 2
    assert current_of(Goal.SPEND, counted) == 5_000
    assert current_of(Goal.CATEGORIES, counted) == 2
    assert current_of(Goal.ORDERS, []) == 0


@pytest.mark.parametrize(
    ("days", "streak"),
    [
        ([], 0),
        (["2027-03-01"], 1),
        (["2027-03-01", "2027-03-02", "2027-03-03"], 3),
        (["2027-03-01", "2027-03-02", "2027-03-04"], 1),
        (["2027-02-27", "2027-03-01", "2027-03-02"], 2),
        (["2027-03-03", "2027-03-01", "2027-03-02"], 3),  # in any order
    ],
)
def test_a_streak_is_the_run_of_days_ending_at_the_latest(days, streak):
    assert current_of(Goal.CHECK_IN_STREAK, [Counted(d, 1) for d in days]) == streak


def test_a_fact_counts_inside_the_window_of_a_running_challenge_only():
    c = challenge()
    assert counts_at(c, c.starts_at)
    assert not counts_at(c, c.starts_at - timedelta(microseconds=1))
    assert not counts_at(c, c.ends_at)
    assert not counts_at(replace(c, status=ChallengeStatus.ENDED), NOW)


def test_the_reward_in_words_and_as_stored():
    full = Reward(points=100, coupon_template="TEN-OFF", badge=Badge("B", "Regular", None))
    assert describe_reward(full) == "100 points, a coupon (TEN-OFF), the badge Regular"
    assert describe_reward(Reward(points=5)) == "5 points"
    for reward in (full, Reward(points=5), Reward(badge=Badge("B", "T", "https://x.test/b"))):
        assert reward_of_rule(reward_rule(reward)) == reward


def test_a_well_formed_challenge_passes():
    assert fields_of(challenge()) == []
    assert fields_of(challenge(goal=Goal.SPEND, target=2_000_000_000)) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code": "no spaces"}, "code"),
        ({"name": ""}, "name"),
        ({"description": "x" * 501}, "description"),
        ({"starts_at": datetime(2027, 3, 1)}, "startsAt"),
        ({"ends_at": NOW - timedelta(days=2)}, "endsAt"),
        ({"starts_at": NOW - timedelta(days=3), "ends_at": NOW - timedelta(days=1)}, "endsAt"),
        ({"ends_at": NOW + timedelta(days=4 * 365)}, "endsAt"),
        ({"audience": Audience(nth_order=1)}, "audience.nthOrder"),
        ({"audience": Audience(joined_within_days=0)}, "audience.joinedWithinDays"),
        ({"target": 0}, "target"),
        ({"target": 10_001}, "target"),
        ({"goal": Goal.CHECK_IN_STREAK, "target": 40}, "target"),
        ({"reward": Reward()}, "reward"),
        ({"reward": Reward(points=-1, badge=Badge("B", "T"))}, "reward.points"),
        ({"reward": Reward(coupon_template="bad code")}, "reward.couponTemplate"),
        ({"reward": Reward(badge=Badge("bad code", "T"))}, "reward.badge.code"),
        ({"reward": Reward(badge=Badge("B", " "))}, "reward.badge.title"),
        ({"reward": Reward(badge=Badge("B", "T", "ftp://x"))}, "reward.badge.imageUrl"),
    ],
)
def test_what_a_challenge_may_not_say_is_refused_on_its_field(overrides, field):
    assert field in fields_of(challenge(**overrides))
