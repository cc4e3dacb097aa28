"""Row locks are FOR NO KEY UPDATE: inserting a child row takes FOR KEY SHARE on its parent,
which plain FOR UPDATE would conflict with (two writers deadlock); NO KEY UPDATE still queues
writers of the same row behind each other."""

from __future__ import annotations

import copy
import weakref
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


# Transactions (each level's client: a savepoint's and the transaction's around it) that
# locked or saved a programme row, by programme id: what they read of it is their own.
_changed_in: weakref.WeakKeyDictionary[TransactionalDBClient, set[int]] = (
    weakref.WeakKeyDictionary()
)


def _transaction() -> TransactionalDBClient | None:
    client = connections.get("default")
    return client if isinstance(client, TransactionalDBClient) else None


def _changing(client: Any, programme_id: int) -> None:
    """Marks `client`'s transaction, and every one around it, as locking or writing the row."""
    while isinstance(client, TransactionalDBClient):
        _changed_in.setdefault(client, set()).add(programme_id)
        client = getattr(client, "_parent", None)


def _changed_here(programme_id: int) -> bool:
    """Whether this transaction, or one around it, locked or saved the row (a savepoint
    opened after the lock is a client of its own)."""
    client: Any = _transaction()
    while isinstance(client, TransactionalDBClient):
        if programme_id in _changed_in.get(client, ()):
            return True
        client = getattr(client, "_parent", None)
    return False


async def get(programme_id: int) -> Programme:
    """Read by nearly every request, so kept in this process while it listens for
    invalidations (db.invalidation); every save of a programme row publishes one. Each caller
    gets its own copy, to read: a caller that changes the row and saves it reads it with
    `fresh` or `lock`.

    Inside a transaction (every audited mutation runs in one) the kept row is served and a
    row read there is kept too: under READ COMMITTED a statement sees what was committed when
    it ran, so that row is as fresh as one read just before the transaction. Not once the
    transaction has locked or saved the row itself (`lock`, a `.save()`): from then on it
    reads its own, possibly uncommitted, row from the database and keeps nothing. (The one
    REPEATABLE READ transaction, services.privacy_export, does not read programmes.)"""
    if _changed_here(programme_id):
        return await Programme.get(id=programme_id)
    name = programme_name(programme_id)
    found = invalidation.local.get(name)
    if found is invalidation.MISS:
        epoch = invalidation.local.epoch
        found = await Programme.get(id=programme_id)
        invalidation.local.put(name, found, epoch)
    return copy.copy(found)  # type: ignore[no-any-return]


async def fresh(programme_id: int) -> Programme:
    """The row as the database has it now, never the kept one: for a caller that changes a
    field and saves it."""
    return await Programme.get(id=programme_id)


@post_save(Programme)
async def _saved(
    sender: type[Programme], instance: Programme, created: bool, using_db: Any, fields: Any
) -> None:
    """Every `.save()` of a programme, whichever service made it. Inside a transaction this is
    before the commit: published again after an audited mutation's, and otherwise the local
    TTL bounds a reader that reloads the old row in between. The transaction then reads its
    own row (`get`)."""
    if not created:
        _changing(using_db, instance.id)
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
    """The row, locked: the transaction reads its own from then on (`get`)."""
    _changing(_transaction(), programme_id)
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
