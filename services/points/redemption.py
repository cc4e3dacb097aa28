"""Spending points: rewards, and points as cash at checkout through a two-phase hold."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from tortoise.exceptions import DoesNotExist

from db.models import Member, PointHold, PointTransaction, Programme
from db.repositories import holds as hold_repo
from db.repositories import points as points_repo
from db.repositories import programmes as programme_repo
from db.repositories import reward_redemptions as reward_redemption_repo
from db.repositories import spending as spend_repo
from db.repositories.holds import Hold, OrderOfHold
from db.repositories.idempotency import Stored
from db.repositories.spending import Seen
from domain.auth import Principal, Role
from domain.errors import Collector, DomainError, ErrorCode, NotFound, invalid
from domain.idempotency import check_key
from domain.members import check_external_id
from domain.points import MAX_POINTS, TxKind, check_order_ref
from domain.text import is_clean
from services import audit
from services import members as member_service
from services.clock import now_of
from services.idempotency import (
    OPTIMISTIC_ATTEMPTS,
    outside_a_transaction_on_postgres,
    run_once,
    run_once_unlocked,
)
from services.points import ledger
from services.points.ledger import (
    Entry,
    actor_of,
    debit_available,
    policy_of,
    require_spendable,
    restore,
)
from services.rewards import holds as reward_holds

HELD, CAPTURED, RELEASED, EXPIRED = "HELD", "CAPTURED", "RELEASED", "EXPIRED"
T = TypeVar("T")


class HoldClosed(DomainError):
    code = ErrorCode.HOLD_CLOSED


class HoldExpired(DomainError):
    code = ErrorCode.HOLD_EXPIRED


class OrderClosed(DomainError):
    code = ErrorCode.ORDER_CLOSED


class NotEligible(DomainError):
    code = ErrorCode.NOT_ELIGIBLE


class AlreadyReversed(DomainError):
    code = ErrorCode.ALREADY_REVERSED


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
            member = await ledger.lock(programme, principal.member_id, at=at)
        except DoesNotExist:
            member = None
        if member_service.visible_to(principal, member) is None:
            raise _no_member()
        assert member is not None
        return member
    member = await member_service.locked_target(principal, external_id, field="memberExternalId")
    await ledger.settle(member, programme, at or now_of(programme))
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
    (services.audit.inline), only if the member row is still the version read (None: it
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
        if ledger.expiry_is_due(member, now_of(programme)):
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


async def redeem(
    principal: Principal,
    *,
    member_external_id: str | None,
    amount: int,
    reason: str,
    reward: str | None,
    idempotency_key: str,
) -> PointTransaction:
    """Spend points on a reward, soonest-expiring lots first. Under the member's row lock, so
    fifty racing redemptions of a balance that covers ten leave exactly ten standing."""
    tx, _ = await redeem_with_member(
        principal,
        member_external_id=member_external_id,
        amount=amount,
        reason=reason,
        reward=reward,
        idempotency_key=idempotency_key,
    )
    return tx


async def redeem_with_member(
    principal: Principal,
    *,
    member_external_id: str | None,
    amount: int,
    reason: str,
    reward: str | None,
    idempotency_key: str,
) -> tuple[PointTransaction, Member | None]:
    """`redeem`, and the member as it left it (None on a replay: read it then). On
    PostgreSQL through the API in two statements (`_unlocked`): the read, then the key, the
    ledger row, the lots and their movements, the balance, the event and the audit row."""
    errors = Collector()
    check_key(errors, idempotency_key)
    check_points(errors, amount)
    check_reason(errors, reason)
    if reward is not None and not (1 <= len(reward) <= 128 and is_clean(reward)):
        errors.add("reward", "must be 1-128 characters, no control characters")
    if member_external_id is not None:
        check_external_id(errors, member_external_id)
    errors.raise_if_any()

    payload = {"member": member_external_id, "amount": amount, "reason": reason, "reward": reward}
    audited = audit.inline()

    def entry_at(at: datetime) -> Entry:
        return Entry(
            "REWARD", reward or "", reason.strip(), actor_of(principal), idempotency_key, at
        )

    async def replay(result: dict[str, Any]) -> tuple[PointTransaction, Member | None]:
        return await PointTransaction.get(id=int(result["transactionId"])), None

    async def write(
        member: Member, seen: Seen, programme: Programme, claim: list[Any], _: Any
    ) -> tuple[PointTransaction, Member | None] | None:
        assert seen.version is not None and seen.new_id is not None
        require_spendable(member, amount)
        row, event, takes = ledger.available_debit(
            member, entry_at(now_of(programme)), amount, TxKind.REDEEM, seen.lots
        )
        tx = spend_repo.transaction_of(member, seen.new_id, row)
        before = (member.points_available, member.event_seq)
        member.points_available = row.available_after
        if event is not None:
            member.event_seq += 1
        sequence = await spend_repo.debit_unless_changed(
            member,
            version=seen.version,
            transaction_id=seen.new_id,
            claim=claim,
            row=row,
            event=event,
            takes=takes,
            audit=audited.row((tx, member)) if audited else None,
        )
        if sequence is None:
            member.points_available, member.event_seq = before
            return None
        if audited:
            audited.wrote()
        return tx, member

    done = await _unlocked(
        principal,
        idempotency_key=idempotency_key,
        operation="redeemPoints",
        payload=payload,
        read=_member_read(principal, member_external_id, writes="point_transactions", lots=True),
        write=write,
        replay=replay,
    )
    if done is not None:
        return done

    written: _Written[PointTransaction] = _Written()

    async def act() -> dict[str, Any]:
        member, programme = await _locked_member(principal, member_external_id)
        require_spendable(member, amount)
        tx = await debit_available(member, entry_at(now_of(programme)), amount, TxKind.REDEEM)
        written.value = (tx, member)
        if audited:  # in this transaction, with the spend
            await audit.write_inline(audited, written.value)
        return {"transactionId": tx.id}

    result = await run_once(
        principal, key=idempotency_key, operation="redeemPoints", payload=payload, action=act
    )
    return written.kept(int(result["transactionId"]), audited) or await replay(result)


async def reverse_redemption(
    principal: Principal, *, transaction_id: int, reason: str, idempotency_key: str
) -> PointTransaction:
    """Undo a redemption: the points return exactly once, into their lots, original expiry kept."""
    errors = Collector()
    check_key(errors, idempotency_key)
    check_reason(errors, reason)
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        original = await points_repo.get_transaction(principal.programme_id, transaction_id)
        if original is None or original.kind != TxKind.REDEEM.value:
            raise NotFound("no redemption with this id", field="transactionId")
        if original.reference_type == "COUPON":
            # The coupon it bought would stay in the wallet: points back and the coupon kept.
            raise NotEligible(
                f"this redemption bought coupon {original.reference}; it cannot be reversed",
                field="transactionId",
            )
        if original.reference_type == "REWARD" and await reward_redemption_repo.pays_a_redemption(
            original.programme_id, original.id, original.reference
        ):
            # Its cancel gives the points and the stock back, once: a reversal here would
            # leave the reward bought and let that cancel give the points back again.
            raise NotEligible(
                "this redemption paid for a reward: cancel the reward redemption instead",
                field="transactionId",
            )
        programme = await programme_repo.get(principal.programme_id)
        member = await ledger.lock(programme, original.member_id)
        if await points_repo.reversal_of(original.id) is not None:
            raise AlreadyReversed("this redemption was reversed already", field="transactionId")
        entry = Entry(
            original.reference_type,
            original.reference,
            reason.strip(),
            actor_of(principal),
            idempotency_key,
            now_of(programme),
        )
        tx = await restore(member, entry, original, TxKind.REVERSE)
        return {"transactionId": tx.id}

    payload = {"transactionId": transaction_id, "reason": reason}
    result = await run_once(
        principal, key=idempotency_key, operation="reverseRedemption", payload=payload, action=act
    )
    return await PointTransaction.get(id=int(result["transactionId"]))


async def hold(
    principal: Principal,
    *,
    member_external_id: str | None,
    amount: int,
    order_ref: str,
    idempotency_key: str,
) -> Hold:
    """Reserve points at checkout. Nothing is spent yet: capture spends, release gives back."""
    held, _ = await hold_with_member(
        principal,
        member_external_id=member_external_id,
        amount=amount,
        order_ref=order_ref,
        idempotency_key=idempotency_key,
    )
    return held


async def hold_with_member(
    principal: Principal,
    *,
    member_external_id: str | None,
    amount: int,
    order_ref: str,
    idempotency_key: str,
) -> tuple[Hold, Member | None]:
    """`hold`, and the member as it left it (None on a replay: read it then). On PostgreSQL
    through the API in two statements (`_unlocked`): the read, then the key, the hold, the
    member's held total and the audit row."""
    errors = Collector()
    check_key(errors, idempotency_key)
    check_points(errors, amount)
    check_order_ref(errors, order_ref)
    if member_external_id is not None:
        check_external_id(errors, member_external_id)
    errors.raise_if_any()

    payload = {"member": member_external_id, "amount": amount, "orderId": order_ref}
    audited = audit.inline()

    def new_hold(hold_id: int, member: Member, programme: Programme) -> Hold:
        now = now_of(programme)
        expires_at = now + timedelta(minutes=policy_of(programme).hold_minutes)
        return Hold.new(hold_id, member.programme_id, member.id, order_ref, amount, now, expires_at)

    async def replay(result: dict[str, Any]) -> tuple[Hold, Member | None]:
        return await _read_hold(int(result["holdId"]))

    async def write(
        member: Member, seen: Seen, programme: Programme, claim: list[Any], _: Any
    ) -> tuple[Hold, Member | None] | None:
        assert seen.version is not None and seen.new_id is not None
        require_spendable(member, amount)
        held = new_hold(seen.new_id, member, programme)
        member.points_held += amount
        written = await spend_repo.hold_unless_changed(
            member,
            version=seen.version,
            hold=held,
            claim=claim,
            audit=audited.row((held, member)) if audited else None,
        )
        if not written:
            member.points_held -= amount
            return None
        if audited:
            audited.wrote()
        return held, member

    done = await _unlocked(
        principal,
        idempotency_key=idempotency_key,
        operation="holdPoints",
        payload=payload,
        read=_member_read(principal, member_external_id, writes="point_holds", lots=False),
        write=write,
        replay=replay,
    )
    if done is not None:
        return done

    written: _Written[Hold] = _Written()

    async def act() -> dict[str, Any]:
        member, programme = await _locked_member(principal, member_external_id)
        require_spendable(member, amount)
        policy = policy_of(programme)
        now = now_of(programme)
        member.points_held += amount
        created = await hold_repo.create_held(
            programme_id=programme.id,
            member_id=member.id,
            order_ref=order_ref,
            amount=amount,
            at=now,
            expires_at=now + timedelta(minutes=policy.hold_minutes),
            points_held=member.points_held,
        )
        written.value = (created, member)
        if audited:  # in this transaction, with the hold
            await audit.write_inline(audited, written.value)
        return {"holdId": created.id}

    result = await run_once(
        principal, key=idempotency_key, operation="holdPoints", payload=payload, action=act
    )
    return written.kept(int(result["holdId"]), audited) or await replay(result)


