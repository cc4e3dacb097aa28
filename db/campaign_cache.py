"""A programme's active campaigns, read by every order (and check-in, review...): kept like
its tiers (db.tier_cache), in this process while it listens for invalidations and in the
shared cache stamped with a generation that `forget_campaigns` bumps after a write commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from db import invalidation
from db.cache import again_after_commit, generation_key, get_cache, programme_key, stamped
from db.repositories import campaigns as campaign_repo
from domain.campaigns import Campaign, campaign_of


def campaigns_key(programme_id: int) -> str:
    return programme_key(programme_id, "campaigns")


def _encode(rows: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(rows)


def _decode(raw: bytes) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = orjson.loads(raw)
    for row in rows:
        row["starts_at"] = datetime.fromisoformat(row["starts_at"])
        row["ends_at"] = datetime.fromisoformat(row["ends_at"])
    return rows


async def active_campaigns(programme_id: int) -> tuple[Campaign, ...]:
    """ACTIVE campaigns of every trigger, by id: no round trip when warm."""
    name = campaigns_key(programme_id)
    found = invalidation.local.get(name)
    if found is not invalidation.MISS:
        return found  # type: ignore[no-any-return]
    epoch = invalidation.local.epoch
    rows = await stamped(
        get_cache(),
        name,
        lambda: campaign_repo.active_rows(programme_id),
        _encode,
        _decode,
        name="campaigns",
    )
    campaigns = tuple(campaign_of(**row) for row in rows)
    invalidation.local.put(name, campaigns, epoch)
    return campaigns


async def forget_campaigns(programme_id: int) -> None:
    """Call after a write of the programme's campaigns commits (inside an audited mutation it
    runs again once the outer transaction ends)."""
    key = generation_key(campaigns_key(programme_id))

    async def bump() -> None:
        await get_cache().incr(key)
        await invalidation.publish_now([campaigns_key(programme_id)])  # after the shared bump

    await bump()
    again_after_commit(bump)
