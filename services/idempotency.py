"""Run a creating operation at most once per (programme, principal, key) — RELIABILITY 1-7."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any, TypeVar

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.transactions import in_transaction

from db.connection import is_postgres
from db.metrics import IDEMPOTENT_REPLAYS
from db.repositories import idempotency as key_repo
from db.repositories.idempotency import Claim, Stored
from db.repositories.members import LockedMember
from domain.auth import Principal
from domain.errors import DomainError, IdempotencyKeyInProgress, IdempotencyKeyReused
from domain.idempotency import prune_before, request_fingerprint
from services.clock import wall_now

Result = dict[str, Any]
T = TypeVar("T")

# How long a duplicate waits for its twin to finish before answering IN_PROGRESS.
TWIN_WAIT_SECONDS = 5.0
# How often it looks again meanwhile.
TWIN_POLL_SECONDS = 0.02
# How often an optimistic write (`run_once_unlocked`) reads and writes again when its member
# changed between its read and its write (another write won the race) before its caller
# takes the member's lock.
OPTIMISTIC_ATTEMPTS = 3


def _replay(stored: Stored, operation: str, fingerprint: str) -> Result:
    if stored.operation != operation or stored.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "this idempotency key was used with different input", field="idempotencyKey"
        )
    IDEMPOTENT_REPLAYS.labels(operation).inc()
    return dict(stored.result)


async def _claimed(
    claim: Callable[[], Awaitable[tuple[Claim, Any]]], programme_id: int, scope: str, key: str
) -> tuple[Claim, Any]:
    """Claim until the key is ours or stored: a twin still running holds it (BUSY) for at
    most TWIN_WAIT_SECONDS, then IDEMPOTENCY_KEY_IN_PROGRESS."""
    deadline = time.monotonic() + TWIN_WAIT_SECONDS
    while True:
        found, more = await claim()
        if found.key_id is not None or found.stored is not None:
            return found, more
        if not found.busy:  # a twin committed it after our statement's snapshot was taken
            stored = await key_repo.find(programme_id, scope, key)
            if stored is not None:
                return Claim(None, stored, False), None
            continue  # and rolled back since: ours to claim again
        if time.monotonic() >= deadline:
            raise IdempotencyKeyInProgress(
                "a request with this idempotency key is still running; retry shortly",
                field="idempotencyKey",
            )
        await asyncio.sleep(TWIN_POLL_SECONDS)


async def run_once(
    principal: Principal,
    *,
    key: str,
    operation: str,
    payload: dict[str, Any],
    action: Callable[[], Awaitable[Result]],
) -> Result:
    """One transaction holds the key, the effect and its result, so a crash leaves none of them.

    The key row is claimed first (db/repositories/idempotency.py): a key stored before
    replays its result; a twin still running makes this request wait for it (up to
    TWIN_WAIT_SECONDS, then IDEMPOTENCY_KEY_IN_PROGRESS) and then replay, or run itself if
    the twin rolled back. No wait of the action's own is bounded by that.
    A failed action rolls the key back with everything else, so a corrected retry can succeed.
    """

    async def stored(key_id: int) -> Result:
        result = await action()
        await key_repo.store_result(key_id, result)
        return result

    return await run_once_keyed(
        principal, key=key, operation=operation, payload=payload, action=stored
    )


async def run_once_keyed(
    principal: Principal,
    *,
    key: str,
    operation: str,
    payload: dict[str, Any],
    action: Callable[[int], Awaitable[Result]],
) -> Result:
    """`run_once` for an action that stores the key's result itself, with its own last
    write (given the id of the key's row it claimed): one round trip fewer."""
    fingerprint = request_fingerprint(operation, payload)
    programme_id, scope = principal.programme_id, principal.scope
    values = key_repo.claim_values(
        programme_id=programme_id,
        principal=scope,
        key=key,
        operation=operation,
        fingerprint=fingerprint,
        now=wall_now(),
    )

    async def claim() -> tuple[Claim, None]:
        programme_id, principal, key, operation, fingerprint, now = values
        found = await key_repo.claim(
            programme_id=programme_id,
            principal=principal,
            key=key,
            operation=operation,
            fingerprint=fingerprint,
            now=now,
        )
        return found, None

    async with in_transaction():
        found, _ = await _claimed(claim, programme_id, scope, key)
        if found.key_id is None:
            assert found.stored is not None
            return _replay(found.stored, operation, fingerprint)
        return await action(found.key_id)


def _inside_a_transaction() -> bool:
    return isinstance(connections.get("default"), TransactionalDBClient)


def nested_on_postgres() -> bool:
    """Run inside a caller's transaction on PostgreSQL, where `run_once_on_member` takes no
    savepoint of its own (see there)."""
    return is_postgres() and _inside_a_transaction()


async def run_once_on_member(
    principal: Principal,
    *,
    key: str,
    operation: str,
    payload: dict[str, Any],
    member_external_id: str,
    action: Callable[[int, LockedMember | None], Awaitable[T]],
    replay: Callable[[Result], Awaitable[T]],
) -> T:
    """`run_once` for an action on one member, in fewer round trips: the key is claimed and
    the member's row locked (by externalId) in one statement, and the action — given the
    key's row id and the locked member, None when there is none — stores the key's result
    itself, with its own writes. What it returns goes through `replay` only for a replay.

    The action's contract: it writes nothing before it may still fail with a DomainError (its
    writes are one statement, or refusals come first). That lets it run on PostgreSQL inside
    a caller's transaction (the audit's) without a savepoint of its own: a DomainError only
    needs the claim undone, which is done here."""
    fingerprint = request_fingerprint(operation, payload)
    programme_id, scope = principal.programme_id, principal.scope
    values = key_repo.claim_values(
        programme_id=programme_id,
        principal=scope,
        key=key,
        operation=operation,
        fingerprint=fingerprint,
        now=wall_now(),
    )

    async def claim() -> tuple[Claim, LockedMember | None]:
        return await key_repo.claim_and_lock_member(values, member_external_id)

    nested = nested_on_postgres()
    scope_of: AbstractAsyncContextManager[Any] = nullcontext() if nested else in_transaction()
    async with scope_of:
        found, member = await _claimed(claim, programme_id, scope, key)
        if found.key_id is None:
            assert found.stored is not None
            return await replay(_replay(found.stored, operation, fingerprint))
        try:
            return await action(found.key_id, member)
        except DomainError:
            if nested:
                await key_repo.forget(found.key_id)
            raise


async def run_once_unlocked(
    principal: Principal,
    *,
    key: str,
    operation: str,
    payload: dict[str, Any],
    attempt: Callable[[list[Any]], Awaitable[tuple[Stored | None, T | None]]],
    replay: Callable[[Result], Awaitable[T]],
    attempts: int,
) -> T | None:
    """`run_once_on_member` without a transaction or a lock (PostgreSQL, autocommit).

    `attempt`, given the key's `claim_values`, reads in one statement the key's row stored
    before (returned: a replay, or IDEMPOTENCY_KEY_REUSED) and otherwise writes its effect,
    the key's row and its result in one more — unless what it read changed meanwhile, or a
    twin wrote the key (a unique violation undoes that statement): then it returns (None,
    None) and is run again, and reads what the winner left. The key's row exists only with
    its result, so no twin is ever seen half-done. A refusal (DomainError) writes nothing.
    None after `attempts` attempts that all lost a race: the caller then takes the member's
    lock (`run_once_on_member`), which waits its turn instead of racing again."""
    fingerprint = request_fingerprint(operation, payload)
    values = key_repo.claim_values(
        programme_id=principal.programme_id,
        principal=principal.scope,
        key=key,
        operation=operation,
        fingerprint=fingerprint,
        now=wall_now(),
    )
    for _ in range(attempts):
        stored, done = await attempt(values)
        if stored is not None:
            return await replay(_replay(stored, operation, fingerprint))
        if done is not None:
            return done
    return None


def outside_a_transaction_on_postgres() -> bool:
    return is_postgres() and not _inside_a_transaction()


async def prune_expired_keys() -> int:
    return await key_repo.prune(prune_before(wall_now()))
