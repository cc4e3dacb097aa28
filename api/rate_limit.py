"""Rate limits per credential (RELIABILITY 29): each API key, each member (by its tokens) and,
without a credential, each client address has a bucket of cost points, Shopify's model: a
request takes its cost (schema/cost.py) out of the bucket, and the bucket refills at a steady
rate. A request that does not fit is refused whole (THROTTLED) and told when to retry.

The buckets are `limits`' sliding-window counters, shared through Redis when one is configured
(atomic Lua on the server; `implementation="redispy"`, the client we already use), in-process
otherwise. A request's charge is one round trip: CHARGE_SCRIPT is `limits`' own take of the
sliding window (same keys, same arithmetic) answering with what is left, which the
RateLimit headers and `throttleStatus` need, instead of a take then a second script to read
the window; and the charges asked for in one turn of the event loop go in one pipeline
(`_Charges`), so under load a request's share of that round trip is a fraction. A window of
`maximum / restoreRate` seconds holding `maximum` points is the bucket: what a request
spent flows back out of the count linearly over the window. If Redis fails,
the process falls back to its own buckets for a short pause rather than refusing or failing
requests (a limit that is per process for a few seconds beats an outage).

Defaults per role below; an operator changes them for one programme with
`loyalty set-rate-limit` (kept on the programme row, re-read every minute)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from prometheus_client import Counter
from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from domain.auth import Principal
from services import programmes as programme_service

log = logging.getLogger("loyalty.rate_limit")

FALLBACKS = Counter(
    "loyalty_rate_limit_fallbacks_total",
    "Requests rate-limited in-process because the shared (Redis) limiter failed",
)
PROGRAMME_LIMITS_TTL_SECONDS = 60.0
ANONYMOUS = "anonymous"
# limits' RedisStorage keys: "<prefix>:{<item key>}" is the current window, ".../-1" the
# previous; CHARGE_SCRIPT uses the same, so `take`, `status` and `charge` see one bucket.
KEY_PREFIX = "LIMITS"

# limits' acquire_sliding_window.lua (5.x), returning the window after the take as well:
# {taken (1 or 0), previous window's count, its ttl in ms, current window's count}.
CHARGE_SCRIPT = """
local limit = tonumber(ARGV[1])
local expiry = tonumber(ARGV[2]) * 1000
local amount = tonumber(ARGV[3])

local current_ttl = tonumber(redis.call('pttl', KEYS[2]))
if current_ttl > 0 and current_ttl < expiry then
    redis.call('rename', KEYS[2], KEYS[1])
    redis.call('set', KEYS[2], 0, 'PX', current_ttl + expiry)
end

local previous_count = tonumber(redis.call('get', KEYS[1])) or 0
local previous_ttl = tonumber(redis.call('pttl', KEYS[1])) or 0
local current_count = tonumber(redis.call('get', KEYS[2])) or 0
if previous_ttl <= 0 then
    previous_ttl = 0
end
local weighted_count = math.floor(previous_count * previous_ttl / expiry) + current_count

if amount > limit or (weighted_count + amount) > limit then
    return {0, previous_count, previous_ttl, current_count}
end
if redis.call('exists', KEYS[2]) == 1 then
    redis.call('incrby', KEYS[2], amount)
else
    redis.call('set', KEYS[2], amount, 'PX', expiry * 2)
end
return {1, previous_count, previous_ttl, current_count + amount}
"""


class _Charges:
    """CHARGE_SCRIPT for every charge asked for in one turn of the event loop, sent when the
    turn ends: one call alone, several in one pipeline (one write, one read, one parse of the
    answers). Each is still its own script, run in the order asked, so every bucket sees
    exactly what separate calls would have done; a caller waits one turn of the loop more.
    A failure of the pipeline as a whole (Redis down, timed out) is each caller's to handle."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._sha = hashlib.sha1(CHARGE_SCRIPT.encode()).hexdigest()
        # the charges of this turn, and the loop they wait on (a batch another loop left
        # behind, its sender cancelled as that loop ended, is nobody's to send)
        self._pending: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sending: set[asyncio.Task[None]] = set()

    async def run(self, keys: list[str], args: list[Any]) -> Any:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop, self._pending = loop, []
        answer: asyncio.Future[Any] = loop.create_future()
        self._pending.append(((len(keys), *keys, *args), answer))
        if len(self._pending) == 1:  # its first step runs after this turn's other callbacks
            task = loop.create_task(self._answer())
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        return await answer

    async def _answer(self) -> None:
        batch, self._pending = self._pending, []
        answers: list[Any] = []
        try:
            answers = await self._evaluate([call for call, _ in batch])
        except Exception as error:
            answers = [error] * len(batch)
        finally:  # whatever happened (cancelled, too), no caller is left waiting
            _settle(batch, answers)

    async def _evaluate(self, calls: list[tuple[Any, ...]]) -> list[Any]:
        """Each call's answer (or its error). Redis forgets scripts on a restart or a SCRIPT
        FLUSH: the calls it did not know the script for are sent again once it is loaded
        (if that fails, those calls fail; the others ran, and keep their answers)."""
        answers = await self._send_all(calls)
        unknown = [n for n, value in enumerate(answers) if isinstance(value, NoScriptError)]
        if unknown:
            try:
                await self._redis.script_load(CHARGE_SCRIPT)
                again = await self._send_all([calls[n] for n in unknown])
            except Exception as error:
                again = [error] * len(unknown)
            for n, value in zip(unknown, again, strict=True):
                answers[n] = value
        return answers

    async def _send_all(self, calls: list[tuple[Any, ...]]) -> list[Any]:
        if len(calls) == 1:
            try:
                return [await self._redis.evalsha(self._sha, *calls[0])]
            except NoScriptError as error:
                return [error]
        pipe = self._redis.pipeline(transaction=False)
        for call in calls:
            pipe.evalsha(self._sha, *call)
        return list(await pipe.execute(raise_on_error=False))