async def _read_hold(hold_id: int) -> tuple[Hold, Member | None]:
    """A hold as stored (a replay's answer: its member is read then)."""
    return Hold.of(await PointHold.get(id=hold_id)), None


async def _open_hold(
    principal: Principal, hold_id: int, *, with_order: bool
) -> tuple[Hold, OrderOfHold | None, Member, Programme]:
    """The hold, locked after its member (and its order after it, with `with_order`)."""
    member_id = await hold_repo.member_of(principal.programme_id, hold_id)
    if member_id is None or not member_service.can_see(principal, member_id):
        raise NotFound("no hold with this id", field="holdId")
    programme = await programme_repo.get(principal.programme_id)
    member = await ledger.lock(programme, member_id)
    locked, order = await hold_repo.lock_hold(
        principal.programme_id, hold_id, with_order=with_order
    )
    assert locked is not None
    return locked, order, member, programme


async def _close(held: Hold, member: Member, status: str, at: datetime, captured: int = 0) -> Hold:
    """Close the locked hold uncaptured and save its member's held total (nothing else of the
    member's balances changed since they were locked); a reward it paid for is cancelled."""
    member.points_held -= held.amount
    closed = await hold_repo.close(
        held, status=status, at=at, captured=captured, points_held=member.points_held
    )
    await reward_holds.hold_closed(held.id, member, status, at)
    return closed


