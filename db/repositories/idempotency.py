"""Idempotency keys: claimed in the caller's transaction, their result stored with the effect.

On PostgreSQL a claim is one statement: it takes a transaction-scoped advisory lock named by
the key without waiting (`pg_try_advisory_xact_lock`), inserts the key row only if it got the
lock (`ON CONFLICT DO NOTHING`: a key stored before is no error), and reads the row stored
before, if any. A twin still running holds the advisory lock until it commits or rolls back,
so the claim answers BUSY at once instead of waiting on the unique index, and no statement of
a claim ever waits or fails: a caller in an outer transaction (the audit's) needs no
savepoint around it. The caller decides how long to retry a BUSY claim."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections

from db.connection import is_postgres
from db.models import IdempotencyKey
from db.repositories import members as member_repo
from db.repositories.audit import inline_cte, inline_values
from db.repositories.members import LOCKED_COLUMNS, LockedMember, locked_of


@dataclass(frozen=True)
class Stored:
    """A key's row as stored by an earlier request."""

    operation: str
    fingerprint: str
    result: dict[str, Any]


@dataclass(frozen=True)
class Claim:
    """What a claim found: the new row's id (the key is ours), or the row stored before (a
    replay), or neither: `busy` when a twin holds the key now, else a twin committed it
    between our snapshot and our insert (read it again with `find`)."""

    key_id: int | None
    stored: Stored | None
    busy: bool


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        loaded: dict[str, Any] = json.loads(value)
        return loaded
    return dict(value)


def key_lock_cte(principal: int) -> str:
    """The CTE `lk` that takes a key's advisory lock without waiting (`lk.got`): the
    programme is $1, its principal and key the parameters numbered `principal` and the next.
    Every statement that claims or writes a key takes it, the same for one key."""
    return f"""lk AS (
    SELECT pg_try_advisory_xact_lock(
        hashtextextended($1::int::text || ':' || ${principal}::text || ':' ||
            ${principal + 1}::text, 0)
    ) AS got
)"""


def stored_key_cte(principal: int, *, result: str, after: str) -> str:
    """The CTE `k` that writes a key with its result (SQL: `result`) for a write done in one
    statement, only if `after` (a CTE) returned a row: the programme is $1, its principal,
    key, operation, fingerprint and time the parameters numbered from `principal`. A twin's
    key is a unique violation that undoes the whole statement."""
    p = principal
    return f"""k AS (
    INSERT INTO idempotency_keys
        (programme_id, principal, key, operation, fingerprint, result, created_at)
    SELECT $1::int, ${p}::text, ${p + 1}::text, ${p + 2}::text, ${p + 3}::text, {result},
        ${p + 4}::timestamptz
    FROM {after}
    RETURNING id
)"""


# $1 programme, $2 principal, $3 key, $4 operation, $5 fingerprint, $6 now. The advisory lock
# is taken before the insert (the insert reads the lock's row), so a twin never sees the key
# row half-made; the lock's 64-bit space is apart from the two-key one of db.connection.serialise.
CLAIM_CTES = f"""
{key_lock_cte(2)},
ins AS (
    INSERT INTO idempotency_keys
        (programme_id, principal, key, operation, fingerprint, result, created_at)
    SELECT $1::int, $2, $3, $4, $5, '{{}}'::jsonb, $6 FROM lk WHERE lk.got
    ON CONFLICT (programme_id, principal, key) DO NOTHING
    RETURNING id
)"""
CLAIM_COLUMNS = """lk.got, (SELECT id FROM ins) AS key_id,
    old.operation AS old_operation, old.fingerprint AS old_fingerprint,
    old.result AS old_result"""
CLAIM_FROM = """lk LEFT JOIN idempotency_keys old
    ON old.programme_id = $1 AND old.principal = $2 AND old.key = $3"""

_CLAIM = f"WITH {CLAIM_CTES} SELECT {CLAIM_COLUMNS} FROM {CLAIM_FROM}"


def claim_of(row: dict[str, Any]) -> Claim:
    stored = None
    if row["old_operation"] is not None:
        stored = Stored(row["old_operation"], row["old_fingerprint"], _json(row["old_result"]))
    key_id = row["key_id"]
    return Claim(
        key_id=int(key_id) if key_id is not None else None,
        stored=stored,
        busy=not row["got"],
    )


