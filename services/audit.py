"""The audit trail (issue 18.1): every mutation by a staff credential leaves one row, written in
the transaction of the change, so the two commit or roll back together."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from tortoise.models import Model
from tortoise.transactions import in_transaction

from db.cache import bumps_after_commit
from db.connection import is_postgres
from db.models import (
    ApiKey,
    AuditEntry,
    Benefit,
    Campaign,
    Challenge,
    CouponTemplate,
    Partner,
    Programme,
    Reward,
    Tier,
    WebhookEndpoint,
)
from db.repositories import audit as audit_repo
from domain.audit import (
    INTERNAL_ERROR,
    SUCCESS,
    actor_of,
    pack_targets,
    retention_cutoff,
)
from domain.auth import Principal
from domain.coupons.templates import TEMPLATE_CODE_RE
from domain.errors import DomainError
from services.clock import wall_now

log = logging.getLogger("loyalty.audit")
T = TypeVar("T")


@dataclass(frozen=True)
class Subject:
    """The configuration a mutation changes, snapshotted before and after it: `kind` names
    what (policies, tiers, a coupon template, API keys, a partner), `key` which one where it
    matters."""

    kind: str
    key: str | int | tuple[object, ...] | None = None


@dataclass(frozen=True)
class Request:
    operation: str
    summary: dict[str, Any]
    request_id: str
    subject: Subject | None = None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _row(row: Model, *, leave_out: frozenset[str] = frozenset()) -> dict[str, Any]:
    return {
        name: _plain(getattr(row, name))
        for name in row._meta.db_fields
        if name not in leave_out and name != "programme_id"
    }


async def _policies(programme_id: int, _: Any) -> Any:
    row = await Programme.get(id=programme_id)
    return _row(row, leave_out=frozenset({"id", "code", "created_at"}))


async def _tiers(programme_id: int, _: Any) -> Any:
    tiers = await Tier.filter(programme_id=programme_id).order_by("rank")
    benefits = await Benefit.filter(programme_id=programme_id).order_by("id")
    return [
        {**_row(t), "benefits": [_row(b) for b in benefits if b.tier_id == t.id]} for t in tiers
    ]


async def _template(programme_id: int, key: Any) -> Any:
    field = "code" if isinstance(key, str) else "id"
    row = await CouponTemplate.get_or_none(programme_id=programme_id, **{field: key})
    return None if row is None else _row(row, leave_out=frozenset({"issued", "stock_left"}))


async def _campaign(programme_id: int, codes: Any) -> Any:
    """The campaign of the first of `codes` (a code, or the code an update names and the new
    code it gives) that names one. The snapshot runs before the input checks: a text no
    campaign code can be (one longer than the column, say) names none, and never reaches the
    ORM's length check."""
    for code in codes if isinstance(codes, tuple) else (codes,):
        if not isinstance(code, str) or not TEMPLATE_CODE_RE.match(code):
            continue
        row = await Campaign.get_or_none(programme_id=programme_id, code=code)
        if row is not None:
            # what orders spend changes on its own; the configuration is the rest
            return _row(row, leave_out=frozenset({"budget_spent"}))
    return None


async def _challenge(programme_id: int, code: Any) -> Any:
    if not isinstance(code, str) or not TEMPLATE_CODE_RE.match(code):
        return None
    row = await Challenge.get_or_none(programme_id=programme_id, code=code)
    return None if row is None else _row(row)


async def _keys(programme_id: int, key: Any) -> Any:
    query = ApiKey.filter(programme_id=programme_id)
    if key is not None:
        query = query.filter(id=key)
    rows = await query.order_by("id")
    return [_row(r, leave_out=frozenset({"secret_hash"})) for r in rows]


async def _webhook_endpoints(programme_id: int, key: Any) -> Any:
    query = WebhookEndpoint.filter(programme_id=programme_id)
    if key is not None:
        query = query.filter(id=key)
    rows = await query.order_by("id")
    # Signing secrets are sealed, but even sealed they have no place in the audit log.
    sealed = frozenset({"secret_sealed", "previous_secret_sealed"})
    return [_row(r, leave_out=sealed) for r in rows]


async def _partner(programme_id: int, code: Any) -> Any:
    if not isinstance(code, str):
        return None
    row = await Partner.get_or_none(programme_id=programme_id, code=code)
    return None if row is None else _row(row)


async def _reward(programme_id: int, code: Any) -> Any:
    """A reward's configuration by its code (checked as campaign codes are: the snapshot runs
    before the input checks)."""
    if not isinstance(code, str) or not TEMPLATE_CODE_RE.match(code):
        return None
    row = await Reward.get_or_none(programme_id=programme_id, code=code)
    # `redeemed` moves with redemptions only; stock_left shows what a new totalStock did
    return None if row is None else _row(row, leave_out=frozenset({"redeemed"}))


SNAPSHOTS: dict[str, Callable[[int, Any], Awaitable[Any]]] = {
    "policies": _policies,
    "tiers": _tiers,
    "coupon_template": _template,
    "api_keys": _keys,
    "webhook_endpoints": _webhook_endpoints,
    "partner": _partner,
    "campaign": _campaign,
    "reward": _reward,
    "challenge": _challenge,
}


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


__all__ = [
    "SUCCESS",
    "Inline",
    "Request",
    "Subject",
    "export",
    "inline",
    "page",
    "prune_expired",
    "run_audited",
    "run_audited_inline",
    "write_inline",
]
