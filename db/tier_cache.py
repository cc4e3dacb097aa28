"""Cached tier lookups: the member page and every order read them, so they must be cheap.

Entries are invalidated by the service that changes them; the TTL only bounds how long a
missed invalidation (Redis down during a write) can last.
"""

from __future__ import annotations

import orjson

from db.cache import Cache, get_cache, programme_key
from db.repositories import tiers as tier_repo
from domain.tiers import BenefitKind, BenefitView, TierView

NO_TIER = b"-"


def tiers_key(programme_id: int) -> str:
    return programme_key(programme_id, "tiers")


def member_tier_key(programme_id: int, member_id: int) -> str:
    return programme_key(programme_id, "member-tier", member_id)


def _encode(tiers: list[TierView]) -> bytes:
    return orjson.dumps(tiers)


def _decode(raw: bytes) -> list[TierView]:
    return [
        TierView(
            **{
                **t,
                "benefits": tuple(
                    BenefitView(**{**b, "kind": BenefitKind(b["kind"])}) for b in t["benefits"]
                ),
            }
        )
        for t in orjson.loads(raw)
    ]


async def programme_tiers(programme_id: int, cache: Cache | None = None) -> list[TierView]:
    cache = cache or get_cache()
    raw = await cache.get(tiers_key(programme_id))
    if raw is not None:
        return _decode(raw)
    tiers = await tier_repo.list_views(programme_id)
    await cache.set(tiers_key(programme_id), _encode(tiers))
    return tiers


async def tier_by_id(
    programme_id: int, tier_id: int | None, cache: Cache | None = None
) -> TierView | None:
    if tier_id is None:
        return None
    return next((t for t in await programme_tiers(programme_id, cache) if t.id == tier_id), None)


async def member_tier(
    programme_id: int, member_id: int, cache: Cache | None = None
) -> TierView | None:
    """member -> tier for callers that hold only the member id (orders, jobs)."""
    cache = cache or get_cache()
    key = member_tier_key(programme_id, member_id)
    raw = await cache.get(key)
    if raw is None:
        tier_id = await tier_repo.member_tier_id(programme_id, member_id)
        await cache.set(key, NO_TIER if tier_id is None else str(tier_id).encode())
    else:
        tier_id = None if raw == NO_TIER else int(raw)
    return await tier_by_id(programme_id, tier_id, cache)


async def forget_programme_tiers(programme_id: int, cache: Cache | None = None) -> None:
    await (cache or get_cache()).delete(tiers_key(programme_id))


async def forget_member_tier(programme_id: int, member_id: int, cache: Cache | None = None) -> None:
    await (cache or get_cache()).delete(member_tier_key(programme_id, member_id))
