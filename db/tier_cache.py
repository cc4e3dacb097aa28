"""Cached tier lookups: the member page and every order read them, so they must be cheap.

Each entry is stamped with a generation number that writers bump after they commit
(db.cache.stamped says why that is safe against a reader racing a writer). A programme's tier
list is also kept in this process while it listens for invalidations (db.invalidation): the
bump publishes too, so a warm request reads its tiers with no round trip at all.
"""

from __future__ import annotations

import orjson

from db import invalidation
from db.cache import Cache, again_after_commit, generation_key, get_cache, programme_key, stamped
from db.repositories import tiers as tier_repo
from domain.tiers import BenefitKind, BenefitView, TierView

NO_TIER = -1


def tiers_key(programme_id: int) -> str:
    return programme_key(programme_id, "tiers")


def member_tier_key(programme_id: int, member_id: int) -> str:
    return programme_key(programme_id, "member-tier", member_id)


# Tier lists decoded lately, by their encoded bytes: without the in-process copy (no Redis:
# the embedded default) every request reads its tiers from the shared cache, and the same
# bytes decode to the same frozen views, so they are decoded once. A few entries, never stale:
# a changed ladder is other bytes.
_DECODED: dict[bytes, tuple[TierView, ...]] = {}
_DECODED_MAX = 64


def _decode_tiers(raw: bytes) -> list[TierView]:
    found = _DECODED.get(raw)
    if found is None:
        found = tuple(
            TierView(
                **{
                    **t,
                    "benefits": tuple(
                        BenefitView(**{**b, "kind": BenefitKind(b["kind"])}) for b in t["benefits"]
                    ),
                }
            )
            for t in orjson.loads(raw)
        )
        if len(_DECODED) >= _DECODED_MAX:
            _DECODED.clear()
        _DECODED[bytes(raw)] = found
    return list(found)


async def programme_tiers(programme_id: int, cache: Cache | None = None) -> list[TierView]:
    if cache is not None:  # a caller naming its cache asks for that one
        return await _shared(programme_id, cache)
    name = tiers_key(programme_id)
    found = invalidation.local.get(name)
    if found is not invalidation.MISS:
        return list(found)
    epoch = invalidation.local.epoch
    tiers = await _shared(programme_id, get_cache())
    invalidation.local.put(name, tuple(tiers), epoch)
    return tiers


async def _shared(programme_id: int, cache: Cache) -> list[TierView]:
    return await stamped(
        cache,
        tiers_key(programme_id),
        lambda: tier_repo.list_views(programme_id),
        orjson.dumps,
        _decode_tiers,
        name="tiers",
    )


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

    async def load() -> int:
        tier_id = await tier_repo.member_tier_id(programme_id, member_id)
        return NO_TIER if tier_id is None else tier_id

    tier_id = await stamped(
        cache or get_cache(),
        member_tier_key(programme_id, member_id),
        load,
        lambda value: str(value).encode(),
        lambda raw: int(raw),
        name="member_tiers",
    )
    return await tier_by_id(programme_id, None if tier_id == NO_TIER else tier_id, cache)


async def forget_programme_tiers(programme_id: int, cache: Cache | None = None) -> None:
    """Call after the write commits."""
    key = generation_key(tiers_key(programme_id))

    async def bump() -> None:
        await (cache or get_cache()).incr(key)
        await invalidation.publish_now([tiers_key(programme_id)])  # after the shared bump

    await bump()
    again_after_commit(bump)  # inside an audited mutation


async def forget_member_tier(programme_id: int, member_id: int, cache: Cache | None = None) -> None:
    """Call after the write commits."""
    key = generation_key(member_tier_key(programme_id, member_id))
    await (cache or get_cache()).incr(key)
    again_after_commit(lambda: (cache or get_cache()).incr(key))  # inside an audited mutation
