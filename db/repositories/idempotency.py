from __future__ import annotations

from datetime import datetime
from typing import Any

from db.models import IdempotencyKey


async def find(programme_id: int, principal: str, key: str) -> IdempotencyKey | None:
    return await IdempotencyKey.get_or_none(programme_id=programme_id, principal=principal, key=key)


async def claim(
    *, programme_id: int, principal: str, key: str, operation: str, fingerprint: str, now: datetime
) -> IdempotencyKey:
    """Insert the key first in the transaction: a concurrent twin blocks on the unique index."""
    return await IdempotencyKey.create(
        programme_id=programme_id,
        principal=principal,
        key=key,
        operation=operation,
        fingerprint=fingerprint,
        result={},
        created_at=now,
    )


async def store_result(row: IdempotencyKey, result: dict[str, Any]) -> None:
    row.result = result
    await row.save(update_fields=["result"])


async def prune(before: datetime) -> int:
    return await IdempotencyKey.filter(created_at__lt=before).delete()
