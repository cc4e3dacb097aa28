"""The demo programme's challenges (services/seed.py): three orders within a month for points
and a badge, a seven-day check-in streak for a coupon and a badge. Idempotent as the rest of
the seed: each is created under a fixed key."""

from __future__ import annotations

from datetime import timedelta

from db.models import Programme
from domain.auth import Principal
from domain.campaigns import Audience
from domain.challenges import Badge, Challenge, ChallengeStatus, Goal, Reward
from services.challenges import admin
from services.clock import now_of

BADGES = "https://example.com/badges"


async def seed_challenges(principal: Principal, programme: Programme, coupon_code: str) -> None:
    now = now_of(programme)
    demo = (
        Challenge(
            id=0,
            code="THREE-ORDERS",
            name="Three orders this month",
            description="Complete three orders within 30 days.",
            status=ChallengeStatus.ACTIVE,
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=30),
            goal=Goal.ORDERS,
            target=3,
            audience=Audience(),
            reward=Reward(points=300, badge=Badge("REGULAR", "Regular", f"{BADGES}/regular.png")),
            undo_on_return=True,
        ),
        Challenge(
            id=0,
            code="STREAK-7",
            name="Seven-day check-in streak",
            description="Check in seven days in a row.",
            status=ChallengeStatus.ACTIVE,
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=90),
            goal=Goal.CHECK_IN_STREAK,
            target=7,
            audience=Audience(),
            reward=Reward(
                coupon_template=coupon_code,
                badge=Badge("EARLY-BIRD", "Early bird", f"{BADGES}/early-bird.png"),
            ),
            undo_on_return=False,
        ),
    )
    for challenge in demo:
        await admin.create(principal, challenge, idempotency_key=f"seed-challenge-{challenge.code}")
