"""Run a creating operation at most once per (programme, principal, key) — RELIABILITY 1-7."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from db.connection import is_lock_timeout, limit_lock_wait
from db.metrics import IDEMPOTENT_REPLAYS
from db.models import IdempotencyKey
from db.repositories import idempotency as key_repo
from domain.auth import Principal
from domain.errors import IdempotencyKeyInProgress, IdempotencyKeyReused
from domain.idempotency import prune_before, request_fingerprint
from services.clock import wall_now

Result = dict[str, Any]

# How long a duplicate waits for its twin to finish before answering IN_PROGRESS.
TWIN_WAIT_SECONDS = 5.0


def _replay(stored: IdempotencyKey, operation: str, fingerprint: str) -> Result:
    if stored.operation != operation or stored.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "this idempotency key was used with different input", field="idempotencyKey"
        )
    return dict(stored.result)


async def run_once(
    principal: Principal,
    *,
    key: str,
    operation: str,
    payload: dict[str, Any],
    action: Callable[[], Awaitable[Result]],
) -> Result:
    """One transaction holds the key, the effect and its result, so a crash leaves none of them.

    The key row is inserted first: a concurrent request with the same key blocks on the unique
    index until the first commits (then replays its result) or rolls back (then runs itself),
    and a key used before fails the insert at once and replays. (Looking the key up first
    would cost every first request a round trip to spare a retry one; the price is that
    PostgreSQL logs each replay's failed insert as a duplicate-key ERROR.)
    On PostgreSQL the wait is bounded; past it the caller gets IDEMPOTENCY_KEY_IN_PROGRESS.
    A failed action rolls the key back with everything else, so a corrected retry can succeed.
    """
    fingerprint = request_fingerprint(operation, payload)
    programme_id, scope = principal.programme_id, principal.scope
    try:
        async with in_transaction():
            await limit_lock_wait(TWIN_WAIT_SECONDS)
            row = await key_repo.claim(
                programme_id=programme_id,
                principal=scope,
                key=key,
                operation=operation,
                fingerprint=fingerprint,
                now=wall_now(),
            )
            # The bound is for waiting on a twin only; the action's own waits are not ours.
            await limit_lock_wait(None)
            result = await action()
            await key_repo.store_result(row, result)
        return result
    except IntegrityError:
        stored = await key_repo.find(programme_id, scope, key)
        if stored is None:
            raise
        replayed = _replay(stored, operation, fingerprint)
        IDEMPOTENT_REPLAYS.labels(operation).inc()
        return replayed
    except Exception as error:
        if is_lock_timeout(error):
            raise IdempotencyKeyInProgress(
                "a request with this idempotency key is still running; retry shortly",
                field="idempotencyKey",
            ) from error
        raise


async def prune_expired_keys() -> int:
    return await key_repo.prune(prune_before(wall_now()))
