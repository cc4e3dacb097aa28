"""A programme's active challenges, read by every fact that may move one (an order completing,
a check-in, a review, a referral): kept as db.active_cache keeps live configuration, in this
process and in the shared cache."""

from __future__ import annotations

from db import active_cache
from db.cache import programme_key
from db.repositories import challenges as challenge_repo
from domain.challenges import Challenge


def challenges_key(programme_id: int) -> str:
    return programme_key(programme_id, "challenges")


async def active_challenges(programme_id: int) -> tuple[Challenge, ...]:
    """ACTIVE challenges of every goal, by id: no round trip when warm."""
    return await active_cache.read(
        challenges_key(programme_id),
        lambda: challenge_repo.active_rows(programme_id),
        challenge_repo.challenge_of,
        metric="challenges",
    )


async def forget_challenges(programme_id: int) -> None:
    """Call after a write of the programme's challenges commits."""
    await active_cache.forget(challenges_key(programme_id))
