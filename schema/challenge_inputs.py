"""Challenge inputs. The audience is the campaigns' (CampaignAudienceInput), nthOrder aside."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry import UNSET

from domain.campaigns import Audience
from domain.challenges import Badge, Challenge, ChallengeStatus, Goal, Reward
from schema.campaign_inputs import CampaignAudienceInput
from schema.challenge_types import ChallengeGoal
from schema.errors import idempotency_key_field


@strawberry.input(description="A badge a challenge awards.")
class ChallengeBadgeInput:
    code: str = strawberry.field(description="1-32 of A-Z, 0-9, _ and -; one held per member.")
    title: str = strawberry.field(description="What to show (1-100 characters).")
    image_url: str | None = strawberry.field(default=None, description="An https URL.")


@strawberry.input(description="What completing the challenge gives: at least one of the three.")
class ChallengeRewardInput:
    points: int = strawberry.field(default=0, description="Points (0-1000000), available at once.")
    coupon_template: str | None = strawberry.field(
        default=None, description="A coupon template's code: one coupon."
    )
    badge: ChallengeBadgeInput | None = strawberry.field(default=None, description="A badge.")


@strawberry.input(description="A new challenge. It is ACTIVE at once: facts in its window count.")
class CreateChallengeInput:
    code: str = strawberry.field(description="Unique in the programme: A-Z, 0-9, _ and -.")
    name: str = strawberry.field(description="Display name (1-100 characters).")
    description: str = strawberry.field(default="", description="What it asks, in words.")
    starts_at: datetime = strawberry.field(description="Facts count from then (inclusive).")
    ends_at: datetime = strawberry.field(
        description="Facts count until then (exclusive); in the future, at most 3 years on."
    )
    audience: CampaignAudienceInput | None = strawberry.field(
        default=None, description="Whom it is open to (nthOrder not allowed); default: everyone."
    )
    goal: ChallengeGoal = strawberry.field(  # type: ignore[valid-type]
        description="What it counts."
    )
    target: int = strawberry.field(
        description="What the count must reach: 1-10000, or minor units for SPEND."
    )
    reward: ChallengeRewardInput = strawberry.field(description="What completing it gives.")
    undo_on_return: bool = strawberry.field(
        default=False,
        description="A return that drops the count below the target takes the reward back.",
    )
    idempotency_key: str = idempotency_key_field()


@strawberry.input(description="A challenge, by its code.")
class ChallengeCodeInput:
    challenge_code: str = strawberry.field(description="The code it was created with.")


def _given(value: Any, default: Any) -> Any:
    return default if value is UNSET or value is None else value


def _audience(given: CampaignAudienceInput | None) -> Audience:
    if given is None:
        return Audience()
    return Audience(
        tiers=frozenset(_given(given.tiers, [])),
        segments=frozenset(str(s.value) for s in _given(given.segments, [])),
        joined_within_days=_given(given.joined_within_days, None),
        nth_order=_given(given.nth_order, None),
        birthday_month=bool(_given(given.birthday_month, False)),
    )


def challenge_of(given: CreateChallengeInput) -> Challenge:
    """The input as the domain validates it (not yet stored: id 0)."""
    r, b = given.reward, given.reward.badge
    return Challenge(
        id=0,
        code=given.code,
        name=given.name,
        description=given.description,
        status=ChallengeStatus.ACTIVE,
        starts_at=given.starts_at,
        ends_at=given.ends_at,
        goal=Goal(given.goal.value),
        target=given.target,
        audience=_audience(given.audience),
        reward=Reward(
            points=r.points,
            coupon_template=r.coupon_template,
            badge=Badge(b.code, b.title, b.image_url) if b else None,
        ),
        undo_on_return=given.undo_on_return,
    )
