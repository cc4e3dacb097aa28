"""Every query of the outbox: writing an event in the caller's transaction, reading events in
commit order, pruning, and the reminders already sent.

Commit order. On PostgreSQL ids are drawn when rows are inserted, not when they commit: a
transaction holding id 7 may commit after another's id 8, and a reader that had moved past 8
would never see 7. So each row carries the id of the transaction that wrote it (`txid`, the
column's default), and a read hands out only rows whose transaction is older than every
transaction still running when the read began (below its snapshot's xmin): no row can later
appear before one already handed out. Rows are ordered by (txid, id). On SQLite one writer runs
at a time, so id order is commit order and `txid` is 0. Reads write nothing."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from tortoise import connections
from tortoise.expressions import Q

from db.connection import is_postgres
from db.models import Event, EventReminder, Member
from db.repositories import points as points_repo
from db.repositories.points import BALANCES
from domain.events import Event as EventRecord
from domain.events import Position

_INSERT_FOR_MEMBER = """
WITH seq AS (
    UPDATE members SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq
)
INSERT INTO events
    (event_id, programme_id, member_id, type, sequence, occurred_at, recorded_at, payload)
SELECT $2, $3, $1, $4, seq.event_seq, $5, $6, $7::jsonb FROM seq
"""

# The member's balances and the event of their change in one statement: the UPDATE saves the
# balances (as points_repo.save_balances would) and raises the event number the INSERT takes.
_SAVE_BALANCES_AND_INSERT = f"""
WITH m AS (
    UPDATE members SET {", ".join(f"{name} = ${n}" for n, name in enumerate(BALANCES, 2))},
        event_seq = event_seq + 1
    WHERE id = $1 RETURNING event_seq
)
INSERT INTO events
    (event_id, programme_id, member_id, type, sequence, occurred_at, recorded_at, payload)
SELECT $8, $9, $1, $10, m.event_seq, $11, $12, $13::jsonb FROM m
"""

_INSERT_WITHOUT_MEMBER = """
INSERT INTO events (event_id, programme_id, type, occurred_at, recorded_at, payload)
VALUES ($1, $2, $3, $4, $5, $6::jsonb)
"""

_XMIN = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin"


async def insert(
    *,
    event_id: UUID,
    programme_id: int,
    member_id: int | None,
    type: str,
    occurred_at: datetime,
    recorded_at: datetime,
    payload: dict[str, Any],
) -> None:
    """One event in the caller's transaction. With a member, its sequence number is the
    member's `event_seq` raised by the same statement: the UPDATE takes (or already holds)
    the member's row lock until commit, so a member's numbers follow its commits with no gap
    or repeat. On PostgreSQL one statement, no read."""
    if is_postgres():
        body = json.dumps(payload, separators=(",", ":"))
        db = connections.get("default")
        if member_id is None:
            await db.execute_query(
                _INSERT_WITHOUT_MEMBER,
                [event_id, programme_id, type, occurred_at, recorded_at, body],
            )
        else:
            await db.execute_query(
                _INSERT_FOR_MEMBER,
                [member_id, event_id, programme_id, type, occurred_at, recorded_at, body],
            )
        return
    sequence = None
    if member_id is not None:
        db = connections.get("default")
        _, rows = await db.execute_query(
            "UPDATE members SET event_seq = event_seq + 1 WHERE id = ? RETURNING event_seq",
            [member_id],
        )
        sequence = int(rows[0]["event_seq"])
    await _create_sqlite(
        event_id, programme_id, member_id, type, sequence, occurred_at, recorded_at, payload
    )


async def save_balances_and_insert(
    member: Member,
    *,
    event_id: UUID,
    type: str,
    occurred_at: datetime,
    recorded_at: datetime,
    payload: dict[str, Any],
) -> None:
    """The locked member's balances saved, and one event about them written: on PostgreSQL a
    single statement, so the ledger's event costs no round trip of its own."""
    if not is_postgres():
        await points_repo.save_balances(member)
        await insert(
            event_id=event_id,
            programme_id=member.programme_id,
            member_id=member.id,
            type=type,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            payload=payload,
        )
        return
    await connections.get("default").execute_query(
        _SAVE_BALANCES_AND_INSERT,
        [
            member.id,
            *(getattr(member, name) for name in BALANCES),
            event_id,
            member.programme_id,
            type,
            occurred_at,
            recorded_at,
            json.dumps(payload, separators=(",", ":")),
        ],
    )


