"""Points as cash at checkout, the first phase: a hold reserves points for an order (`hold`),
nothing spent yet; `release` gives them back, and `close_hold` and
`release_holds_for_order` close holds for the order's other paths (cancel, return, expiry,
erasure). The hold statuses live here; the second phase, capture, is services.points.captures."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from db.models import Member, PointHold, Programme
from db.repositories import holds as hold_repo
from db.repositories import points as points_repo
from db.repositories import programmes as programme_repo
from db.repositories import spending as spend_repo
from db.repositories.holds import Hold, OrderOfHold
from db.repositories.spending import Seen
from domain.auth import Principal
from domain.errors import Collector, DomainError, ErrorCode, NotFound
from domain.idempotency import check_key
from domain.members import check_external_id
from domain.points import check_order_ref
from services import members as member_service
from services.audit import recording as audit
from services.clock import now_of
from services.idempotency import run_once
from services.points import expiry
from services.points.ledger import policy_of, require_spendable
from services.points.spending import _locked_member, _member_read, _unlocked, _Written, check_points
from services.rewards import holds as reward_holds

HELD, CAPTURED, RELEASED, EXPIRED = "HELD", "CAPTURED", "RELEASED", "EXPIRED"


class HoldClosed(DomainError):
    code = ErrorCode.HOLD_CLOSED


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
    member = await expiry.lock(programme, member_id)
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
