"""The deliverer: fans out new events, claims due deliveries and sends them, many at once but
never more than `per_endpoint` to one endpoint, so a receiver that hangs holds only its own
deliveries up (each for at most the timeout) while the others go on."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import orjson

from domain.events import envelope
from domain.webhooks import Attempt, signature_header, signing_secrets
from services.clock import wall_now
from services.webhooks import deliveries, http, secrets
from services.webhooks.config import DeliveryConfig, current
from services.webhooks.deliveries import Claimed

log = logging.getLogger("loyalty.webhooks")


def body_of(claimed: Claimed) -> bytes:
    return orjson.dumps(envelope(claimed.event, programme_code=claimed.programme_code))


def headers_of(claimed: Claimed, body: bytes, now: datetime) -> dict[str, str]:
    endpoint = claimed.endpoint
    previous = endpoint.previous_secret_sealed
    signers = signing_secrets(
        secrets.unseal(endpoint.secret_sealed),
        secrets.unseal(previous) if previous else None,
        endpoint.previous_secret_until,
        now,
    )
    timestamp = int(now.timestamp())
    message_id = claimed.event.event_id
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            signers, message_id=message_id, timestamp=timestamp, body=body
        ),
    }


class Deliverer:
    """Claims deliveries ahead into a small queue per endpoint and keeps up to `per_endpoint`
    of each in flight, so a finished send starts the next one without a round trip. A queue
    holds at most `QUEUE_DEPTH` sends' worth per endpoint, and what waited in it half a lease
    is handed back (due again at once) rather than left to outlive its claim."""

    QUEUE_DEPTH = 4  # times per_endpoint

    def __init__(
        self,
        config: DeliveryConfig | None = None,
        *,
        clock: Callable[[], datetime] = wall_now,
    ) -> None:
        self.config = config or current()
        self.clock = clock
        self.in_flight: Counter[int] = Counter()
        self.queues: dict[int, deque[tuple[float, Claimed]]] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.client: httpx.AsyncClient | None = None
        self.sent = 0
        # 2xx answers not yet written: one flusher writes whatever gathered, in one statement,
        # while the next sends go out (a crash before it writes only means a redelivery).
        self.succeeded: list[tuple[Claimed, Attempt, datetime]] = []
        self.flushing: asyncio.Task[None] | None = None
        # Set when a send finishes: room for more, so an idle deliverer looks again at once.
        self.wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set; then hands back what it queued and waits for the requests in
        flight."""
        async with http.client(self.config.concurrency) as client:
            while not stop.is_set():
                self.wake.clear()  # before the round: a send finishing during it counts
                try:
                    busy = await self.step(client)
                except Exception:
                    if stop.is_set():
                        break
                    log.exception("webhook deliverer: a round failed; trying again shortly")
                    busy = False
                if not busy:
                    await self._idle(stop)
            await self._hand_back(lambda _: True)
            while self.tasks:  # sends in flight, then the flush of their answers
                await asyncio.wait(set(self.tasks))

    async def _idle(self, stop: asyncio.Event) -> None:
        """Until the poll interval ends, a send finishes or `stop` is set."""
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
        try:
            await asyncio.wait(
                waits, timeout=self.config.poll_seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiting in waits:
                waiting.cancel()

    def _load(self, endpoint_id: int) -> int:
        return self.in_flight[endpoint_id] + len(self.queues.get(endpoint_id, ()))

    async def step(self, client: httpx.AsyncClient) -> bool:
        """One round: fan out, claim what there is room for, start what may start. Whether
        there was anything to do (then the next round comes at once)."""
        self.client = client
        fanned = await deliveries.fan_out()
        stale = time.monotonic() - self.config.lease_seconds / 2
        await self._hand_back(lambda queued_at: queued_at < stale)
        depth = self.config.per_endpoint * self.QUEUE_DEPTH
        waiting = sum(len(q) for q in self.queues.values())
        sending = sum(self.in_flight.values())
        room = min(self.config.batch, 2 * self.config.concurrency - sending - waiting)
        claimed: list[Claimed] = []
        if room > 0:
            full = [e for e in set(self.in_flight) | set(self.queues) if self._load(e) >= depth]
            claimed = await deliveries.claim(
                limit=room,
                lease=timedelta(seconds=self.config.lease_seconds),
                busy_endpoints=full,
                now=self.clock(),
            )
            surplus: list[int] = []
            now = time.monotonic()
            for item in claimed:
                if self._load(item.endpoint.id) >= depth:
                    surplus.append(item.delivery_id)
                else:
                    self.queues.setdefault(item.endpoint.id, deque()).append((now, item))
            await deliveries.release(surplus)
        self._start_queued()
        return bool(fanned or claimed)

    def _start_queued(self) -> None:
        for endpoint_id in list(self.queues):
            queue = self.queues[endpoint_id]
            while (
                queue
                and self.in_flight[endpoint_id] < self.config.per_endpoint
                and sum(self.in_flight.values()) < self.config.concurrency
            ):
                _, item = queue.popleft()
                self.in_flight[endpoint_id] += 1
                task = asyncio.create_task(self._send(item))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
            if not queue:
                del self.queues[endpoint_id]

    async def _hand_back(self, which: Callable[[float], bool]) -> None:
        """Queued deliveries that `which` picks (by when they were queued) are due again now,
        for any deliverer."""
        back: list[int] = []
        for endpoint_id in list(self.queues):
            keep: deque[tuple[float, Claimed]] = deque()
            for queued_at, item in self.queues[endpoint_id]:
                if which(queued_at):
                    back.append(item.delivery_id)
                else:
                    keep.append((queued_at, item))
            if keep:
                self.queues[endpoint_id] = keep
            else:
                del self.queues[endpoint_id]
        await deliveries.release(back)

    async def _send(self, claimed: Claimed) -> None:
        assert self.client is not None
        try:
            now = self.clock()
            body = body_of(claimed)
            outcome = await http.post(
                self.client,
                claimed.endpoint.url,
                headers=headers_of(claimed, body, now),
                body=body,
                allow_private=not self.config.production,
                timeout=self.config.timeout_seconds,
                max_bytes=self.config.max_response_bytes,
            )
            if outcome.succeeded:
                self.succeeded.append((claimed, outcome, self.clock()))
                self._flush_soon()
            else:
                await deliveries.record(
                    claimed, outcome, schedule=self.config.schedule, now=self.clock()
                )
            self.sent += 1
        except Exception:
            # Left claimed: it is due again when the lease ends.
            log.exception("webhook delivery %s could not be recorded", claimed.delivery_id)
        finally:
            self.in_flight[claimed.endpoint.id] -= 1
            if self.in_flight[claimed.endpoint.id] <= 0:
                del self.in_flight[claimed.endpoint.id]
            self._start_queued()
            self.wake.set()

    def _flush_soon(self) -> None:
        if self.flushing is None or self.flushing.done():
            self.flushing = asyncio.create_task(self._flush())
            self.tasks.add(self.flushing)
            self.flushing.add_done_callback(self.tasks.discard)

    async def _flush(self) -> None:
        while self.succeeded:
            batch, self.succeeded = self.succeeded, []
            try:
                await deliveries.record_successes(batch)
            except Exception:
                log.exception("%d webhook deliveries could not be recorded", len(batch))


async def deliver_until_idle(config: DeliveryConfig | None = None, *, seconds: float = 30) -> int:
    """Deliver until nothing is due (for tests and one-off runs); how many attempts it made."""
    deliverer = Deliverer(config)
    deadline = time.monotonic() + seconds
    async with http.client() as client:
        while time.monotonic() < deadline:
            busy = await deliverer.step(client)
            if deliverer.tasks:
                while deliverer.tasks:
                    await asyncio.wait(set(deliverer.tasks))
            elif not busy:
                break
    return deliverer.sent
