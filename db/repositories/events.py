"""Every query of the outbox: writing an event in the caller's transaction, reading events in
commit order, pruning (the reminders' keys are in event_reminders.py).

Commit order. On PostgreSQL ids are drawn when rows are inserted, not when they commit: a
transaction holding id 7 may commit after another's id 8, and a reader that had moved past 8
would never see 7. So each row carries the id of the transaction that wrote it (`txid`, the
column's default), and a read hands out only rows whose transaction is older than every
transaction still running when the read began (below its snapshot's xmin): no row can later
appear before one already handed out. Rows are ordered by (txid, id). On SQLite one writer runs
at a time, so id order is commit order and `txid` is 0. Reads write nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from tortoise import connections
from tortoise.expressions import Q, Subquery

from db.connection import is_postgres
from db.models import Event, Member, WebhookDelivery
from db.repositories import points as points_repo
from db.repositories.points import BALANCES
from domain.events import Event as EventRecord
from domain.events import Position
from domain.webhooks import DeliveryStatus, EndpointStatus

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

# Many events about members whose rows the caller has locked: each member's number is raised
# by its count of them once, and its events take the numbers in the order given.
_INSERT_MANY = """
WITH given AS (
    SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::text[])
        WITH ORDINALITY AS t(event_id, member_id, type, occurred_at, payload, n)
),
counts AS (SELECT member_id, count(*) AS k FROM given GROUP BY member_id),
raised AS (
    UPDATE members m SET event_seq = m.event_seq + counts.k FROM counts
    WHERE m.id = counts.member_id RETURNING m.id, m.event_seq AS last
)
INSERT INTO events
    (event_id, programme_id, member_id, type, sequence, occurred_at, recorded_at, payload)
SELECT g.event_id, $6, g.member_id, g.type,
    r.last - c.k + row_number() OVER (PARTITION BY g.member_id ORDER BY g.n),
    g.occurred_at, $7, g.payload::jsonb
FROM given g JOIN raised r ON r.id = g.member_id JOIN counts c ON c.member_id = g.member_id
ORDER BY g.n
"""

_INSERT_WITHOUT_MEMBER = """
INSERT INTO events (event_id, programme_id, type, occurred_at, recorded_at, payload)
VALUES ($1, $2, $3, $4, $5, $6::jsonb)
"""


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


@dataclass(frozen=True)
class NewEvent:
    event_id: UUID
    member_id: int
    type: str
    occurred_at: datetime
    payload: dict[str, Any]


async def insert_many(programme_id: int, events: list[NewEvent], *, recorded_at: datetime) -> None:
    """Events about members the caller holds row locks on (a job's batch, a grant): one
    statement on PostgreSQL however many there are."""
    if not events:
        return
    if not is_postgres():
        for event in events:
            await insert(
                event_id=event.event_id,
                programme_id=programme_id,
                member_id=event.member_id,
                type=event.type,
                occurred_at=event.occurred_at,
                recorded_at=recorded_at,
                payload=event.payload,
            )
        return
    await connections.get("default").execute_query(
        _INSERT_MANY,
        [
            [e.event_id for e in events],
            [e.member_id for e in events],
            [e.type for e in events],
            [e.occurred_at for e in events],
            [json.dumps(e.payload, separators=(",", ":")) for e in events],
            programme_id,
            recorded_at,
        ],
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
    if not is_postgres():
        query = Event.filter(Q(txid__gt=after.txid) | Q(txid=after.txid, id__gt=after.id))
        if programme_id is not None:
            query = query.filter(programme_id=programme_id)
        if types:
            query = query.filter(type__in=types)
        if member_id is not None:
            query = query.filter(member_id=member_id)
        return [_record(row) for row in await query.order_by("txid", "id").limit(limit)]
    # The row comparison lets the (txid, id) indexes seek to the position; the xmin is the
    # statement's own snapshot's (pg_current_snapshot reads the active snapshot), so every
    # row below it that committed is visible to this very scan.
    conditions = ["(txid, id) > ($1, $2)", f"txid < {_XMIN_OF_THIS_STATEMENT}"]
    values: list[Any] = [after.txid, after.id]
    for condition, value in (
        ("programme_id = ${}", programme_id),
        ("type = ANY(${}::text[])", types or None),
        ("member_id = ${}", member_id),
    ):
        if value is not None:
            values.append(value)
            conditions.append(condition.format(len(values)))
    values.append(limit)
    _, rows = await connections.get("default").execute_query(
        f"SELECT {_COLUMNS} FROM events WHERE {' AND '.join(conditions)} "
        f"ORDER BY txid, id LIMIT ${len(values)}",
        values,
    )
    return [_from_sql(row) for row in rows]


_COLUMNS = "id, txid, event_id, programme_id, member_id, type, sequence, occurred_at, payload"
_XMIN_OF_THIS_STATEMENT = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"


def _from_sql(row: Any) -> EventRecord:
    payload = row["payload"]
    return EventRecord(
        position=Position(int(row["txid"]), int(row["id"])),
        event_id=str(row["event_id"]),
        programme_id=int(row["programme_id"]),
        type=str(row["type"]),
        member_id=row["member_id"],
        sequence=row["sequence"],
        occurred_at=row["occurred_at"],
        payload=json.loads(payload) if isinstance(payload, str) else dict(payload),
    )


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
    """Events written before `recorded_before`, except those a webhook delivery to an enabled
    endpoint is still retrying (the schedule outlasts a 1-day retention; deleting the event
    would take the delivery with it, neither delivered nor failed)."""
    retrying = WebhookDelivery.filter(
        programme_id=programme_id,
        status=DeliveryStatus.PENDING.value,
        endpoint__status=EndpointStatus.ENABLED.value,
    ).values("event_id")
    return int(
        await Event.filter(programme_id=programme_id, recorded_at__lt=recorded_before)
        .exclude(id__in=Subquery(retrying))
        .delete()
    )


async def by_ids(ids: list[int]) -> dict[int, EventRecord]:
    """Events by their row ids (a webhook delivery's), whatever their programme."""
    return {row.id: _record(row) for row in await Event.filter(id__in=ids)}
