"""How this process delivers webhooks: set once at start-up from the settings (api/), read by
the services. Tests set it too."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from domain.webhooks import RETRY_SCHEDULE
from services.webhooks import secrets


@dataclass(frozen=True)
class DeliveryConfig:
    # In production endpoints must be https and may not reach private addresses (SSRF).
    production: bool = False
    timeout_seconds: float = 15.0  # a 2xx within this, or the attempt failed
    # How long a claimed delivery stays a deliverer's: past it (the deliverer died), it is due
    # again. Longer than the timeout, so a live deliverer is never overtaken.
    lease_seconds: float = 45.0
    batch: int = 100  # deliveries claimed at once
    concurrency: int = 64  # requests in flight per deliverer
    per_endpoint: int = 8  # of which to one endpoint, so one slow receiver cannot take them all
    poll_seconds: float = 0.5  # how often an idle deliverer looks for work
    max_response_bytes: int = 64 * 1024
    schedule: tuple[timedelta, ...] = field(default=RETRY_SCHEDULE)


_current = DeliveryConfig()


def configure(config: DeliveryConfig, *, secret_keys: list[str]) -> None:
    global _current
    _current = config
    secrets.configure(secret_keys)


def current() -> DeliveryConfig:
    return _current
