"""Challenges (DESIGN.md §8b, issue 20): a goal a member reaches within a window for a reward.

A challenge counts facts of one kind (completed orders, their spend or categories, check-ins,
rewarded reviews, rewarded referrals). Each fact that counts is kept as a `Counted` — what it
added to one member's progress — so the progress is always recomputed from them (`current_of`)
and a return takes away exactly what its order added. The service books the facts and the
reward; here are the rules: which facts a challenge counts, what an order adds, when the goal
is reached, and what a challenge may say."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.campaigns import Audience, check_audience
from domain.campaigns.validation import MAX_WINDOW
from domain.coupons.templates import TEMPLATE_CODE_RE, check_template_code
from domain.errors import Collector
from domain.points import MAX_MONEY
from domain.text import is_clean

MAX_COUNT = 10_000  # orders, reviews, referrals, categories, streak days
MAX_REWARD_POINTS = 1_000_000
BADGE_CODE_RE = TEMPLATE_CODE_RE
REFERENCE_TYPE = "CHALLENGE"  # the reward's ledger rows


class ChallengeStatus(StrEnum):
    ACTIVE = "ACTIVE"
    ENDED = "ENDED"


class Goal(StrEnum):
    ORDERS = "ORDERS"  # N completed orders
    SPEND = "SPEND"  # completed spend of at least `target` minor units
    CHECK_IN_STREAK = "CHECK_IN_STREAK"  # N check-ins on consecutive days
    REVIEWS = "REVIEWS"  # N rewarded reviews
    REFERRALS = "REFERRALS"  # N referrals rewarded
    CATEGORIES = "CATEGORIES"  # bought from N different categories


class FactKind(StrEnum):
    """What happened; the reference type of its contribution."""

    ORDER = "ORDER"
    CHECK_IN = "CHECK_IN"
    REVIEW = "REVIEW"
    REFERRAL = "REFERRAL"


GOALS_OF: dict[FactKind, frozenset[Goal]] = {
    FactKind.ORDER: frozenset({Goal.ORDERS, Goal.SPEND, Goal.CATEGORIES}),
    FactKind.CHECK_IN: frozenset({Goal.CHECK_IN_STREAK}),
    FactKind.REVIEW: frozenset({Goal.REVIEWS}),
    FactKind.REFERRAL: frozenset({Goal.REFERRALS}),
}


@dataclass(frozen=True)
class Badge:
    code: str
    title: str
    image_url: str | None = None


@dataclass(frozen=True)
class Reward:
    points: int = 0
    coupon_template: str | None = None
    badge: Badge | None = None


@dataclass(frozen=True)
class Challenge:
    id: int
    code: str
    name: str
    description: str
    status: ChallengeStatus
    starts_at: datetime  # inclusive
    ends_at: datetime  # exclusive
    goal: Goal
    target: int
    audience: Audience
    reward: Reward
    undo_on_return: bool


@dataclass(frozen=True)
class Counted:
    """What one fact added to one progress. A check-in's reference is its local ISO date."""

    reference: str
    amount: int
    categories: frozenset[str] = frozenset()
    undone: bool = False


@dataclass(frozen=True)
class KeptLine:
    """An order line as kept after returns: its category and the items still kept."""

    category: str
    kept: int


def counts_at(challenge: Challenge, at: datetime) -> bool:
    """Whether a fact at `at` counts for the challenge: it runs, and `at` is in its window."""
    return (
        challenge.status is ChallengeStatus.ACTIVE and challenge.starts_at <= at < challenge.ends_at
    )


def order_counted(goal: Goal, lines: Sequence[KeptLine], spend: int) -> tuple[int, frozenset[str]]:
    """What a completed order adds to a goal of orders, as kept now: (amount, categories).
    `spend` is the order's qualifying spend of its kept items. Nothing kept: (0, none) — the
    contribution is undone."""
    categories = frozenset(line.category for line in lines if line.kept > 0)
    if not categories:
        return 0, frozenset()
    if goal is Goal.SPEND:
        return spend, frozenset()
    if goal is Goal.CATEGORIES:
        return len(categories), categories
    return 1, frozenset()


def current_of(goal: Goal, counted: Iterable[Counted]) -> int:
    """The progress the facts make. ORDERS, REVIEWS, REFERRALS: how many count; SPEND: their
    amounts added; CATEGORIES: the distinct categories among them; CHECK_IN_STREAK: the run of
    consecutive days ending at the latest check-in."""
    live = [c for c in counted if not c.undone]
    if goal is Goal.SPEND:
        return sum(c.amount for c in live)
    if goal is Goal.CATEGORIES:
        return len(frozenset().union(*(c.categories for c in live)))
    if goal is Goal.CHECK_IN_STREAK:
        return _streak(sorted({date.fromisoformat(c.reference) for c in live}))
    return len(live)