def claim_values(
    *, programme_id: int, principal: str, key: str, operation: str, fingerprint: str, now: datetime
) -> list[Any]:
    return [programme_id, principal, key, operation, fingerprint, now]


async def claim(
    *, programme_id: int, principal: str, key: str, operation: str, fingerprint: str, now: datetime
) -> Claim:
    """Claim the key in the caller's transaction (see the module's docstring)."""
    values = claim_values(
        programme_id=programme_id,
        principal=principal,
        key=key,
        operation=operation,
        fingerprint=fingerprint,
        now=now,
    )
    db = connections.get("default")
    if is_postgres():
        rows = await db.execute_query_dict(_CLAIM, values)
        return claim_of(rows[0])
    return await claim_sqlite(values)


async def claim_sqlite(values: list[Any]) -> Claim:
    """SQLite runs one writer at a time: a twin cannot be running while we hold the write."""
    programme_id, principal, key, operation, fingerprint, now = values
    found = await find(programme_id, principal, key)
    if found is not None:
        return Claim(None, found, False)
    row = await IdempotencyKey.create(
        programme_id=programme_id,
        principal=principal,
        key=key,
        operation=operation,
        fingerprint=fingerprint,
        result={},
        created_at=now,
    )
    return Claim(row.id, None, False)


async def find(programme_id: int, principal: str, key: str) -> Stored | None:
    row = await IdempotencyKey.get_or_none(programme_id=programme_id, principal=principal, key=key)
    if row is None:
        return None
    return Stored(row.operation, row.fingerprint, dict(row.result))


# The key's result and the audit row of the change it ends (`inline_cte`, from $4; wanted
# always) in one statement.
_STORE_WITH_AUDIT = f"""
WITH k AS (
    UPDATE idempotency_keys SET result = $2::jsonb WHERE id = $3::bigint RETURNING id
), {inline_cte(4, after="k", wanted=15)}
SELECT 1
"""


async def store_result(
    key_id: int,
    result: dict[str, Any],
    *,
    audit: dict[str, Any] | None = None,
    programme_id: int | None = None,
) -> None:
    """The result of the key's claim. With `audit` (the columns of the audit row of the change
    it ends, `services.audit.recording.Inline.row`'s; PostgreSQL only) the row is written by
    the same statement."""
    if audit is None:
        await IdempotencyKey.filter(id=key_id).update(result=result)
        return
    assert is_postgres() and programme_id is not None
    await connections.get("default").execute_query(
        _STORE_WITH_AUDIT,
        [
            programme_id,
            json.dumps(result, separators=(",", ":")),
            key_id,
            *inline_values(audit, audit["created_at"]),
            True,
        ],
    )


async def forget(key_id: int) -> None:
    """Undo a claim whose action failed, in a transaction that goes on (the audit's)."""
    await IdempotencyKey.filter(id=key_id).delete()


async def prune(before: datetime) -> int:
    return await IdempotencyKey.filter(created_at__lt=before).delete()


# The claim, and the member's row lock taken in the same statement once the key is ours ($7
# its externalId): the lock is taken above the join with the inserted key, so a replay or a
# busy key locks nothing. After a wait for the lock the row read is the newest version.
_CLAIM_AND_LOCK = f"""
WITH {CLAIM_CTES},
m AS (
    SELECT {", ".join(f"m.{c}" for c in LOCKED_COLUMNS.split(", "))}
    FROM members m, ins WHERE m.programme_id = $1 AND m.external_id = $7
    FOR NO KEY UPDATE OF m
)
SELECT {CLAIM_COLUMNS}, m.*
FROM {CLAIM_FROM} LEFT JOIN m ON true
"""


async def claim_and_lock_member(
    values: list[Any], external_id: str
) -> tuple[Claim, LockedMember | None]:
    """`claim`, and when the key is ours the member by externalId with its row lock."""
    if is_postgres():
        rows = await connections.get("default").execute_query_dict(
            _CLAIM_AND_LOCK, [*values, external_id]
        )
        row = rows[0]
        found = claim_of(row)
        return found, (locked_of(row) if row["id"] is not None else None)
    found = await claim_sqlite(values)
    if found.key_id is None:
        return found, None
    return found, await member_repo.locked_by_external_id(values[0], external_id)
