"""What nearly every request reads — its API key, its programme's row and tiers, whether a
member token's member is erased — kept in this process, so a warm request reads them without
a round trip to PostgreSQL or Redis.

Correctness comes from Redis pub/sub: a writer, after its commit, publishes the names of the
entries it changed on CHANNEL (`publish`), and every process's subscriber drops them. The
local entries are used only while this process's subscriber is subscribed and has heard
from Redis (a message, or the answer to the ping it sends every PING_EVERY seconds) within
LIVE_FOR seconds. Otherwise — no Redis configured (the embedded default, where the
`loyalty revoke-key` command runs in another process that no local cache could hear), Redis
unreachable, the subscription lost — every lookup goes the shared way (Redis, then the
database) as it did before this layer, and the local entries are dropped, so nothing read
before a gap is trusted after it.

TTL_SECONDS bounds what pub/sub cannot: a publish lost with Redis briefly unreachable to the
writer only (the revocation's Redis bump then failed too, see db.key_cache.forget), or a
write published before the transaction around it committed (a reader in between reloaded
the old row). Five seconds keeps those windows short while a busy key or programme costs a
shared lookup once per five seconds per process instead of on every request.

Each entry is stored only if no invalidation arrived while it was being loaded (`epoch`), so
a reader that loaded a row just before a write cannot park it here after the write's
message: the same guard db.cache.stamped gives the shared cache."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from db.cache import again_after_commit, get_cache

log = logging.getLogger("loyalty.invalidation")

CHANNEL = "loyalty:invalidate"
TTL_SECONDS = 5.0
PING_EVERY = 1.0
LIVE_FOR = 3.0
STOP_WAIT = 5.0  # how long stop() waits for the subscriber to end before leaving it be
MAX_ENTRIES = 50_000
MISS: Any = object()


class LocalCache:
    """Name -> value with a deadline; used only while `listening()` (see the module's doc)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: dict[str, tuple[float, Any]] = {}
        self._max_entries = max_entries
        self.epoch = 0  # moves on every drop: a load begun before it is not stored

    def get(self, name: str) -> Any:
        """The value, or MISS."""
        if not _subscriber.live():
            if self._entries:
                self.clear()
            return MISS
        entry = self._entries.get(name)
        if entry is None:
            return MISS
        if entry[0] < time.monotonic():
            del self._entries[name]
            return MISS
        return entry[1]

    def put(self, name: str, value: Any, epoch: int) -> None:
        """Stores `value`, loaded after `epoch` was read, unless something was dropped since."""
        if epoch != self.epoch or not _subscriber.live():
            return
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[name] = (time.monotonic() + TTL_SECONDS, value)

    def drop(self, names: Iterable[str]) -> None:
        self.epoch += 1
        for name in names:
            self._entries.pop(name, None)

    def clear(self) -> None:
        self.epoch += 1
        self._entries.clear()


local = LocalCache()


def member_active_name(programme_id: int, member_id: int) -> str:
    """A member token's member exists and is not erased (services.tokens.holder_active)."""
    return f"loyalty:p{programme_id}:member-active:{member_id}"


def listening() -> bool:
    return _subscriber.live()


async def publish(names: list[str]) -> bool:
    """Call after the write commits: drops `names` here and in every process listening. Inside
    an audited mutation (a savepoint of a transaction that commits later) it is published
    again once that transaction ends. False when Redis did not take the message."""
    sent = await publish_now(names)
    again_after_commit(lambda: publish_now(names))
    return sent


async def publish_now(names: list[str]) -> bool:
    """`publish` without the second time after an audited mutation (for a caller that repeats
    itself then, as db.key_cache.forget does)."""
    local.drop(names)
    return await get_cache().publish(CHANNEL, orjson.dumps(names))


def dropped(names: Iterable[str]) -> None:
    """Drops `names` in this process only (a write about to commit; `publish` follows)."""
    local.drop(names)


def names_in(data: bytes) -> list[str] | None:
    """The entry names a message drops (a JSON list of strings, as `publish` sends); None
    when it is anything else, and nothing in it can be trusted."""
    try:
        names = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if isinstance(names, list) and all(isinstance(name, str) for name in names):
        return names
    return None


class Subscriber:
    """One connection per process subscribed to CHANNEL; reconnects with a growing pause."""

    def __init__(self) -> None:
        self._heard = 0.0  # monotonic time of the last message or pong; 0: not subscribed
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()  # set by stop(); each start() makes a new one
        self.connections = 0  # subscriptions made (tests watch reconnects)

    def live(self) -> bool:
        return self._heard != 0.0 and time.monotonic() - self._heard < LIVE_FOR

    def start(self, url: str) -> None:
        if self._task is None:
            self._stopping = asyncio.Event()
            self._task = asyncio.create_task(
                self._run(url, self._stopping), name="loyalty-invalidation"
            )

    async def stop(self) -> None:
        """Ends the subscription, and returns within STOP_WAIT seconds whatever the task does.
        A cancellation alone can be lost: on Python 3.11, `asyncio.wait_for` returns its inner
        result when a cancel arrives after that result is ready but before it resumes, and
        redis-py sends every command (the ping, HELLO, SUBSCRIBE) under `wait_for` of its
        socket timeout. A bench run hung so at exit: the task looped on, `cancelling() == 1`.
        So the loop also ends on a flag it checks at least every PING_EVERY seconds, and the
        task is cancelled again every half second until it has ended."""
        task, self._task = self._task, None
        try:
            if task is not None:
                self._stopping.set()
                deadline = time.monotonic() + STOP_WAIT
                while not task.done() and time.monotonic() < deadline:
                    task.cancel()
                    await asyncio.wait({task}, timeout=0.5)
                if not task.done():
                    log.error("invalidation subscriber still running after %s s; left", STOP_WAIT)
                elif not task.cancelled() and task.exception() is not None:
                    log.error("invalidation subscriber failed", exc_info=task.exception())
        finally:
            self._lost()  # whatever happened above, nothing kept is served any more

    def _lost(self) -> None:
        self._heard = 0.0
        local.clear()

    async def _run(self, url: str, stopping: asyncio.Event) -> None:
        pause = 0.1
        while not stopping.is_set():
            # No retries inside the client: a dropped connection must surface here, where the
            # local entries are dropped before anything is read again.
            client = Redis.from_url(
                url, socket_connect_timeout=1.0, retry=Retry(NoBackoff(), 0), retry_on_error=[]
            )
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                pinged, began = 0.0, time.monotonic()
                while not stopping.is_set():
                    if time.monotonic() - max(self._heard, began) > LIVE_FOR:
                        # a half-open connection fails no read: silence is the only sign
                        raise RedisConnectionError(f"no answer from Redis for {LIVE_FOR} s")
                    if time.monotonic() - pinged >= PING_EVERY:
                        await pubsub.ping()
                        pinged = time.monotonic()
                    message = await pubsub.get_message(timeout=PING_EVERY)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        # (re)subscribed: whatever was published meanwhile went unheard
                        local.clear()
                        self.connections += 1
                        pause = 0.1
                    elif message["type"] == "message":
                        names = names_in(message["data"])
                        if names is None:
                            log.warning("unreadable invalidation message: all entries dropped")
                            local.clear()
                        else:
                            local.drop(names)
                    self._heard = time.monotonic()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as error:
                log.warning("invalidation subscriber lost Redis, retrying: %s", error)
            except Exception:  # a bug must not end the subscription for good: start again
                log.exception("invalidation subscriber failed, retrying")
            finally:
                self._lost()
                try:
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                    await client.aclose()
                except (RedisError, OSError):
                    pass
            if stopping.is_set():
                return
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)


_subscriber = Subscriber()


def start(redis_url: str | None) -> None:
    """In an API process with Redis: start listening (the local entries serve once subscribed)."""
    if redis_url:
        _subscriber.start(redis_url)


async def stop() -> None:
    await _subscriber.stop()


async def until_listening(seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not _subscriber.live():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True
