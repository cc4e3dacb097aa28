"""Row locks are FOR NO KEY UPDATE: inserting a child row takes FOR KEY SHARE on its parent,
which plain FOR UPDATE would conflict with (two writers deadlock); NO KEY UPDATE still queues
writers of the same row behind each other."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.signals import post_save

from db import invalidation
from db.models import Programme
from domain.clock import ProgrammeMode


def programme_name(programme_id: int) -> str:
    return f"loyalty:p{programme_id}:programme"


async def get(programme_id: int) -> Programme:
    """Read by nearly every request, so kept in this process while it listens for
    invalidations (db.invalidation); every save of a programme row publishes one. Each caller
    gets its own copy (some change a field and save it)."""
    name = programme_name(programme_id)
    found = invalidation.local.get(name)
    if found is invalidation.MISS:
        epoch = invalidation.local.epoch
        found = await Programme.get(id=programme_id)
        if not isinstance(connections.get("default"), TransactionalDBClient):
            # (a read inside a transaction may see its own write, not yet committed)
            invalidation.local.put(name, found, epoch)
    return copy.copy(found)  # type: ignore[no-any-return]


@post_save(Programme)
async def _saved(
    sender: type[Programme], instance: Programme, created: bool, using_db: Any, fields: Any
) -> None:
    """Every `.save()` of a programme, whichever service made it. Inside a transaction this is
    before the commit: published again after an audited mutation's, and otherwise the local
    TTL bounds a reader that reloads the old row in between."""
    if not created:
        await invalidation.publish([programme_name(instance.id)])


async def get_by_code(code: str) -> Programme | None:
    return await Programme.get_or_none(code=code)


async def create(
    *,
    code: str,
    name: str,
    currency: str,
    timezone: str,
    mode: ProgrammeMode,
    now: datetime,
    points_policy: dict[str, Any] | None = None,
) -> Programme:
    return await Programme.create(
        code=code,
        name=name,
        currency=currency,
        timezone=timezone,
        mode=mode,
        test_clock_at=now if mode is ProgrammeMode.SANDBOX else None,
        created_at=now,
        points_policy=points_policy,
    )


async def lock(programme_id: int) -> Programme:
    return await Programme.filter(id=programme_id).select_for_update(no_key=True).get()


async def set_test_clock(programme: Programme, to: datetime) -> None:
    programme.test_clock_at = to
    await programme.save(update_fields=["test_clock_at"])


async def set_rate_limits(programme: Programme, limits: dict[str, Any]) -> None:
    programme.rate_limits = limits
    await programme.save(update_fields=["rate_limits"])


async def rate_limits(programme_id: int) -> dict[str, Any]:
    found = await Programme.filter(id=programme_id).values_list("rate_limits", flat=True)
    return dict(found[0] or {}) if found else {}
