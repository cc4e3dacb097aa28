"""The stored audit trail read back and pruned: a page of rows for the GraphQL audit log, the
rows as plain dicts for `loyalty audit-export` (JSON lines), and the retention job."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from db.connection import is_postgres
from db.models import AuditEntry
from db.repositories import audit as audit_repo
from domain.audit import retention_cutoff
from domain.auth import Principal
from services.clock import wall_now


async def page(
    principal: Principal,
    *,
    first: int,
    before_id: int | None,
    actor_key_id: int | None,
    target_id: str | None,
    operation: str | None,
    since: datetime | None,
    until: datetime | None,
) -> tuple[list[AuditEntry], bool]:
    rows = await audit_repo.page(
        principal.programme_id,
        first=first,
        before_id=before_id,
        actor_key_id=actor_key_id,
        target_id=target_id,
        operation=operation,
        since=since,
        until=until,
    )
    return rows[:first], len(rows) > first


async def export(
    *, since: datetime, until: datetime, programme_id: int | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Rows as plain dicts, oldest first, for `loyalty audit-export` (JSON lines)."""
    async for row in audit_repo.stream(since=since, until=until, programme_id=programme_id):
        yield {
            "id": row.id,
            "programmeId": row.programme_id,
            "at": row.created_at.isoformat(),
            "actor": {
                "role": row.actor_role,
                "keyId": row.actor_key_id,
                "keyPrefix": row.actor_key_prefix,
                "keyLabel": row.actor_key_label,
                "memberId": row.actor_member_id,
            },
            "operation": row.operation,
            "targetIds": row.target_ids.split(),
            "outcome": row.outcome,
            "input": row.input,
            "before": row.before,
            "after": row.after,
            "requestId": row.request_id,
        }


async def prune_expired(retention_days: int) -> int:
    """The retention job: rows older than the retention period (at least a year) go."""
    cutoff = retention_cutoff(wall_now(), retention_days)
    async with in_transaction():
        return await audit_repo.prune_before(cutoff, postgres=is_postgres())
