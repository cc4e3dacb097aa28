"""A programme's active challenges, read by every fact that may move one (an order completing,
a check-in, a review, a referral): kept as db.campaign_cache keeps campaigns, in this process
while it listens for invalidations and in the shared cache stamped with a generation that
`forget_challenges` bumps after a write commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from db import invalidation
from db.cache import again_after_commit, generation_key, get_cache, programme_key, stamped
from db.repositories import challenges as challenge_repo
from domain.challenges import Challenge


def challenges_key(programme_id: int) -> str:
    return programme_key(programme_id, "challenges")


def _decode(raw: bytes) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = orjson.loads(raw)
    for row in rows:
        row["starts_at"] = datetime.fromisoformat(row["starts_at"])
        row["ends_at"] = datetime.fromisoformat(row["ends_at"])
    return rows


async def active_challenges(programme_id: int) -> tuple[Challenge, ...]:
    """ACTIVE challenges of every goal, by id: no round trip when warm."""
    name = challenges_key(programme_id)
    found = invalidation.local.get(name)
    if found is not invalidation.MISS:
        return found  # type: ignore[no-any-return]
    epoch = invalidation.local.epoch
    rows = await stamped(
        get_cache(),
        name,
        lambda: challenge_repo.active_rows(programme_id),
        orjson.dumps,
        _decode,
        name="challenges",
    )
    challenges = tuple(challenge_repo.challenge_of(row) for row in rows)
    invalidation.local.put(name, challenges, epoch)
    return challenges


async def forget_challenges(programme_id: int) -> None:
    """Call after a write of the programme's challenges commits."""
    key = generation_key(challenges_key(programme_id))

    async def bump() -> None:
        await get_cache().incr(key)
        await invalidation.publish_now([challenges_key(programme_id)])

    await bump()
    again_after_commit(bump)
