"""After a redemption: handing the reward over (fulfil), or calling it off (cancel) with its
points and stock given back exactly once."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from db.models import Member, Programme, RewardRedemption
from db.repositories import holds as hold_repo
from db.repositories import points as points_repo
from db.repositories import programmes as programme_repo
from db.repositories import reward_redemptions as repo
from db.repositories import rewards as reward_repo
from db.repositories.holds import Hold
from domain.auth import Principal, Role
from domain.errors import Collector, NotFound
from domain.events import EventType
from domain.idempotency import check_key
from domain.points import TxKind
from domain.rewards.redemption import (
    AlreadyCancelled,
    AlreadyFulfilled,
    NotEligible,
    NotPaid,
    RedemptionStatus,
)
from domain.text import is_clean
from services import members as member_service
from services.clock import now_of
from services.idempotency import run_once
from services.points import expiry
from services.points.holds import CAPTURED, HELD, RELEASED
from services.points.ledger import Entry, actor_of, restore
from services.points.spending import check_reason
from services.rewards.redemption import REWARD, deliver, record_event

ORDER = "ORDER"  # the reference type of a capture's debit (services.points.captures)


async def _locked(
    principal: Principal, redemption_id: int
) -> tuple[RewardRedemption, Member, Programme]:
    """The redemption, locked after its member; open only: a closed one is refused."""
    found = await repo.get(principal.programme_id, redemption_id)
    if found is None or not member_service.can_see(principal, found.member_id):
        raise NotFound("no reward redemption with this id", field="id")
    programme = await programme_repo.get(principal.programme_id)
    member = await expiry.lock(programme, found.member_id)
    row = await repo.lock(principal.programme_id, redemption_id)
    assert row is not None
    if row.status == RedemptionStatus.CANCELLED.value:
        raise AlreadyCancelled("this redemption was cancelled already", field="id")
    if row.status == RedemptionStatus.FULFILLED.value:
        raise AlreadyFulfilled("this redemption was fulfilled already", field="id")
    return row, member, programme


async def _hold(row: RewardRedemption) -> Hold:
    assert row.hold_id is not None
    held, _ = await hold_repo.lock_hold(row.programme_id, row.hold_id, with_order=False)
    assert held is not None
    return held


async def _code_of(row: RewardRedemption) -> str:
    reward = await reward_repo.get(row.programme_id, row.reward_id)
    assert reward is not None
    return reward.code


async def fulfil(
    principal: Principal, *, redemption_id: int, tracking_ref: str | None, idempotency_key: str
) -> RewardRedemption:
    """Staff: the reward was handed over. A cash + points one only once its hold is captured
    (the order paid); its coupon or code is delivered now."""
    errors = Collector()
    check_key(errors, idempotency_key)
    if tracking_ref is not None and not (1 <= len(tracking_ref) <= 128 and is_clean(tracking_ref)):
        errors.add("trackingRef", "must be 1-128 characters, no control characters")
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        row, member, programme = await _locked(principal, redemption_id)
        now = now_of(programme)
        reward = await reward_repo.get(row.programme_id, row.reward_id)
        assert reward is not None
        if row.hold_id is not None:
            if (await _hold(row)).status != CAPTURED:
                raise NotPaid("the order has not paid the points yet (captureHold)", field="id")
            await deliver(row, reward, member, now)
        row.status, row.fulfilled_at = RedemptionStatus.FULFILLED.value, now
        row.tracking_ref = tracking_ref
        await repo.save(row, "status", "fulfilled_at", "tracking_ref", "coupon_id", "digital_code")
        await record_event(row, reward.code, member, EventType.REWARD_FULFILLED, now)
        return {"redemptionId": row.id}

    payload = {"id": redemption_id, "trackingRef": tracking_ref}
    result = await run_once(
        principal,
        key=idempotency_key,
        operation="fulfilRewardRedemption",
        payload=payload,
        action=act,
    )
    return await RewardRedemption.get(id=int(result["redemptionId"]))


async def _give_back_points(row: RewardRedemption, member: Member, entry: Entry) -> int | None:
    """The points return once, with their original expiry: the reward's own debit, or the
    capture of its hold; a hold still open is released. The restore's row id, if any."""
    if row.transaction_id is not None:
        original = await points_repo.get_transaction(row.programme_id, row.transaction_id)
        assert original is not None
        restored = await restore(member, entry, original, TxKind.REVERSE)
        return int(restored.id)
    held = await _hold(row)
    if held.status == HELD:
        member.points_held -= held.amount
        await hold_repo.close(
            held, status=RELEASED, at=entry.at, captured=0, points_held=member.points_held
        )
        return None
    if held.status != CAPTURED:
        return None
    for spent in await points_repo.transactions_of_reference(
        row.programme_id,
        member.id,
        kind=TxKind.REDEEM.value,
        reference_type=ORDER,
        reference=held.order_ref,
    ):
        if -spent.amount == held.captured and await points_repo.reversal_of(spent.id) is None:
            return int((await restore(member, entry, spent, TxKind.REVERSE)).id)
    return None  # the order's own cancel or return gave them back already


async def _call_off(row: RewardRedemption, member: Member, entry: Entry) -> None:
    """Cancel the locked REQUESTED `row` (its member locked first): stock and points back."""
    # CANCELLED first, so the hold released below finds no open redemption to cancel.
    row.status, row.cancelled_at = RedemptionStatus.CANCELLED.value, entry.at
    row.cancel_reason = entry.reason
    await repo.save(row, "status", "cancelled_at", "cancel_reason")
    await repo.give_back_stock(row.reward_id, row.quantity)
    row.restore_transaction_id = await _give_back_points(row, member, entry)
    await repo.save(row, "restore_transaction_id")
    await record_event(row, await _code_of(row), member, EventType.REWARD_CANCELLED, entry.at)


async def cancel_for_erasure(member: Member, entry: Entry) -> None:
    """The member is being erased (its row locked): what it is still owed is called off, so
    the points come back to be forfeited with the rest, and the stock to the catalogue."""
    for row in await repo.requested_of_member(member.id):
        await _call_off(row, member, replace(entry, reference=str(row.id)))


async def cancel(
    principal: Principal, *, redemption_id: int, reason: str, idempotency_key: str
) -> RewardRedemption:
    """Call a REQUESTED redemption off: stock and points back, once (a second cancel is
    ALREADY_CANCELLED and gives nothing). A member may cancel its own points-only ones; a
    cash + points one is the shop's to cancel, since the shop refunds the cash."""
    errors = Collector()
    check_key(errors, idempotency_key)
    check_reason(errors, reason)
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        row, member, programme = await _locked(principal, redemption_id)
        if principal.role is Role.MEMBER and row.hold_id is not None:
            raise NotEligible("the shop cancels a cash + points redemption", field="id")
        entry = Entry(
            REWARD,
            str(row.id),
            reason.strip(),
            actor_of(principal),
            idempotency_key,
            now_of(programme),
        )
        await _call_off(row, member, entry)
        return {"redemptionId": row.id}

    payload = {"id": redemption_id, "reason": reason}
    result = await run_once(
        principal,
        key=idempotency_key,
        operation="cancelRewardRedemption",
        payload=payload,
        action=act,
    )
    return await RewardRedemption.get(id=int(result["redemptionId"]))
