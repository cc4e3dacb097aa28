"""The deliverer: fans out new events, claims due deliveries and sends them, many at once but
never more than `per_endpoint` to one endpoint, so a receiver that hangs holds only its own
deliveries up (each for at most the timeout) while the others go on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import orjson

from domain.events import envelope
from domain.webhooks import signature_header, signing_secrets
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
    def __init__(
        self,
        config: DeliveryConfig | None = None,
        *,
        clock: Callable[[], datetime] = wall_now,
    ) -> None:
        self.config = config or current()
        self.clock = clock
        self.in_flight: Counter[int] = Counter()
        self.tasks: set[asyncio.Task[None]] = set()
        self.sent = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set; then waits for the requests in flight."""
        async with http.client(self.config.concurrency) as client:
            while not stop.is_set():
                try:
                    busy = await self.step(client)
                except Exception:
                    if stop.is_set():
                        break
                    log.exception("webhook deliverer: a round failed; trying again shortly")
                    busy = False
                if not busy:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.config.poll_seconds)
            if self.tasks:
                await asyncio.wait(self.tasks)

    async def step(self, client: httpx.AsyncClient) -> bool:
        """One round: fan out, claim what there is room for, start sending it. Whether there
        was anything to do (then the next round comes at once)."""
        fanned = await deliveries.fan_out()
        room = self.config.concurrency - len(self.tasks)
        if room <= 0:
            await asyncio.wait(self.tasks, return_when=asyncio.FIRST_COMPLETED)
            return True
        busy = [e for e, n in self.in_flight.items() if n >= self.config.per_endpoint]
        claimed = await deliveries.claim(
            limit=min(room, self.config.batch),
            lease=timedelta(seconds=self.config.lease_seconds),
            busy_endpoints=busy,
            now=self.clock(),
        )
        surplus: list[int] = []
        for item in claimed:
            if self.in_flight[item.endpoint.id] >= self.config.per_endpoint:
                surplus.append(item.delivery_id)
                continue
            self.in_flight[item.endpoint.id] += 1
            task = asyncio.create_task(self._send(client, item))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        await deliveries.release(surplus)
        return bool(fanned or claimed)

    async def _send(self, client: httpx.AsyncClient, claimed: Claimed) -> None:
        try:
            now = self.clock()
            body = body_of(claimed)
            outcome = await http.post(
                client,
                claimed.endpoint.url,
                headers=headers_of(claimed, body, now),
                body=body,
                allow_private=not self.config.production,
                timeout=self.config.timeout_seconds,
                max_bytes=self.config.max_response_bytes,
            )
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


async def deliver_until_idle(config: DeliveryConfig | None = None, *, seconds: float = 30) -> int:
    """Deliver until nothing is due (for tests and one-off runs); how many attempts it made."""
    deliverer = Deliverer(config)
    deadline = time.monotonic() + seconds
    async with http.client() as client:
        while time.monotonic() < deadline:
            busy = await deliverer.step(client)
            if deliverer.tasks:
                await asyncio.wait(deliverer.tasks)
            elif not busy:
                break
    return deliverer.sent
