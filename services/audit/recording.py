"""Running an audited mutation and writing its audit row: `run_audited` in one outer
transaction with configuration snapshots, `run_audited_inline` for an action that writes the row
(`Inline.row`) in its own statement or transaction, and the attempt of a failed action written
on its own, best effort."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tortoise.transactions import in_transaction

from db.cache import bumps_after_commit
from db.models import AuditEntry
from db.repositories import audit as audit_repo
from domain.audit import (
    INTERNAL_ERROR,
    SUCCESS,
    actor_of,
    pack_targets,
)
from domain.auth import Principal
from domain.errors import DomainError
from services.audit.snapshots import SNAPSHOTS, Subject
from services.clock import wall_now

log = logging.getLogger("loyalty.audit")
T = TypeVar("T")


@dataclass(frozen=True)
class Request:
    operation: str
    summary: dict[str, Any]
    request_id: str
    subject: Subject | None = None


async def _snapshot(programme_id: int, subject: Subject | None) -> Any:
    if subject is None:
        return None
    return await SNAPSHOTS[subject.kind](programme_id, subject.key)


async def _write(
    principal: Principal,
    request: Request,
    *,
    outcome: str,
    targets: list[str],
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    actor = actor_of(principal)
    return await audit_repo.insert(
        programme_id=principal.programme_id,
        actor_role=actor.role,
        actor_key_id=actor.key_id,
        actor_key_prefix=actor.key_prefix,
        actor_key_label=actor.key_label,
        actor_member_id=actor.member_id,
        operation=request.operation,
        target_ids=pack_targets(targets),
        outcome=outcome,
        input=request.summary,
        before=before,
        after=after,
        request_id=request.request_id,
        created_at=wall_now(),
    )


def outcome_of_error(error: BaseException) -> str:
    if isinstance(error, DomainError):
        return error.code.value
    extensions = getattr(error, "extensions", None)
    if isinstance(extensions, dict) and isinstance(extensions.get("code"), str):
        return str(extensions["code"])
    return INTERNAL_ERROR


async def run_audited(
    principal: Principal,
    request: Request,
    action: Callable[[], Awaitable[T]],
    describe: Callable[[T], tuple[str, list[str]]],
) -> T:
    """Runs `action` (a mutation) and writes its audit row in one transaction: the action's own
    transactions become savepoints inside it, so a failure after the change — writing the row
    included — rolls back the change too. `describe` gives the outcome (SUCCESS or the error
    code of an expected failure, which changed nothing) and the global ids it touched.

    An action that raises (auth, a bug, an outage) has rolled back; its attempt is then
    written on its own, best effort: a row that cannot be written (the database is down)
    does not hide the original error."""
    try:
        # Cache generations the action bumps "after its commit" (a savepoint here) are bumped
        # again after this transaction's: see db.cache.again_after_commit.
        async with bumps_after_commit(), in_transaction():
            before = await _snapshot(principal.programme_id, request.subject)
            result = await action()
            outcome, targets = describe(result)
            after = (
                await _snapshot(principal.programme_id, request.subject)
                if request.subject is not None and outcome == SUCCESS
                else None
            )
            await _write(
                principal,
                request,
                outcome=outcome,
                targets=targets,
                before=before,
                after=after,
            )
        return result
    except Exception as error:
        await _write_failure(principal, request, outcome_of_error(error))
        raise


@dataclass
class Inline:
    """An audit row the action writes itself, in its own statement (`run_audited_inline`):
    `targets` gives a success's global ids from what the service returns."""

    principal: Principal
    request: Request
    targets: Callable[[Any], list[str]]
    # a refusal's global ids (those of the input), for a refusal that changed something
    refused_targets: Callable[[], list[str]] = list
    written: list[bool] = field(default_factory=list)

    def row(self, result: Any) -> dict[str, Any]:
        """The columns of the audit row of a success that returns `result`, for the action's
        statement (`audit_log`'s, its JSON encoded), written when the action calls `wrote`."""
        actor = actor_of(self.principal)
        return {
            "actor_role": actor.role,
            "actor_key_id": actor.key_id,
            "actor_key_prefix": actor.key_prefix,
            "actor_key_label": actor.key_label,
            "actor_member_id": actor.member_id,
            "operation": self.request.operation,
            "target_ids": pack_targets(self.targets(result)),
            "outcome": SUCCESS,
            "input": AuditEntry._meta.fields_map["input"].to_db_value(
                self.request.summary, AuditEntry
            ),
            "request_id": self.request.request_id,
            "created_at": wall_now(),
        }

    def wrote(self) -> None:
        self.written.append(True)


_inline: ContextVar[Inline | None] = ContextVar("audit_inline", default=None)


def inline() -> Inline | None:
    """The audit row the running action is to write with its change, if it is run by
    `run_audited_inline` (and has not written it yet)."""
    found = _inline.get()
    return None if found is None or found.written else found


async def write_inline(pending: Inline, result: Any, *, refused: str | None = None) -> None:
    """The row of `pending` on its own statement, in the action's transaction: for a path
    of it that writes in several statements (the caller marks it `wrote` once committed).
    With `refused` (an error code), the row of a refusal that changes something all the
    same (a capture that finds its hold lapsed closes it): written with that change."""
    if refused is not None:
        targets = pending.refused_targets()
        await _write(pending.principal, pending.request, outcome=refused, targets=targets)
        return
    await _write(
        pending.principal, pending.request, outcome=SUCCESS, targets=pending.targets(result)
    )


async def run_audited_inline(
    principal: Principal,
    request: Request,
    action: Callable[[], Awaitable[T]],
    describe: Callable[[T], tuple[str, list[str]]],
    targets: Callable[[Any], list[str]],
    refused_targets: Callable[[], list[str]] = list,
) -> T:
    """`run_audited` without an outer transaction, for an action that writes its change in
    one statement or one transaction of its own (recordOrder, redeemPoints, holdPoints,
    captureHold and claimCoupon on PostgreSQL; completeOrder, cancelOrder, returnOrderLines):
    it writes the audit row of its success in that statement or transaction too (`inline`),
    so the two still commit together. Whatever else the action ends with changed nothing — a
    refusal, a replay — and its row is written after it, on its own, exactly as `run_audited`
    writes it (no configuration snapshots: such an action has no `Subject`). A refusal that
    does change something writes its row with that change (`write_inline`'s `refused`;
    `refused_targets` gives its global ids)."""
    assert request.subject is None
    pending = Inline(principal, request, targets, refused_targets)
    token = _inline.set(pending)
    try:
        async with bumps_after_commit():
            result = await action()
    except Exception as error:
        if not pending.written:
            await _write_failure(principal, request, outcome_of_error(error))
        raise
    finally:
        _inline.reset(token)
    if not pending.written:
        outcome, found = describe(result)
        await _write(principal, request, outcome=outcome, targets=found)
    return result


async def _write_failure(principal: Principal, request: Request, outcome: str) -> None:
    try:
        await _write(principal, request, outcome=outcome, targets=[])
    except Exception as error:  # the database may be why the action failed
        log.warning("audit row for a failed %s not written: %s", request.operation, error)
