"""Every query of the audit log. Rows are only ever inserted here (and pruned by age)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from tortoise import connections

from db.models import AuditEntry


async def insert(**fields: Any) -> AuditEntry:
    return await AuditEntry.create(**fields)


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
