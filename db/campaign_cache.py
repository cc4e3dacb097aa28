"""A programme's active campaigns, read by every order (and check-in, review...): kept as
db.active_cache keeps live configuration, in this process and in the shared cache."""

from __future__ import annotations

from db import active_cache
from db.cache import programme_key
from db.repositories import campaigns as campaign_repo
from domain.campaigns import Campaign, campaign_of


def campaigns_key(programme_id: int) -> str:
    return programme_key(programme_id, "campaigns")


async def active_campaigns(programme_id: int) -> tuple[Campaign, ...]:
    """ACTIVE campaigns of every trigger, by id: no round trip when warm."""
    return await active_cache.read(
        campaigns_key(programme_id),
        lambda: campaign_repo.active_rows(programme_id),
        lambda row: campaign_of(**row),
        metric="campaigns",
    )


async def forget_campaigns(programme_id: int) -> None:
    """Call after a write of the programme's campaigns commits."""
    await active_cache.forget(campaigns_key(programme_id))
