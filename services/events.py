"""Writing events with the change they tell of, and reading them back in commit order.

`record` must run inside the transaction of the change: the event then exists if and only if
the change committed (the outbox). It costs one INSERT statement and reads nothing."""

from __future__ import annotations

import os
import time
from datetime import datetime
from typing import Any
from uuid import UUID

from db.repositories import events as event_repo
from domain.events import START, Event, EventType, Position
from services.clock import wall_now

READ_LIMIT = 1000


def new_event_id() -> UUID:
    """A version 7 UUID (RFC 9562): milliseconds since the epoch, then random bits. Unique
    without coordination, and roughly time-ordered, so the unique index stays compact."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10))
    value &= ~(0xF000 << 64) & ~(0xC000 << 48)  # clear the version and variant bits
    value |= (0x7000 << 64) | (0x8000 << 48)
    return UUID(int=value)


async def record(
    programme_id: int,
    type: EventType | str,
    payload: dict[str, Any],
    *,
    occurred_at: datetime,
    member_id: int | None = None,
) -> UUID:
    """Write one event in the caller's open transaction. With `member_id` the member gets its
    next sequence number (the statement locks the member row until commit if the caller has
    not already). `occurred_at` is on the programme's clock. Returns the event's id."""
    event_id = new_event_id()
    await event_repo.insert(
        event_id=event_id,
        programme_id=programme_id,
        member_id=member_id,
        type=str(type),
        occurred_at=occurred_at,
        recorded_at=wall_now(),
        payload=payload,
    )
    return event_id


async def committed_after(
    after: Position = START,
    *,
    limit: int = READ_LIMIT,
    programme_id: int | None = None,
    types: list[str] | None = None,
    member_id: int | None = None,
) -> list[Event]:
    """Events after `after` in commit order (all programmes unless one is named), at most
    `limit`. Keep the last one's `position` and pass it next time: nothing committed later can
    sort before it, so a reader following positions misses no event and sees none twice."""
    return await event_repo.committed_after(
        after,
        limit=max(1, min(limit, READ_LIMIT)),
        programme_id=programme_id,
        types=types,
        member_id=member_id,
    )
