"""Points as cash at checkout, the second phase: capturing a hold (`capture`) spends up to
its amount for the order and releases the rest. A hold that lapsed, or whose order was
cancelled or returned, is closed instead and the capture refused. On PostgreSQL through the
API by the optimistic way of services.points.spending, else under the member's lock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from db.models import Member, Programme
from db.repositories import holds as hold_repo
from db.repositories import spending as spend_repo
from db.repositories.holds import Hold
from db.repositories.spending import Seen
from domain.auth import Principal
from domain.errors import Collector, DomainError, ErrorCode, invalid
from domain.idempotency import check_key
from domain.points import TxKind
from services.audit import recording as audit
from services.clock import now_of
from services.idempotency import run_once
from services.points import ledger_rows
from services.points.holds import (
    CAPTURED,
    EXPIRED,
    HELD,
    RELEASED,
    HoldClosed,
    _close,
    _open_hold,
    _read_hold,
)
from services.points.ledger import Entry, actor_of, debit_available, require_spendable
from services.points.spending import _TakeTheLock, _unlocked, _Written, check_points
from services.rewards import holds as reward_holds


class HoldExpired(DomainError):
    code = ErrorCode.HOLD_EXPIRED


class OrderClosed(DomainError):
    code = ErrorCode.ORDER_CLOSED


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
        row, event, takes = ledger_rows.available_debit(
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
