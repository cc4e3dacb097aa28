"""A small key-value cache: Redis when configured, a bounded in-process LRU otherwise.

Redis errors never fail a request: a read becomes a miss (the caller goes to the database),
and the failure is logged and counted. After a failure Redis is skipped for a short pause so
a dead Redis does not add a connect timeout to every request.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

from prometheus_client import Counter
from redis.asyncio import Redis
from redis.exceptions import RedisError

from db.metrics import cache_lookup

log = logging.getLogger("loyalty.cache")

CACHE_FALLBACKS = Counter(
    "loyalty_cache_fallbacks_total",
    "Cache operations that failed and fell back to the database",
    ["operation"],
)
DEFAULT_TTL_SECONDS = 300


GENERATION_TTL_SECONDS = 7 * 24 * 3600


class Cache(Protocol):
    shared: bool  # seen by every process (a write's invalidation reaches them all)

    async def get(self, key: str) -> bytes | None: ...
    async def get_many(self, keys: list[str]) -> list[bytes | None]: ...
    async def set(self, key: str, value: bytes, ttl: int = DEFAULT_TTL_SECONDS) -> None: ...
    async def incr(self, key: str, ttl: int = GENERATION_TTL_SECONDS) -> int | None: ...
    async def delete(self, *keys: str) -> None: ...
    async def publish(self, channel: str, message: bytes) -> bool: ...
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...


class InProcessCache:
    """For a single process (the embedded default): entries expire and the size is bounded."""

    shared = False

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._max_entries = max_entries

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires < time.monotonic():
            self._entries.pop(key, None)
            return None
        self._entries.move_to_end(key)
        return value

    async def get_many(self, keys: list[str]) -> list[bytes | None]:
        return [await self.get(key) for key in keys]

    async def set(self, key: str, value: bytes, ttl: int = DEFAULT_TTL_SECONDS) -> None:
        self._entries[key] = (time.monotonic() + ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def incr(self, key: str, ttl: int = GENERATION_TTL_SECONDS) -> int | None:
        current = await self.get(key)
        value = int(current or 0) + 1
        await self.set(key, str(value).encode(), ttl)
        return value

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._entries.pop(key, None)

    async def publish(self, channel: str, message: bytes) -> bool:
        return True  # one process: nobody else to tell

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._entries.clear()


class RedisCache:
    """Shared by every API process, so an invalidation made by one is seen by all."""

    shared = True

    def __init__(self, url: str, *, pause_after_error: float = 2.0, timeout: float = 0.5) -> None:
        self._redis = Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, health_check_interval=30
        )
        self._pause_after_error = pause_after_error
        self._skip_until = 0.0

    def _available(self) -> bool:
        return time.monotonic() >= self._skip_until

    def _failed(self, operation: str, error: Exception) -> None:
        self._skip_until = time.monotonic() + self._pause_after_error
        CACHE_FALLBACKS.labels(operation).inc()
        log.warning("redis %s failed, using the database instead: %s", operation, error)

    async def get(self, key: str) -> bytes | None:
        if not self._available():
            CACHE_FALLBACKS.labels("get").inc()
            return None
        try:
            value = await self._redis.get(key)
        except (RedisError, OSError) as error:
            self._failed("get", error)
            return None
        return value if isinstance(value, bytes) else None

    async def get_many(self, keys: list[str]) -> list[bytes | None]:
        if not self._available():
            CACHE_FALLBACKS.labels("get").inc()
            return [None] * len(keys)
        try:
            values = await self._redis.mget(keys)
        except (RedisError, OSError) as error:
            self._failed("get", error)
            return [None] * len(keys)
        return [v if isinstance(v, bytes) else None for v in values]

    async def set(self, key: str, value: bytes, ttl: int = DEFAULT_TTL_SECONDS) -> None:
        if not self._available():
            return
        try:
            await self._redis.set(key, value, ex=ttl)
        except (RedisError, OSError) as error:
            self._failed("set", error)

    async def incr(self, key: str, ttl: int = GENERATION_TTL_SECONDS) -> int | None:
        """The new count, or None when Redis did not answer."""
        # Tried even during a pause, like deletes: a missed bump leaves an entry stale until
        # its TTL runs out.
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, ttl)
                counted, _ = await pipe.execute()
            return int(counted)
        except (RedisError, OSError) as error:
            self._failed("incr", error)
            return None

    async def delete(self, *keys: str) -> None:
        # Deletes are tried even during a pause: a missed invalidation is worse than a slow one.
        # One that still fails leaves the entry to expire with its TTL.
        if not keys:
            return
        try:
            await self._redis.delete(*keys)
        except (RedisError, OSError) as error:
            self._failed("delete", error)

    async def publish(self, channel: str, message: bytes) -> bool:
        # Tried even during a pause, like deletes: an invalidation lost here leaves the other
        # processes' local entries to their TTL (db.invalidation).
        try:
            await self._redis.publish(channel, message)
            return True
        except (RedisError, OSError) as error:
            self._failed("publish", error)
            return False

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._redis.aclose()


_current: Cache = InProcessCache()


def configure_cache(redis_url: str | None) -> Cache:
    global _current
    _current = RedisCache(redis_url) if redis_url else InProcessCache()
    return _current


def get_cache() -> Cache:
    return _current


def programme_key(programme_id: int, *parts: object) -> str:
    """Every key carries its programme, so no entry can answer another programme's lookup."""
    return ":".join(["loyalty", f"p{programme_id}", *(str(p) for p in parts)])


