"""Challenge types: a challenge as an admin reads it back, a member's progress on one, and the
badges a member holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from db.models import Challenge as ChallengeRow
from db.models import MemberBadge as BadgeRow
from domain import challenges as domain
from domain.recommendations.rfm import Lifecycle
from resolvers import challenges as resolvers
from schema.campaign_types import CampaignAudience
from schema.describe import describe_values
from services.challenges.admin import challenge_of
from services.challenges.members import MemberChallenge as MemberChallengeView

ChallengeStatus = strawberry.enum(
    domain.ChallengeStatus, name="ChallengeStatus", description="Where a challenge is in its life."
)
describe_values(
    ChallengeStatus,
    {
        "ACTIVE": "Counts the facts in its window (created so).",
        "ENDED": "Ended by an admin: counts nothing more; what it gave stays.",
    },
)
ChallengeGoal = strawberry.enum(
    domain.Goal, name="ChallengeGoal", description="What a challenge counts towards its target."
)
describe_values(
    ChallengeGoal,
    {
        "ORDERS": "Completed orders (a fully returned one no longer counts).",
        "SPEND": "What completed orders' kept items were paid (minor units, points-as-cash not).",
        "CHECK_IN_STREAK": "Check-ins on consecutive days, the run ending at the latest one.",
        "REVIEWS": "Rewarded reviews.",
        "REFERRALS": "Referrals rewarded (an invited member's first order completed).",
        "CATEGORIES": "Different categories bought in completed orders, items kept.",
    },
)


@strawberry.type(description="A badge a challenge awards.")
class ChallengeBadge:
    code: str = strawberry.field(description="Unique per member: one held per code.")
    title: str = strawberry.field(description="What to show.")
    image_url: str | None = strawberry.field(description="Its picture (https).")


@strawberry.type(description="What completing a challenge gives.")
class ChallengeReward:
    points: int = strawberry.field(description="Points, available at once; 0: none.")
    coupon_template: str | None = strawberry.field(description="A coupon template's code.")
    badge: ChallengeBadge | None = strawberry.field(description="A badge.")
    description: str = strawberry.field(description="The reward in words.")


def reward_of(reward: domain.Reward) -> ChallengeReward:
    b = reward.badge
    return ChallengeReward(
        points=reward.points,
        coupon_template=reward.coupon_template,
        badge=ChallengeBadge(code=b.code, title=b.title, image_url=b.image_url) if b else None,
        description=domain.describe_reward(reward),
    )


@strawberry.type(description="A goal members reach within a window for a reward.")
class Challenge:
    code: str = strawberry.field(description="Unique in the programme.")
    name: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(description="What it asks, in words.")
    status: ChallengeStatus = strawberry.field(  # type: ignore[valid-type]
        description="Where it is in its life."
    )
    starts_at: datetime = strawberry.field(description="Facts count from then (inclusive).")
    ends_at: datetime = strawberry.field(description="Facts count until then (exclusive).")
    goal: ChallengeGoal = strawberry.field(  # type: ignore[valid-type]
        description="What it counts."
    )
    target: int = strawberry.field(description="What the count must reach.")
    audience: CampaignAudience = strawberry.field(description="Whom it is open to.")
    reward: ChallengeReward = strawberry.field(description="What completing it gives.")
    undo_on_return: bool = strawberry.field(
        description="A return that drops the count below the target takes the reward back."
    )
    created_at: datetime = strawberry.field(description="When it was created.")

    @classmethod
    def from_row(cls, row: ChallengeRow) -> Challenge:
        c = challenge_of(row)
        a = c.audience
        return cls(
            code=c.code,
            name=c.name,
            description=c.description,
            status=c.status,
            starts_at=c.starts_at,
            ends_at=c.ends_at,
            goal=c.goal,
            target=c.target,
            audience=CampaignAudience(
                tiers=sorted(a.tiers),
                segments=[Lifecycle(v) for v in sorted(a.segments)],
                joined_within_days=a.joined_within_days,
                nth_order=a.nth_order,
                birthday_month=a.birthday_month,
            ),
            reward=reward_of(c.reward),
            undo_on_return=c.undo_on_return,
            created_at=row.created_at,
        )


@strawberry.type(description="A page of challenges, oldest first.")
class ChallengeConnection(relay.Connection[Challenge]):
    pass


@strawberry.type(description="A challenge as one member stands on it.")
class MemberChallenge:
    code: str = strawberry.field(description="The challenge's code.")
    name: str = strawberry.field(description="Its display name.")
    description: str = strawberry.field(description="What it asks, in words.")
    goal: ChallengeGoal = strawberry.field(  # type: ignore[valid-type]
        description="What it counts."
    )
    current: int = strawberry.field(description="The member's count now.")
    target: int = strawberry.field(description="What the count must reach.")
    deadline: datetime = strawberry.field(description="Facts count until then (its endsAt).")
    completed_at: datetime | None = strawberry.field(
        description="When the member completed it (and was rewarded); null: not (or no longer)."
    )
    reward: str = strawberry.field(description="What completing it gives, in words.")

    @classmethod
    def from_view(cls, view: MemberChallengeView) -> MemberChallenge:
        c = view.challenge
        return cls(
            code=c.code,
            name=c.name,
            description=c.description,
            goal=c.goal,
            current=view.current,
            target=c.target,
            deadline=c.ends_at,
            completed_at=view.completed_at,
            reward=view.reward,
        )


@strawberry.type(description="A badge a member holds.")
class MemberBadge:
    code: str = strawberry.field(description="The badge's code.")
    title: str = strawberry.field(description="What to show.")
    image_url: str | None = strawberry.field(description="Its picture, if it has one.")
    awarded_at: datetime = strawberry.field(description="When it was awarded.")

    @classmethod
    def from_row(cls, row: BadgeRow) -> MemberBadge:
        return cls(
            code=row.code, title=row.title, image_url=row.image_url, awarded_at=row.awarded_at
        )


async def member_challenges(root: Any, info: strawberry.Info) -> list[MemberChallenge]:
    """`Member.challenges` (schema/members.py)."""
    return [MemberChallenge.from_view(v) for v in await resolvers.of_member(info, root.row)]


async def member_badges(root: Any, info: strawberry.Info) -> list[MemberBadge]:
    """`Member.badges` (schema/members.py)."""
    return [MemberBadge.from_row(r) for r in await resolvers.badges(info, root.row)]
