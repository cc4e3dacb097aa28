"""The shared machinery of spending points: the optimistic way to spend, hold or capture
without a lock on PostgreSQL (`_unlocked`, `_member_read`, `_Written`, `_TakeTheLock`), the
locking way's read of the member (`locked_member`), and the input checks every points
service uses (`check_points`, `check_reason`). Redeeming (services.points.redemption) and
checkout holds (services.points.holds, services.points.captures) are built on it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from tortoise.exceptions import DoesNotExist

from db.models import Member, Programme
from db.repositories import programmes as programme_repo
from db.repositories import spending as spend_repo
from db.repositories.idempotency import Stored
from db.repositories.spending import Seen
from domain.auth import Principal, Role
from domain.errors import Collector, DomainError, NotFound
from domain.points import MAX_POINTS
from domain.text import is_clean
from services import members as member_service
from services.audit import recording as audit
from services.clock import now_of
from services.idempotency import (
    OPTIMISTIC_ATTEMPTS,
    outside_a_transaction_on_postgres,
    run_once_unlocked,
)
from services.points import expiry

T = TypeVar("T")


class _TakeTheLock(Exception):
    """An optimistic spend, hold or capture would refuse, found points that may have expired
    or a hold to close: the locking way does it instead."""


def check_points(errors: Collector, amount: int, field: str = "amount") -> None:
    if not 1 <= amount <= MAX_POINTS:
        errors.add(field, f"must be 1-{MAX_POINTS} points")


def check_reason(errors: Collector, reason: str, field: str = "reason") -> None:
    if not (1 <= len(reason.strip()) <= 200 and is_clean(reason)):
        errors.add(field, "must be 1-200 characters, no control characters")


def _no_member() -> NotFound:
    return NotFound("no member with this externalId", field="memberExternalId")


async def _locked_member(principal: Principal, external_id: str | None) -> tuple[Member, Programme]:
    programme = await programme_repo.get(principal.programme_id)
    return await locked_member(principal, programme, external_id), programme


async def locked_member(
    principal: Principal,
    programme: Programme,
    external_id: str | None,
    *,
    at: datetime | None = None,
) -> Member:
    """The member a call is about (as `members.target` finds it), read with its row lock in
    one statement (by id for a member token's own, else by externalId), its expiry booked."""
    if external_id is None and principal.member_id is None:
        raise _no_member()
    if external_id is None and principal.role is Role.MEMBER:
        assert principal.member_id is not None
        try:
            member = await expiry.lock(programme, principal.member_id, at=at)
        except DoesNotExist:
            member = None
        if member_service.visible_to(principal, member) is None:
            raise _no_member()
        assert member is not None
        return member
    member = await member_service.locked_target(principal, external_id, field="memberExternalId")
    await expiry.settle(member, programme, at or now_of(programme))
    return member


class _Row(Protocol):
    @property
    def id(self) -> int: ...


W = TypeVar("W", bound=_Row)


class _Written(Generic[W]):
    """What an action wrote, kept for the caller so the first call reads nothing back (a
    replay has only the stored result, and reads)."""

    def __init__(self) -> None:
        self.value: tuple[W, Member] | None = None

    def kept(self, row_id: int, audited: audit.Inline | None = None) -> tuple[W, Member] | None:
        """What this call wrote, if the stored result names it (None: a replay of a twin's);
        its audit row, written in its transaction, is then committed with it."""
        if self.value is None or self.value[0].id != row_id:
            return None
        if audited:
            audited.wrote()
        return self.value


async def _unlocked(
    principal: Principal,
    *,
    idempotency_key: str,
    operation: str,
    payload: dict[str, Any],
    read: Callable[[list[Any]], Awaitable[tuple[Seen, Any]]] | None,
    write: Callable[[Member, Seen, Programme, list[Any], Any], Awaitable[T | None]],
    replay: Callable[[dict[str, Any]], Awaitable[T]],
) -> T | None:
    """A spend, a hold or a capture on PostgreSQL outside a transaction (the API's way),
    optimistically and without a lock, as recordOrder: `read` reads in one statement the
    member with its row version (and its open lots, to spend), the key stored before and the
    id of the row to write, with what else it needs (given to `write`); the rules are applied
    here; `write` writes everything in one more statement, the audit row included
    (services.audit.recording.inline), only if the member row is still the version read (None: it
    changed, read again). None when this way does not apply (no `read`: see `_member_read`)
    or gives up: the caller then
    takes the member's lock. It gives up on a member whose points may have expired (the lock
    books that first), on any refusal, no member (or hold) found included (the lock claims
    the key first: see `attempt`), when `write` raises _TakeTheLock, and after
    OPTIMISTIC_ATTEMPTS lost races."""
    if read is None or not outside_a_transaction_on_postgres():
        return None

    async def attempt(claim: list[Any]) -> tuple[Stored | None, T | None]:
        seen, more = await read(claim)
        if seen.stored is not None:
            return seen.stored, None
        member = member_service.visible_to(principal, seen.member)
        if member is None:
            raise _TakeTheLock  # a refusal too (see below): the locking way says it
        programme = await programme_repo.get(principal.programme_id)
        if expiry.expiry_is_due(member, now_of(programme)):
            raise _TakeTheLock  # nothing written: booked under the lock first
        try:
            return None, await write(member, seen, programme, claim, more)
        except DomainError as refusal:
            # Said from a read that did not claim the key: a twin with it may be running
            # still (its balance not committed yet) and succeed. The locking way claims the
            # key first, so a retry replays its twin, and says the refusal itself otherwise.
            raise _TakeTheLock from refusal

    try:
        return await run_once_unlocked(
            principal,
            key=idempotency_key,
            operation=operation,
            payload=payload,
            attempt=attempt,
            replay=replay,
            attempts=OPTIMISTIC_ATTEMPTS,
        )
    except _TakeTheLock:
        return None


def _member_read(
    principal: Principal, member_external_id: str | None, *, writes: str, lots: bool
) -> Callable[[list[Any]], Awaitable[tuple[Seen, Any]]] | None:
    """`_unlocked`'s read of a member named by externalId, or of a member token's own; None
    for the other cases, refusals the locking way words."""
    if member_external_id is None and (
        principal.role is not Role.MEMBER or principal.member_id is None
    ):
        return None
    by_id = principal.member_id if member_external_id is None else None

    async def read(claim: list[Any]) -> tuple[Seen, Any]:
        seen = await spend_repo.seen(claim, member_external_id, by_id, writes=writes, lots=lots)
        return seen, None

    return read