T = TypeVar("T")


def generation_key(key: str) -> str:
    return key + ":gen"


# Writers bump generations "after they commit"; a service's own transaction may be a savepoint
# of an outer one (services.audit.recording.run_audited wraps every staff mutation), which commits
# later. A reader between the bump and that commit loads the old rows with the new stamp and
# keeps them until the TTL. So a bump made inside such a scope is made again once it ends.
_after_commit: ContextVar[list[Callable[[], Awaitable[Any]]] | None] = ContextVar(
    "loyalty_cache_after_commit", default=None
)


def again_after_commit(bump: Callable[[], Awaitable[Any]]) -> None:
    """Registers `bump` to run again when the enclosing `bumps_after_commit` scope ends (none
    open: the caller's own bump, made after its commit, is enough)."""
    pending = _after_commit.get()
    if pending is not None:
        pending.append(bump)


@asynccontextmanager
async def bumps_after_commit() -> AsyncIterator[None]:
    """Wrap an outer transaction in it: the generation bumps made inside run again after it
    (commit or rollback; a bump too many costs one cache miss)."""
    pending: list[Callable[[], Awaitable[Any]]] = []
    token = _after_commit.set(pending)
    try:
        yield
    finally:
        _after_commit.reset(token)
        for bump in pending:
            try:
                await bump()
            except Exception as error:  # the TTL still bounds a lost bump
                log.warning("cache bump after commit failed: %s", error)


async def stamped(
    cache: Cache,
    key: str,
    load: Callable[[], Awaitable[T]],
    encode: Callable[[T], bytes],
    decode: Callable[[bytes], T],
    *,
    ttl: int = DEFAULT_TTL_SECONDS,
    keep: Callable[[T], bool] = lambda value: True,
    name: str = "other",
) -> T:
    """`load()`, cached under `key` and stamped with the generation number that writers bump
    (`incr(generation_key(key))`) after they commit. A reader fetches entry and generation in
    one round trip (MGET) and trusts the entry only when the stamps match, so a reader that
    loaded old rows just before a write cannot park them in the cache afterwards: its stamp
    is already out of date. The TTL only bounds how long a bump lost to a Redis outage can
    leave an entry stale. A value `keep` refuses is returned but not cached. `name` is the
    cache's label in loyalty_cache_lookups_total."""
    raw, generation = await cache.get_many([key, generation_key(key)])
    stamp = generation or b"0"
    if raw is not None:
        stored, _, payload = raw.partition(b"|")
        if stored == stamp:
            cache_lookup(name, hit=True)
            return decode(payload)
    cache_lookup(name, hit=False)
    value = await load()
    if keep(value):
        await cache.set(key, stamp + b"|" + encode(value), ttl=ttl)
    return value
