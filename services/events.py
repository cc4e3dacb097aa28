"""Writing events with the change they tell of, and reading them back in commit order.

`record` must run inside the transaction of the change: the event then exists if and only if
the change committed (the outbox). It costs one INSERT statement and reads nothing."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from db.models import Member, Programme
from db.repositories import events as event_repo
from db.repositories import programmes as programme_repo
from domain.auth import Principal
from domain.errors import Collector, check_page_size
from domain.events import START, Event, EventPolicy, EventType, Position, check_types
from domain.idempotency import check_key
from services.clock import now_of, wall_now
from services.idempotency import run_once

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


async def save_balances_and_record(
    member: Member,
    type: EventType | str,
    payload: dict[str, Any],
    *,
    occurred_at: datetime,
) -> UUID:
    """For the ledger: save the locked member's balances (points_repo.save_balances) and write
    the event of their change, in one statement on PostgreSQL."""
    event_id = new_event_id()
    await event_repo.save_balances_and_insert(
        member,
        event_id=event_id,
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


async def prune(programme: Programme) -> int:
    """Job: drop the programme's events older than its retention (counted on the wall clock
    from when each was written: a sandbox's test clock does not age them), and the reminder
    keys whose lot or period is over. Returns the events dropped."""
    policy = EventPolicy.from_json(programme.event_policy)
    dropped = await event_repo.prune(
        programme.id, recorded_before=wall_now() - timedelta(days=policy.retention_days)
    )
    await event_repo.prune_reminders(programme.id, due_before=now_of(programme) - timedelta(days=1))
    return dropped


async def page(
    principal: Principal,
    *,
    first: int,
    after: Position | None,
    types: list[str] | None,
    member_id: int | None,
) -> tuple[list[Event], bool]:
    """The admin's pull: the caller's programme's events in commit order, one page and
    whether more are committed already (one extra row is read to know)."""
    check_page_size(first)
    errors = Collector()
    if types is not None:
        check_types(errors, types)
    errors.raise_if_any()
    rows = await event_repo.committed_after(
        after or START,
        limit=first + 1,
        programme_id=principal.programme_id,
        types=types,
        member_id=member_id,
    )
    return rows[:first], len(rows) > first


async def policy(principal: Principal) -> EventPolicy:
    return EventPolicy.from_json((await programme_repo.get(principal.programme_id)).event_policy)


async def change_policy(
    principal: Principal, changes: dict[str, int], *, idempotency_key: str
) -> EventPolicy:
    """Apply the given fields over the programme's event policy; the result must be valid."""
    errors = Collector()
    check_key(errors, idempotency_key)
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        programme = await programme_repo.lock(principal.programme_id)
        changed = EventPolicy.from_json(
            {**EventPolicy.from_json(programme.event_policy).to_json(), **changes}
        )
        problems = Collector()
        changed.check(problems)
        problems.raise_if_any()
        programme.event_policy = changed.to_json()
        await programme.save(update_fields=["event_policy"])
        return {"policy": programme.event_policy}

    result = await run_once(
        principal,
        key=idempotency_key,
        operation="setEventPolicy",
        payload=dict(changes),
        action=act,
    )
    return EventPolicy.from_json(result["policy"])