def _settle(batch: list[tuple[Any, asyncio.Future[Any]]], answers: list[Any]) -> None:
    """Each caller its answer; one the batch has no answer for is told Redis failed."""
    missing = ConnectionError("no answer to this charge")
    for n, (_, answer) in enumerate(batch):
        if answer.done():  # its caller went away (a cancelled request)
            continue
        value = answers[n] if n < len(answers) else missing
        if isinstance(value, Exception):
            answer.set_exception(value)
        else:
            answer.set_result(value)


@dataclass(frozen=True)
class Bucket:
    maximum: int  # points the bucket holds (maximumAvailable)
    restore_rate: int  # points it regains a second (restoreRate)

    @cached_property
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
        self._charges = (
            _Charges(Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5))
            if redis_url
            else None
        )
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
        would (Retry-After)."""
        item = bucket.item
        stats = await self._storage_call(lambda limiter: limiter.get_window_stats(item, name))
        return _status(bucket, int(stats.remaining), refused)

    async def charge(self, name: str, bucket: Bucket, cost: int) -> ThrottleStatus:
        """`take`, and the bucket's `status` after it: one script on Redis, sent with the
        other charges of this turn of the event loop (`_Charges`)."""
        item = bucket.item
        if self._charges is not None and self._limiter() is self._shared:
            current_key = f"{KEY_PREFIX}:{{{item.key_for(name)}}}"
            keys = [current_key + "/-1", current_key]
            try:
                taken, previous, previous_ms, current = await self._charges.run(
                    keys, [item.amount, item.get_expiry(), cost]
                )
            except Exception as error:  # as in _storage_call: limit in-process meanwhile
                self._failed(error)
            else:
                # limits' get_window_stats: the previous window's count weighted by what is
                # left of it, plus the current one's
                expiry_ms = item.get_expiry() * 1000
                used = math.floor(int(previous) * max(0, int(previous_ms)) / expiry_ms)
                available = max(0, item.amount - used - int(current))
                return _status(bucket, available, None if taken else cost)
        allowed = await self._local.hit(item, name, cost=cost)
        stats = await self._local.get_window_stats(item, name)
        return _status(bucket, int(stats.remaining), None if allowed else cost)

    async def _storage_call(self, call: Callable[[SlidingWindowCounterRateLimiter], Any]) -> Any:
        limiter = self._limiter()
        try:
            return await call(limiter)
        except Exception as error:  # any storage failure: Redis down, timed out, refused
            if limiter is self._local:
                raise
            self._failed(error)
            return await call(self._local)

    def _failed(self, error: Exception) -> None:
        self._skip_shared_until = time.monotonic() + self._pause_after_error
        log.warning("shared rate limiter failed, limiting in-process: %s", error)
        FALLBACKS.inc()

    def _limiter(self) -> SlidingWindowCounterRateLimiter:
        if self._shared is None:
            return self._local
        if time.monotonic() < self._skip_shared_until:
            FALLBACKS.inc()
            return self._local
        return self._shared


def _status(bucket: Bucket, available: int, refused: int | None) -> ThrottleStatus:
    restore_rate = max(1, bucket.maximum // bucket.item.get_expiry())
    retry_after = None
    if refused is not None:
        retry_after = max(1, math.ceil((refused - available) / restore_rate))
    return ThrottleStatus(refused is None, bucket.maximum, available, restore_rate, retry_after)
