"""Orders earn points: pending while the return window is open, then available; cancels and
returns take back exactly what the affected lines earned. This module holds orders once
recorded: found, locked (member first), completed (completeOrder, or the job when the
return window closes) and cancelled (cancelOrder), and what recording
(services.points.order_recording) and returns (services.points.order_returns) share: the
statuses, the idempotent frame of a change to an order, the spend an order qualifies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from db import tier_cache
from db.models import Member, Order, Programme
from db.repositories import idempotency as key_repo
from db.repositories import order_writes
from db.repositories import orders as order_repo
from db.repositories import points as points_repo
from db.repositories import programmes as programme_repo
from domain.auth import Principal, Role
from domain.challenges import FactKind
from domain.errors import Collector, DomainError, ErrorCode, NotFound
from domain.idempotency import check_key
from domain.points import TxKind, check_order_ref
from services import members as member_service
from services.audit import recording as audit
from services.campaigns import judging
from services.challenges import progress as challenge_progress
from services.challenges.progress import Fact as ChallengeFact
from services.clock import now_of
from services.coupons.checkout import release_for_order
from services.idempotency import run_once_keyed
from services.points import expiry, ledger_rows
from services.points.activity import referrals
from services.points.holds import release_holds_for_order
from services.points.ledger import Entry, actor_of, debit_pending, restore
from services.rewards import holds as reward_holds
from services.tier_evaluation import qualifying_activity

PENDING, COMPLETED, CANCELLED, RETURNED = "PENDING", "COMPLETED", "CANCELLED", "RETURNED"
ORDER = "ORDER"


class OrderClosed(DomainError):
    code = ErrorCode.ORDER_CLOSED


async def find(principal: Principal, order_ref: str) -> Order | None:
    if not order_ref.isprintable():
        return None
    order = await order_repo.get(principal.programme_id, order_ref)
    return (
        order if order is not None and member_service.can_see(principal, order.member_id) else None
    )


async def _find_with_inviter(
    principal: Principal, order_ref: str
) -> tuple[Order | None, tuple[int, str] | None]:
    """`find`, and its member's inviter with their referral's status, in one statement."""
    if not order_ref.isprintable():
        return None, None
    order, inviter = await order_repo.get_with_inviter(principal.programme_id, order_ref)
    if order is None or not member_service.can_see(principal, order.member_id):
        return None, None
    return order, inviter


def _entry(principal: Principal, order: Order, reason: str, key: str | None, at: datetime) -> Entry:
    return Entry(ORDER, order.order_ref, reason, actor_of(principal), key, at)


async def _open_order(principal: Principal, order_ref: str) -> tuple[Order, Member, Programme]:
    """The order and its member, both locked, member first (the order every path uses)."""
    order, inviter = await _find_with_inviter(principal, order_ref)
    if order is None:
        raise NotFound(f"no order {order_ref}", field="orderId")
    programme = await programme_repo.get(principal.programme_id)
    involved = _touched(order.member_id, inviter)
    members = await expiry.lock_many(programme, involved)
    return await lock_order(programme, order), members[order.member_id], programme


async def lock_order_members(programme: Programme, member_id: int) -> dict[int, Member]:
    """Lock the members an order change may touch (`touched_by_orders`) by ascending id, each
    with its expiry booked. Then the order (`lock_order`): every path takes them in this
    order."""
    return await expiry.lock_many(programme, await touched_by_orders(member_id))


async def touched_by_orders(member_id: int) -> set[int]:
    """The member and, when completing or returning its orders can reward or take back a
    referral, its inviter."""
    referral = await referrals.referral_of_member(member_id)
    return _touched(
        member_id, (referral.inviter_id, referral.status) if referral is not None else None
    )


def _touched(member_id: int, inviter: tuple[int, str] | None) -> set[int]:
    """The member, and its inviter (with their referral's status) when that referral may be
    rewarded or taken back."""
    if inviter is not None and inviter[1] in ("PENDING", "REWARDED"):
        return {member_id, inviter[0]}
    return {member_id}


async def lock_order(programme: Programme, order: Order) -> Order:
    locked = await order_repo.lock(programme.id, order.order_ref)
    assert locked is not None
    return locked


async def _complete(
    principal: Principal,
    order: Order,
    member: Member,
    programme: Programme,
    key: str | None,
    reason: str,
    *,
    at: datetime | None = None,
) -> None:
    """The order's points become available and its spend counts for tiers, dated `at`: now
    for a completeOrder, the moment the return window closed for the job's, however late it
    runs."""
    now = at or now_of(programme)
    left = order.points - order.points_reversed
    entry = _entry(principal, order, reason, key, now)
    # Pending becomes available: two EARN rows, one out of each bucket, same reference; they,
    # the balances, the spend and the order's status are written in one statement.
    move = ledger_rows.maturing(member, entry, left, TxKind.EARN, programme) if left else None
    order.status, order.completed_at = COMPLETED, now
    spend = qualifying_spend(order, order.returned_amount)
    member.qualifying_spend += spend
    await order_writes.complete(order, member, move)
    await qualifying_activity.record_activity(
        member,
        programme,
        at=now,
        orders=1,
        reference=order.order_ref,
        **qualifying_activity.order_activity(0, spend),
    )
    await referrals.reward_referral(principal, member, order, programme, now)
    await challenge_progress.count(
        programme,
        member,
        ChallengeFact(FactKind.ORDER, order.order_ref, now, entry.actor),
        lines=lambda: order_repo.lines_of(order.id),
        spend=spend,
    )


async def mature(programme: Programme, order: Order, member: Member) -> bool:
    """The job: an order whose return window closed completes, dated when it closed. The
    caller holds `lock_order_members`; False if the order was settled meanwhile."""
    system = Principal(programme_id=programme.id, role=Role.ADMIN, key_id=0)
    locked = await lock_order(programme, order)
    if locked.status != PENDING:
        return False
    at = locked.matures_at
    await _complete(system, locked, member, programme, None, "return window closed", at=at)
    return True


async def complete(principal: Principal, order_ref: str, *, idempotency_key: str) -> Order:
    async def act() -> Order:
        order, member, programme = await _open_order(principal, order_ref)
        if order.status != PENDING:
            raise OrderClosed(f"order {order_ref} is {order.status.lower()}", field="orderId")
        await _complete(principal, order, member, programme, idempotency_key, "order completed")
        return order

    return await _idempotent(
        principal, "completeOrder", {"orderId": order_ref}, idempotency_key, act
    )


async def _give_back_spent(
    principal: Principal, order: Order, member: Member, entry: Entry
) -> None:
    """Points paid for this order go back with their original expiry, once; holds still open
    for it are released."""
    await release_holds_for_order(member, order.order_ref, entry.at)
    for spent in await points_repo.transactions_of_reference(
        order.programme_id,
        member.id,
        kind=TxKind.REDEEM.value,
        reference_type=ORDER,
        reference=order.order_ref,
    ):
        if await points_repo.reversal_of(spent.id) is None:
            await restore(member, entry, spent, TxKind.REVERSE)
    await reward_holds.order_closed(member, order.order_ref, entry.at)


async def cancel(principal: Principal, order_ref: str, *, idempotency_key: str) -> Order:
    async def act() -> Order:
        order, member, programme = await _open_order(principal, order_ref)
        if order.status != PENDING:
            raise OrderClosed(
                f"order {order_ref} is {order.status.lower()}; return its lines instead",
                field="orderId",
            )
        now = now_of(programme)
        entry = _entry(principal, order, "order cancelled", idempotency_key, now)
        left = order.points - order.points_reversed
        if left:
            await debit_pending(member, entry, left, TxKind.REVERSE)
        order.points_reversed += left
        order.status, order.closed_at = CANCELLED, now
        await order_writes.save(order, "status", "closed_at", "points_reversed")
        await judging.cancel_awards(order.id)
        await _give_back_spent(principal, order, member, entry)
        await release_for_order(member, order.order_ref)
        return order

    return await _idempotent(principal, "cancelOrder", {"orderId": order_ref}, idempotency_key, act)


def qualifying_spend(order: Order, returned: int) -> int:
    """What the member paid for the order's kept items: points-as-cash is not spend. The
    share is taken of the running total, so partial returns add up exactly."""
    kept = order.amount - returned
    if not order.amount:
        return 0
    return int(kept * (order.amount - order.paid_with_points) // order.amount)


async def _idempotent(
    principal: Principal,
    operation: str,
    payload: dict[str, Any],
    key: str,
    act: Callable[[], Awaitable[Order]],
) -> Order:
    errors = Collector()
    check_key(errors, key)
    check_order_ref(errors, str(payload["orderId"]))
    errors.raise_if_any()
    done: list[Order] = []
    # As an audited mutation on PostgreSQL (services.audit.recording.run_audited_inline): its
    # audit row in this transaction, with the change, instead of an outer one around it (whose
    # BEGIN and COMMIT this one's replace, and in which this one was a SAVEPOINT and a
    # RELEASE), written by the statement that stores the key's result
    audited = audit.inline()

    async def action(key_id: int) -> dict[str, Any]:
        order = await act()
        done.append(order)
        result = {"orderId": order.id}
        # the key's result, and the audit row with it (one statement)
        await key_repo.store_result(
            key_id,
            result,
            audit=audited.row(order) if audited else None,
            programme_id=principal.programme_id,
        )
        return result

    result = await run_once_keyed(
        principal, key=key, operation=operation, payload=payload, action=action
    )
    if done and audited:  # committed with it
        audited.wrote()
    # the order as the action left it, no reload; a replay reads it
    order = done[-1] if done else await Order.get(id=int(result["orderId"]))
    # after commit: the change may have moved the member's tier
    await tier_cache.forget_member_tier(principal.programme_id, order.member_id)
    return order
