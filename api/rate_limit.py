"""Rate limits per credential (RELIABILITY 29): each API key, each member (by its tokens) and,
without a credential, each client address has a bucket of cost points, Shopify's model: a
request takes its cost (schema/cost.py) out of the bucket, and the bucket refills at a steady
rate. A request that does not fit is refused whole (THROTTLED) and told when to retry.

The buckets are `limits`' sliding-window counters, shared through Redis when one is configured
(atomic Lua on the server; `implementation="redispy"`, the client we already use), in-process
otherwise. A window of `maximum / restoreRate` seconds holding `maximum` points is the bucket:
what a request spent flows back out of the count linearly over the window. If Redis fails,
the process falls back to its own buckets for a short pause rather than refusing or failing
requests (a limit that is per process for a few seconds beats an outage).

Defaults per role below; an operator changes them for one programme with
`loyalty set-rate-limit` (kept on the programme row, re-read every minute)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from prometheus_client import Counter

from domain.auth import Principal
from services import programmes as programme_service

log = logging.getLogger("loyalty.rate_limit")

FALLBACKS = Counter(
    "loyalty_rate_limit_fallbacks_total",
    "Requests rate-limited in-process because the shared (Redis) limiter failed",
)
PROGRAMME_LIMITS_TTL_SECONDS = 60.0
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Bucket:
    maximum: int  # points the bucket holds (maximumAvailable)
    restore_rate: int  # points it regains a second (restoreRate)

    @property
    def item(self) -> RateLimitItem:
        window = max(1, math.ceil(self.maximum / self.restore_rate))
        return RateLimitItemPerSecond(self.maximum, window)


# A storefront key serves every shopper of a shop; a member token one shopper's app; an admin
# key a back office. A full member page costs 356 points (README, Limits).
DEFAULT_BUCKETS: dict[str, Bucket] = {
    "admin": Bucket(20_000, 1_000),
    "storefront": Bucket(100_000, 10_000),
    "member": Bucket(5_000, 250),
    "partner": Bucket(20_000, 1_000),
    ANONYMOUS: Bucket(5_000, 100),
}


@dataclass(frozen=True)
class ThrottleStatus:
    allowed: bool
    maximum_available: int
    currently_available: int
    restore_rate: int
    retry_after: int | None = None  # seconds until the request would fit, when refused

    def as_extension(self) -> dict[str, int]:
        """Shopify's `throttleStatus`."""
        return {
            "maximumAvailable": self.maximum_available,
            "currentlyAvailable": self.currently_available,
            "restoreRate": self.restore_rate,
        }


def _storage_uri(redis_url: str) -> str:
    return "async+redis+" + redis_url if redis_url.startswith("unix://") else "async+" + redis_url


def _bucket_of(config: Any) -> Bucket | None:
    try:
        return Bucket(int(config["maximumAvailable"]), int(config["restoreRate"]))
    except (TypeError, KeyError, ValueError):
        return None


class RateLimiter:
    def __init__(self, redis_url: str | None, *, pause_after_error: float = 2.0) -> None:
        self._local = SlidingWindowCounterRateLimiter(MemoryStorage())
        self._shared = (
            SlidingWindowCounterRateLimiter(
                storage_from_string(
                    _storage_uri(redis_url),
                    implementation="redispy",
                    socket_timeout=0.5,
                    socket_connect_timeout=0.5,
                )
            )
            if redis_url
            else None
        )
        self._pause_after_error = pause_after_error
        self._skip_shared_until = 0.0
        self._programmes: dict[int, tuple[float, dict[str, Bucket]]] = {}

    async def bucket_for(self, principal: Principal | None, client: str) -> tuple[str, Bucket]:
        """The caller's bucket: its name, and its size and rate."""
        if principal is None:
            return f"{ANONYMOUS}:{client}", DEFAULT_BUCKETS[ANONYMOUS]
        role = principal.role.value
        name = f"p{principal.programme_id}:{principal.scope}"
        overrides = await self._programme_buckets(principal.programme_id)
        return name, overrides.get(role, DEFAULT_BUCKETS[role])

    async def _programme_buckets(self, programme_id: int) -> dict[str, Bucket]:
        cached = self._programmes.get(programme_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        config = await programme_service.rate_limits(programme_id)
        buckets = {role: bucket for role, value in config.items() if (bucket := _bucket_of(value))}
        self._programmes[programme_id] = (time.monotonic() + PROGRAMME_LIMITS_TTL_SECONDS, buckets)
        return buckets

    async def take(self, name: str, bucket: Bucket, cost: int) -> bool:
        """Take `cost` points from the bucket if they are all there (one atomic script)."""
        return bool(
            await self._storage_call(lambda limiter: limiter.hit(bucket.item, name, cost=cost))
        )

    async def status(
        self, name: str, bucket: Bucket, *, refused: int | None = None
    ) -> ThrottleStatus:
        """The bucket as it is now; with `refused`, the cost it could not take and when it
        would (Retry-After). A separate read from `take`, so the view can make it while the
        request runs."""
        item = bucket.item
        stats = await self._storage_call(lambda limiter: limiter.get_window_stats(item, name))
        restore_rate = max(1, bucket.maximum // item.get_expiry())
        available = int(stats.remaining)
        retry_after = None
        if refused is not None:
            retry_after = max(1, math.ceil((refused - available) / restore_rate))
        return ThrottleStatus(refused is None, bucket.maximum, available, restore_rate, retry_after)

    async def charge(self, name: str, bucket: Bucket, cost: int) -> ThrottleStatus:
        """`take`, then the bucket's `status`."""
        allowed = await self.take(name, bucket, cost)
        return await self.status(name, bucket, refused=None if allowed else cost)

    async def _storage_call(self, call: Callable[[SlidingWindowCounterRateLimiter], Any]) -> Any:
        limiter = self._limiter()
        try:
            return await call(limiter)
        except Exception as error:  # any storage failure: Redis down, timed out, refused
            if limiter is self._local:
                raise
            self._skip_shared_until = time.monotonic() + self._pause_after_error
            log.warning("shared rate limiter failed, limiting in-process: %s", error)
            FALLBACKS.inc()
            return await call(self._local)

    def _limiter(self) -> SlidingWindowCounterRateLimiter:
        if self._shared is None:
            return self._local
        if time.monotonic() < self._skip_shared_until:
            FALLBACKS.inc()
            return self._local
        return self._shared
