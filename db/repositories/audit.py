"""Every query of the audit log. Rows are only ever inserted here (and pruned by age)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from tortoise import connections

from db.models import AuditEntry


async def insert(**fields: Any) -> AuditEntry:
    return await AuditEntry.create(**fields)


def inline_cte(first: int, *, after: str, wanted: int) -> str:
    """The CTE `a` that writes an audit row with a one-statement write, if `after` (a CTE)
    returned a row and the boolean parameter `wanted` is true: its programme is $1, its
    columns (`inline_values`) the parameters numbered from `first`."""
    n = [f"${first + i}" for i in range(11)]
    return f"""a AS (
    INSERT INTO audit_log (programme_id, actor_role, actor_key_id, actor_key_prefix,
        actor_key_label, actor_member_id, operation, target_ids, outcome, input, before, after,
        request_id, created_at)
    SELECT $1::int, {n[0]}::text, {n[1]}::int, {n[2]}::text, {n[3]}::text, {n[4]}::int,
        {n[5]}::text, {n[6]}::text, {n[7]}::text, {n[8]}::jsonb, NULL, NULL, {n[9]}::text,
        {n[10]}::timestamptz
    FROM {after} WHERE ${wanted}::bool
)"""


def inline_values(audit: dict[str, Any] | None, now: datetime) -> list[Any]:
    """`inline_cte`'s parameters: the row's columns (`services.audit.recording.Inline.row`'s), or
    placeholders when there is none to write."""
    a = audit or {}
    return [
        a.get("actor_role", ""),
        a.get("actor_key_id"),
        a.get("actor_key_prefix"),
        a.get("actor_key_label"),
        a.get("actor_member_id"),
        a.get("operation", ""),
        a.get("target_ids", ""),
        a.get("outcome", ""),
        a.get("input", "{}"),
        a.get("request_id", ""),
        a.get("created_at", now),
    ]


async def page(
    programme_id: int,
    *,
    first: int,
    before_id: int | None,
    actor_key_id: int | None,
    target_id: str | None,
    operation: str | None,
    since: datetime | None,
    until: datetime | None,
) -> list[AuditEntry]:
    """Newest first, `first + 1` rows so the caller knows whether there is a next page."""
    query = AuditEntry.filter(programme_id=programme_id)
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    if actor_key_id is not None:
        query = query.filter(actor_key_id=actor_key_id)
    if target_id is not None:
        query = query.filter(target_ids__contains=f" {target_id} ")
    if operation is not None:
        query = query.filter(operation=operation)
    if since is not None:
        query = query.filter(created_at__gte=since)
    if until is not None:
        query = query.filter(created_at__lt=until)
    return await query.order_by("-id").limit(first + 1)


async def stream(
    *, since: datetime, until: datetime, programme_id: int | None, batch: int = 500
) -> AsyncIterator[AuditEntry]:
    """Oldest first, in batches by id, so an export of millions of rows holds one batch."""
    after_id = 0
    while True:
        query = AuditEntry.filter(id__gt=after_id, created_at__gte=since, created_at__lt=until)
        if programme_id is not None:
            query = query.filter(programme_id=programme_id)
        rows = await query.order_by("id").limit(batch)
        for row in rows:
            yield row
        if len(rows) < batch:
            return
        after_id = rows[-1].id


async def prune_before(cutoff: datetime, *, postgres: bool) -> int:
    """The retention job's delete: on PostgreSQL the transaction first tells the append-only
    trigger that it is the job (the trigger still refuses rows younger than a year)."""
    if postgres:
        await connections.get("default").execute_script("SET LOCAL loyalty.audit_retention = 'on'")
    return await AuditEntry.filter(created_at__lt=cutoff).delete()