async def _create_sqlite(
    event_id: UUID,
    programme_id: int,
    member_id: int | None,
    type: str,
    sequence: int | None,
    occurred_at: datetime,
    recorded_at: datetime,
    payload: dict[str, Any],
) -> None:
    await Event.create(
        event_id=event_id,
        programme_id=programme_id,
        member_id=member_id,
        type=type,
        sequence=sequence,
        occurred_at=occurred_at,
        recorded_at=recorded_at,
        payload=payload,
        txid=0,
    )


async def committed_after(
    after: Position,
    *,
    limit: int,
    programme_id: int | None = None,
    types: list[str] | None = None,
    member_id: int | None = None,
) -> list[EventRecord]:
    """Up to `limit` events after `after` in commit order, only those whose transaction can no
    longer be overtaken by another. Following the last one's position, a reader sees every
    event exactly once (until retention prunes it)."""
    query = Event.filter(Q(txid__gt=after.txid) | Q(txid=after.txid, id__gt=after.id))
    if is_postgres():
        _, rows = await connections.get("default").execute_query(_XMIN)
        query = query.filter(txid__lt=int(rows[0]["xmin"]))
    if programme_id is not None:
        query = query.filter(programme_id=programme_id)
    if types:
        query = query.filter(type__in=types)
    if member_id is not None:
        query = query.filter(member_id=member_id)
    return [_record(row) for row in await query.order_by("txid", "id").limit(limit)]


async def by_event_ids(programme_id: int, event_ids: list[UUID]) -> list[EventRecord]:
    rows = await Event.filter(programme_id=programme_id, event_id__in=event_ids)
    return [_record(row) for row in rows]


def _record(row: Event) -> EventRecord:
    return EventRecord(
        position=Position(int(row.txid), int(row.id)),
        event_id=str(row.event_id),
        programme_id=row.programme_id,
        type=row.type,
        member_id=row.member_id,
        sequence=row.sequence,
        occurred_at=row.occurred_at,
        payload=row.payload,
    )


async def prune(programme_id: int, *, recorded_before: datetime) -> int:
    return int(
        await Event.filter(programme_id=programme_id, recorded_at__lt=recorded_before).delete()
    )


# ---- reminders sent ---------------------------------------------------------------------------


async def reminders_sent(member_ids: list[int], kind: str) -> set[tuple[int, str]]:
    rows = await EventReminder.filter(member_id__in=member_ids, kind=kind).values(
        "member_id", "about"
    )
    return {(int(r["member_id"]), str(r["about"])) for r in rows}


async def add_reminder(
    *,
    programme_id: int,
    member_id: int,
    kind: str,
    about: str,
    due_at: datetime,
    sent_at: datetime,
) -> None:
    await EventReminder.create(
        programme_id=programme_id,
        member_id=member_id,
        kind=kind,
        about=about,
        due_at=due_at,
        sent_at=sent_at,
    )


async def prune_reminders(programme_id: int, *, due_before: datetime) -> int:
    return int(
        await EventReminder.filter(programme_id=programme_id, due_at__lt=due_before).delete()
    )


async def by_ids(ids: list[int]) -> dict[int, EventRecord]:
    """Events by their row ids (a webhook delivery's), whatever their programme."""
    return {row.id: _record(row) for row in await Event.filter(id__in=ids)}
