"""Webhooks, the pure parts: Standard Webhooks signatures, the retry schedule, when an endpoint
is given up on, and which URLs and addresses an endpoint may have."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from domain.errors import Collector

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
# Both secrets sign for this long after a rotation, so receivers can switch without a gap.
ROTATION_OVERLAP = timedelta(hours=24)
# Svix's schedule: the delay before each attempt, the first one immediate. After the last
# attempt fails the delivery is failed.
RETRY_SCHEDULE: tuple[timedelta, ...] = tuple(
    timedelta(seconds=s) for s in (0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
)
# An endpoint that has not answered 2xx for this long, while failing, is disabled.
DISABLE_AFTER = timedelta(days=5)
RESPONSE_EXCERPT_BYTES = 1024
URL_MAX = 2000
DESCRIPTION_MAX = 500
EVENT_TYPES_MAX = 50
ENDPOINTS_MAX = 20
_EVENT_TYPE = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")


class EndpointStatus(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


# --- signing (https://www.standardwebhooks.com, "Signature scheme") ---


def format_secret(raw: bytes) -> str:
    return SECRET_PREFIX + base64.b64encode(raw).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a `whsec_` secret stands for."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: list[str], *, message_id: str, timestamp: int, body: bytes) -> str:
    """One signature per secret that signs now, space-separated (during a rotation, two)."""
    return " ".join(sign(s, message_id=message_id, timestamp=timestamp, body=body) for s in secrets)


def signing_secrets(
    current: str, previous: str | None, previous_until: datetime | None, now: datetime
) -> list[str]:
    """The current secret, and the previous one while its overlap lasts."""
    if previous is not None and previous_until is not None and now < previous_until:
        return [current, previous]
    return [current]


# --- retries and giving up ---


def delay_before_attempt(
    attempt: int, schedule: tuple[timedelta, ...] = RETRY_SCHEDULE
) -> timedelta | None:
    """How long after the previous try attempt number `attempt` (1-based) runs; None when the
    schedule has no such attempt (the delivery has failed for good)."""
    if 1 <= attempt <= len(schedule):
        return schedule[attempt - 1]
    return None


def should_disable(
    failing_since: datetime | None, now: datetime, window: timedelta = DISABLE_AFTER
) -> bool:
    """Disabled once it has failed without a single success for the whole window."""
    return failing_since is not None and now - failing_since >= window


def is_success(status_code: int | None) -> bool:
    return status_code is not None and 200 <= status_code < 300


def response_excerpt(body: bytes, limit: int = RESPONSE_EXCERPT_BYTES) -> str:
    """At most `limit` bytes of the receiver's answer, as text (bad UTF-8 replaced)."""
    return body[:limit].decode("utf-8", errors="ignore")


# --- endpoints ---


def wants(event_types: list[str], event_type: str) -> bool:
    """An endpoint with no types listed gets every event."""
    return not event_types or event_type in event_types


def check_url(errors: Collector, url: str, *, production: bool) -> None:
    """The URL's shape: http(s), a host, no credentials; https only in production. Where it
    points is judged on the resolved address (`is_forbidden_address`)."""
    if not 1 <= len(url) <= URL_MAX or not url.isprintable():
        errors.add("url", f"must be 1-{URL_MAX} printable characters")
        return
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        errors.add("url", "is not a URL")
        return
    allowed = ("https",) if production else ("https", "http")
    if parts.scheme not in allowed:
        errors.add("url", "must be https" if production else "must be http or https")
    if not parts.hostname:
        errors.add("url", "needs a host")
    if parts.username or parts.password:
        errors.add("url", "may not carry credentials")
    if parts.fragment:
        errors.add("url", "may not have a fragment")
    if production and parts.hostname:
        try:
            address = ipaddress.ip_address(parts.hostname)
        except ValueError:
            address = None
        if address is not None and is_forbidden_address(address):
            errors.add("url", "may not point at a private, loopback or link-local address")


def check_event_types(errors: Collector, event_types: list[str], known: frozenset[str]) -> None:
    if len(event_types) > EVENT_TYPES_MAX:
        errors.add("eventTypes", f"at most {EVENT_TYPES_MAX}")
        return
    unknown = [t for t in event_types if t not in known or not _EVENT_TYPE.match(t)]
    if unknown:
        errors.add("eventTypes", f"unknown event types: {', '.join(map(repr, unknown[:5]))}")
    if len(set(event_types)) != len(event_types):
        errors.add("eventTypes", "each type once")


def check_description(errors: Collector, description: str) -> None:
    if len(description) > DESCRIPTION_MAX or not description.isprintable():
        errors.add("description", f"at most {DESCRIPTION_MAX} printable characters")


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")


def is_forbidden_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether a delivery may not connect to this address in production (SSRF): anything not
    globally routable — loopback, private, link-local (which holds the cloud metadata address
    169.254.169.254), shared (CGNAT), multicast, reserved, unspecified — including an IPv4
    address wrapped in IPv6 (mapped, NAT64, 6to4)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_forbidden_address(address.ipv4_mapped)
        if address in _NAT64:
            return is_forbidden_address(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address in _SIX_TO_FOUR and address.sixtofour is not None:
            return is_forbidden_address(address.sixtofour)
    return not address.is_global or address.is_multicast


@dataclass(frozen=True)
class Attempt:
    """What one try at a delivery came to."""

    status_code: int | None
    latency_ms: int
    excerpt: str
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return is_success(self.status_code) and self.error is None