def _streak(days: list[date]) -> int:
    if not days:
        return 0
    run = 1
    while run < len(days) and days[-run] - days[-run - 1] == timedelta(days=1):
        run += 1
    return run


def describe_reward(reward: Reward) -> str:
    """The reward in words, for a member page: "100 points, a coupon (WELCOME-10), the badge
    Regular"."""
    parts = []
    if reward.points:
        parts.append(f"{reward.points} points")
    if reward.coupon_template:
        parts.append(f"a coupon ({reward.coupon_template})")
    if reward.badge:
        parts.append(f"the badge {reward.badge.title}")
    return ", ".join(parts)


# ---- stored JSON ------------------------------------------------------------------------------


def reward_rule(reward: Reward) -> dict[str, Any]:
    badge = reward.badge
    return {
        "points": reward.points,
        "couponTemplate": reward.coupon_template,
        "badge": (
            {"code": badge.code, "title": badge.title, "imageUrl": badge.image_url}
            if badge
            else None
        ),
    }


def reward_of_rule(r: dict[str, Any]) -> Reward:
    badge = r.get("badge")
    return Reward(
        points=int(r.get("points") or 0),
        coupon_template=r.get("couponTemplate") or None,
        badge=(
            Badge(str(badge["code"]), str(badge["title"]), badge.get("imageUrl"))
            if isinstance(badge, dict)
            else None
        ),
    )


# ---- validation -------------------------------------------------------------------------------

_URL_RE = re.compile(r"^https://[^\s]{1,490}$")


def validate_challenge(challenge: Challenge, errors: Collector, *, now: datetime) -> None:
    """Everything a challenge may say, field by field (GraphQL input names). Whether the
    coupon template exists is the service's question."""
    check_template_code(errors, challenge.code)
    if not (1 <= len(challenge.name.strip()) <= 100 and is_clean(challenge.name)):
        errors.add("name", "must be 1-100 characters, no control characters")
    if len(challenge.description) > 500 or not is_clean(challenge.description):
        errors.add("description", "at most 500 characters, no control characters")
    _check_window(challenge, errors, now)
    check_audience(challenge.audience, errors)
    if challenge.audience.nth_order is not None:
        errors.add("audience.nthOrder", "only order campaigns have it; a challenge counts facts")
    most = MAX_MONEY if challenge.goal is Goal.SPEND else MAX_COUNT
    if not 1 <= challenge.target <= most:
        errors.add("target", f"must be 1-{most}")
    _check_reward(challenge.reward, errors)


def _check_window(c: Challenge, errors: Collector, now: datetime) -> None:
    aware = True
    for name, moment in (("startsAt", c.starts_at), ("endsAt", c.ends_at)):
        if moment.tzinfo is None:
            errors.add(name, "needs a time zone (2027-03-01T00:00:00+08:00)")
            aware = False
    if not aware:
        return
    if c.ends_at <= c.starts_at:
        errors.add("endsAt", "must be after startsAt")
    elif c.ends_at - c.starts_at > MAX_WINDOW:
        errors.add("endsAt", "a challenge runs at most 3 years")
    elif c.ends_at <= now:
        errors.add("endsAt", "must be in the future")
    elif c.goal is Goal.CHECK_IN_STREAK and (c.ends_at - c.starts_at).days + 1 < c.target:
        errors.add("target", "a streak this long cannot fit in the window")


def _check_reward(r: Reward, errors: Collector) -> None:
    if not 0 <= r.points <= MAX_REWARD_POINTS:
        errors.add("reward.points", f"must be 0-{MAX_REWARD_POINTS}")
    if r.coupon_template is not None and not TEMPLATE_CODE_RE.match(r.coupon_template):
        errors.add("reward.couponTemplate", "not a coupon template code")
    if r.badge is not None:
        if not BADGE_CODE_RE.match(r.badge.code):
            errors.add("reward.badge.code", "1-32 of A-Z, 0-9, _ and -")
        if not (1 <= len(r.badge.title.strip()) <= 100 and is_clean(r.badge.title)):
            errors.add("reward.badge.title", "must be 1-100 characters, no control characters")
        if r.badge.image_url is not None and not _URL_RE.match(r.badge.image_url):
            errors.add("reward.badge.imageUrl", "an https URL of at most 500 characters")
    if r.points <= 0 and r.coupon_template is None and r.badge is None:
        errors.add("reward", "give points, a coupon template or a badge")