async def close_hold(hold: PointHold, member: Member, status: str, at: datetime) -> None:
    member.points_held -= hold.amount
    await points_repo.save_balances(member)
    hold.status, hold.closed_at = status, at
    await hold_repo.save(hold, "status", "closed_at", "captured")
    await reward_holds.hold_closed(hold.id, member, status, at)


async def release_holds_for_order(member: Member, order_ref: str, at: datetime) -> None:
    """The order was cancelled or returned: nothing may be captured for it any more."""
    for open_hold in await hold_repo.open_for_order(member.programme_id, member.id, order_ref):
        await close_hold(open_hold, member, RELEASED, at)


async def capture(principal: Principal, *, hold_id: int, amount: int, idempotency_key: str) -> Hold:
    """Spend `amount` (at most the hold) for the order; the rest of the hold is released."""
    held, _ = await capture_with_member(
        principal, hold_id=hold_id, amount=amount, idempotency_key=idempotency_key
    )
    return held


async def capture_with_member(
    principal: Principal, *, hold_id: int, amount: int, idempotency_key: str
) -> tuple[Hold, Member | None]:
    """`capture`, and the member as it left it (None on a replay: read it then). On
    PostgreSQL through the API in two statements (`_unlocked`): the read of the hold, its
    order and its member, then the key, the hold captured, the ledger row, the lots and their
    movements, the balances, the event and the audit row. A hold that lapsed or whose order
    was closed is closed under the lock, as before."""
    errors = Collector()
    check_key(errors, idempotency_key)
    check_points(errors, amount)
    errors.raise_if_any()
    payload = {"holdId": hold_id, "amount": amount}
    audited = audit.inline()

    def entry_of(held: Hold, at: datetime) -> Entry:
        return Entry(
            "ORDER",
            held.order_ref,
            "points paid at checkout",
            actor_of(principal),
            idempotency_key,
            at,
        )

    async def replay(result: dict[str, Any]) -> tuple[Hold, Member | None]:
        if result.get("refused") == ErrorCode.HOLD_EXPIRED.value:
            raise HoldExpired(
                "the hold expired before it was captured; its points were released",
                field="holdId",
            )
        if result.get("refused") == ErrorCode.ORDER_CLOSED.value:
            raise OrderClosed(
                "the hold's order was cancelled or returned; the hold was released",
                field="holdId",
            )
        return await _read_hold(int(result["holdId"]))

    async def read(claim: list[Any]) -> tuple[Seen, Any]:
        found = await spend_repo.seen_capture(claim, hold_id)
        return found.seen, found

    async def write(
        member: Member, seen: Seen, programme: Programme, claim: list[Any], found: Any
    ) -> tuple[Hold, Member | None] | None:
        held, order = found.hold, found.order
        assert held is not None and seen.version is not None and seen.new_id is not None
        if held.status != HELD:
            raise HoldClosed(f"this hold is {held.status.lower()}", field="holdId")
        now = now_of(programme)
        if held.expires_at <= now or (
            order is not None
            and (order.status in ("CANCELLED", "RETURNED") or order.member_id != held.member_id)
        ):
            raise _TakeTheLock  # closed under the lock, and refused
        if amount > held.amount:
            raise invalid("amount", f"at most the {held.amount} points held")
        reward_holds.check_capture(held, amount)
        before = (member.points_available, member.points_held, member.event_seq)
        member.points_held -= held.amount
        require_spendable(member, amount)
        row, event, takes = ledger.available_debit(
            member, entry_of(held, now), amount, TxKind.REDEEM, seen.lots
        )
        closed = held.closed(CAPTURED, now, amount)
        member.points_available = row.available_after
        if event is not None:
            member.event_seq += 1
        sequence = await spend_repo.debit_unless_changed(
            member,
            version=seen.version,
            transaction_id=seen.new_id,
            claim=claim,
            row=row,
            event=event,
            takes=takes,
            audit=audited.row((closed, member)) if audited else None,
            result={"holdId": held.id},
            captures=held,
        )
        if sequence is None:
            member.points_available, member.points_held, member.event_seq = before
            return None
        if audited:
            audited.wrote()
        return closed, member

    done = await _unlocked(
        principal,
        idempotency_key=idempotency_key,
        operation="captureHold",
        payload=payload,
        read=read,
        write=write,
        replay=replay,
    )
    if done is not None:
        return done

    written: _Written[Hold] = _Written()
    closed_refused: list[str] = []

    async def act() -> dict[str, Any]:
        held, order, member, programme = await _open_hold(principal, hold_id, with_order=True)
        if held.status != HELD:
            raise HoldClosed(f"this hold is {held.status.lower()}", field="holdId")
        now = now_of(programme)
        refused = None
        if held.expires_at <= now:
            await _close(held, member, EXPIRED, now)
            refused = ErrorCode.HOLD_EXPIRED.value
        elif order is not None and (
            order.status in ("CANCELLED", "RETURNED") or order.member_id != held.member_id
        ):
            # Points captured now could never be given back by that order's return.
            await _close(held, member, RELEASED, now)
            refused = ErrorCode.ORDER_CLOSED.value
        if refused is not None:
            # a refusal that closed the hold: its audit row commits with that
            if audited:
                await audit.write_inline(audited, None, refused=refused)
                closed_refused.append(refused)
            return {"holdId": held.id, "refused": refused}
        if amount > held.amount:
            raise invalid("amount", f"at most the {held.amount} points held")
        reward_holds.check_capture(held, amount)
        # Its points are spendable again (the debit below saves the member's balances) ...
        member.points_held -= held.amount
        closed = await hold_repo.close(
            held, status=CAPTURED, at=now, captured=amount, points_held=None
        )
        require_spendable(member, amount)  # ... and must still cover the capture
        await debit_available(member, entry_of(held, now), amount, TxKind.REDEEM)
        written.value = (closed, member)
        if audited:  # in this transaction, with the capture
            await audit.write_inline(audited, written.value)
        return {"holdId": held.id}

    result = await run_once(
        principal, key=idempotency_key, operation="captureHold", payload=payload, action=act
    )
    if audited and closed_refused:  # its row committed with it
        audited.wrote()
    return written.kept(int(result["holdId"]), audited) or await replay(result)


async def release(principal: Principal, *, hold_id: int, idempotency_key: str) -> Hold:
    held, _ = await release_with_member(principal, hold_id=hold_id, idempotency_key=idempotency_key)
    return held


async def release_with_member(
    principal: Principal, *, hold_id: int, idempotency_key: str
) -> tuple[Hold, Member | None]:
    """`release`, and the member as it left it (None on a replay: read it then)."""
    errors = Collector()
    check_key(errors, idempotency_key)
    errors.raise_if_any()
    written: _Written[Hold] = _Written()

    async def act() -> dict[str, Any]:
        held, _, member, programme = await _open_hold(principal, hold_id, with_order=False)
        if held.status != HELD:
            raise HoldClosed(f"this hold is {held.status.lower()}", field="holdId")
        written.value = (await _close(held, member, RELEASED, now_of(programme)), member)
        return {"holdId": held.id}

    result = await run_once(
        principal,
        key=idempotency_key,
        operation="releaseHold",
        payload={"holdId": hold_id},
        action=act,
    )
    return written.kept(int(result["holdId"])) or await _read_hold(int(result["holdId"]))
