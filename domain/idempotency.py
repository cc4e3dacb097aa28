"""Idempotency keys (Stripe's semantics): same key and input replays, other input is refused."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from domain.errors import Collector

RETENTION = timedelta(hours=24)
KEY_MAX = 255


# What json.dumps(..., sort_keys=True, separators=(",", ":"), default=str) builds on every
# call, made once: the same text (stored fingerprints must keep matching), less work per call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def request_fingerprint(operation: str, payload: dict[str, Any]) -> str:
    """Canonical JSON of the input, so key order and whitespace do not matter."""
    body = _CANONICAL.encode([operation, payload])
    return hashlib.sha256(body.encode()).hexdigest()


def check_key(errors: Collector, key: str) -> None:
    if not 1 <= len(key) <= KEY_MAX or not key.isprintable():
        errors.add("idempotencyKey", f"must be 1-{KEY_MAX} printable characters")


def prune_before(now: datetime) -> datetime:
    """Keys older than this may be pruned; we keep them at least 24 hours."""
    return now - RETENTION
