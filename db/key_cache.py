"""Active API keys by hash, cached: every request authenticates, and reading the key row was
a database round trip on each one.

Two layers, both only with Redis: this process's (db.invalidation: no round trip at all,
while its pub/sub subscriber listens) in front of the one every process shares (Redis).
Without Redis (the embedded default) nothing is cached: an in-process cache could not hear a
revocation made by the `loyalty revoke-key` command (another process), so there every
request reads the row. Revoking bumps the revoked keys' generations after the update
commits (db.cache.stamped) and publishes the keys to every process; a bump lost to a Redis
outage is bounded by a short TTL. Unknown secrets are not cached, so guessing cannot fill
the cache."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from db import invalidation
from db.cache import Cache, again_after_commit, generation_key, get_cache, stamped
from db.repositories import keys as key_repo

TTL_SECONDS = 60


@dataclass(frozen=True)
class ActiveKey:
    id: int
    programme_id: int
    role: str
    display_prefix: str
    label: str
    expires_at: float | None  # a POSIX timestamp; the key is refused from then on
    partner_id: int | None = None  # role "partner": the partner the key was issued to


def _key(secret_hash: str) -> str:
    # v2 entries carry the prefix, label (for the audit trail) and expiry; v3 ones also the
    # partner of a partner key. Older entries are unread (a process of the previous release
    # could not decode the longer entry, nor this one tell a v2 entry's missing partner).
    return f"loyalty:api-key:v3:{secret_hash}"


async def _load(secret_hash: str) -> ActiveKey | None:
    row = await key_repo.find_active(secret_hash)
    if row is None:
        return None
    expires = row.expires_at.timestamp() if row.expires_at else None
    return ActiveKey(
        row.id, row.programme_id, row.role, row.display_prefix, row.label, expires, row.partner_id
    )


def _encode(key: ActiveKey | None) -> bytes:
    assert key is not None  # only found keys are kept
    return orjson.dumps(
        [
            key.id,
            key.programme_id,
            key.role,
            key.display_prefix,
            key.label,
            key.expires_at,
            key.partner_id,
        ]
    )


async def active_key(secret_hash: str) -> ActiveKey | None:
    cache = get_cache()
    if not cache.shared:
        return await _load(secret_hash)
    name = _key(secret_hash)
    found = invalidation.local.get(name)
    if found is not invalidation.MISS:
        return found  # type: ignore[no-any-return]
    epoch = invalidation.local.epoch
    key = await _shared(cache, secret_hash)
    if key is not None:  # unknown secrets are not kept here either
        invalidation.local.put(name, key, epoch)
    return key


async def _shared(cache: Cache, secret_hash: str) -> ActiveKey | None:
    return await stamped(
        cache,
        _key(secret_hash),
        lambda: _load(secret_hash),
        _encode,
        lambda raw: ActiveKey(*orjson.loads(raw)),
        ttl=TTL_SECONDS,
        keep=lambda key: key is not None,
        name="keys",
    )


async def forget(secret_hashes: list[str]) -> bool:
    """Call after the revocation commits. Every process drops the keys from its own layer (a
    pub/sub message, db.invalidation). In the shared one, the bump defeats a reader that
    loaded the row just before it; the delete covers a generation counter Redis later loses
    (evicted, a failover), which would let an entry stamped before the bump match again.
    False when Redis did not take every bump and message (unreachable): the revocation then
    waits on the TTL."""
    landed = await _bump(secret_hashes)
    again_after_commit(lambda: _bump(secret_hashes))  # inside an audited mutation
    return landed


async def _bump(secret_hashes: list[str]) -> bool:
    cache = get_cache()
    landed = True
    for secret_hash in secret_hashes:
        landed = await cache.incr(generation_key(_key(secret_hash))) is not None and landed
        await cache.delete(_key(secret_hash))
    # after the shared layer changed: a process that drops its entry reloads the new state
    published = await invalidation.publish_now([_key(h) for h in secret_hashes])
    return published and landed
