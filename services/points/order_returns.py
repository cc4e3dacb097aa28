"""Order lines returned (returnOrderLines): what each line earned is taken back in
proportion, from the pending bucket or, once completed, from what is left of its earning
(expired points are not taken twice); a whole return gives back the points paid for the
order and closes it; the member's qualifying spend, tier activity and challenge progress
net out what was returned."""

from __future__ import annotations

from dataclasses import dataclass

from db.models import Member, Order, PointTransaction
from db.repositories import order_writes
from db.repositories import orders as order_repo
from db.repositories import points as points_repo
from domain.auth import Principal
from domain.challenges import FactKind
from domain.errors import Collector, DomainError, ErrorCode, invalid
from domain.idempotency import check_key
from domain.points import TxKind, check_order_ref, points_to_reverse, points_to_take_back
from services import abuse
from services.campaigns import judging
from services.challenges import progress as challenge_progress
from services.challenges.progress import Fact as ChallengeFact
from services.clock import now_of
from services.points.activity import referrals, reviews
from services.points.ledger import debit_pending, expired_of, policy_of, take_back
from services.points.orders import (
    COMPLETED,
    ORDER,
    PENDING,
    RETURNED,
    OrderClosed,
    _entry,
    _give_back_spent,
    _idempotent,
    _open_order,
    qualifying_spend,
)
from services.tier_evaluation import qualifying_activity


class ReturnExceedsPurchase(DomainError):
    code = ErrorCode.RETURN_EXCEEDS_PURCHASE


@dataclass(frozen=True)
class ReturnLine:
    sku: str
    quantity: int


async def return_lines(
    principal: Principal, order_ref: str, lines: list[ReturnLine], *, idempotency_key: str
) -> Order:
    errors = Collector()
    check_key(errors, idempotency_key)
    check_order_ref(errors, order_ref)
    if not 1 <= len(lines) <= 500:
        errors.add("lines", "return 1-500 lines")
    if len({line.sku for line in lines}) != len(lines):
        errors.add("lines", "each sku appears once")
    for n, line in enumerate(lines):
        if not 1 <= line.quantity <= 10_000:
            errors.add(f"lines.{n}.quantity", "must be 1-10000")
    errors.raise_if_any()
    payload = {"orderId": order_ref, "lines": [[line.sku, line.quantity] for line in lines]}

    async def act() -> Order:
        order, member, programme = await _open_order(principal, order_ref)
        if order.status not in (PENDING, COMPLETED):
            raise OrderClosed(f"order {order_ref} is {order.status.lower()}", field="orderId")
        bought = {line.sku: line for line in await order_repo.lines_of(order.id)}
        wanted_points: list[int] = []
        amount = 0
        for n, wanted in enumerate(lines):
            line = bought.get(wanted.sku)
            if line is None:
                raise invalid(f"lines.{n}.sku", f"order {order_ref} has no line {wanted.sku}")
            returnable = line.quantity - line.returned_quantity
            if wanted.quantity > returnable:
                raise ReturnExceedsPurchase(
                    f"{returnable} of {wanted.sku} can still be returned",
                    field=f"lines.{n}.quantity",
                )
            wanted_points.append(
                points_to_reverse(
                    line.points, line.quantity, line.returned_quantity, wanted.quantity
                )
            )
            amount += line.unit_price * wanted.quantity
        earned = await _earning_of(order, member) if order.status == COMPLETED else None
        if earned is not None:
            taken = points_to_take_back(
                wanted_points,
                unreversed=order.points - order.points_reversed,
                expired=await expired_of(earned),
            )
        else:
            taken = wanted_points  # pending points cannot have expired
        await judging.take_back_returned(order.id, [(bought[w.sku], w.quantity) for w in lines])
        for wanted, take in zip(lines, taken, strict=True):
            line = bought[wanted.sku]
            line.returned_quantity += wanted.quantity
            line.points_reversed += take
            await order_writes.save_line(line, "returned_quantity", "points_reversed")
        reverse = sum(taken)
        now = now_of(programme)
        policy = policy_of(programme)
        entry = _entry(principal, order, "order lines returned", idempotency_key, now)
        whole = all(line.returned_quantity == line.quantity for line in bought.values())
        if whole:
            # Points paid for the order come back first, so the clawback below draws on them
            # rather than leaving a debt (or a recorded shortfall) beside them.
            await _give_back_spent(principal, order, member, entry)
        if reverse and order.status == PENDING:
            await debit_pending(member, entry, reverse, TxKind.REVERSE)
        elif reverse:
            assert earned is not None  # a completed order's points were made available
            await take_back(
                member, entry, earned, reverse, negative=policy.negative_policy, whole=False
            )
        for wanted in lines:
            if bought[wanted.sku].returned_quantity == bought[wanted.sku].quantity:
                await reviews.reverse_review(principal, member, order, wanted.sku, policy, entry)
        if order.status == COMPLETED:
            returned_before = order.returned_amount
            returned_after = returned_before + amount
            member.qualifying_spend -= qualifying_spend(order, returned_before) - qualifying_spend(
                order, returned_after
            )
            await member.save(update_fields=["qualifying_spend"])
            assert order.completed_at is not None
            await qualifying_activity.record_return(
                member,
                programme,
                completed_at=order.completed_at,  # so windows net it out with the completion
                orders=-1 if whole else 0,
                reference=order.order_ref,
                **qualifying_activity.order_activity(
                    qualifying_spend(order, returned_before),
                    qualifying_spend(order, returned_after),
                ),
            )
            # what the order added to challenges becomes what its kept items add
            await challenge_progress.recount(
                programme,
                member,
                ChallengeFact(FactKind.ORDER, order.order_ref, now, entry.actor),
                lines=bought.values(),
                spend=qualifying_spend(order, returned_after),
            )
        order.points_reversed += reverse
        order.returned_amount += amount
        fields = ["points_reversed", "returned_amount"]
        if whole:
            order.status, order.closed_at = RETURNED, now
            fields += ["status", "closed_at"]
            await referrals.reverse_referral(principal, order, programme, entry)
        await order_writes.save(order, *fields)
        await abuse.check_returns(programme, member, now)
        return order

    return await _idempotent(principal, "returnOrderLines", payload, idempotency_key, act)


async def _earning_of(order: Order, member: Member) -> PointTransaction | None:
    """The row that made the order's points available (its lot's source), once completed."""
    earned = [
        tx
        for tx in await points_repo.transactions_of_reference(
            order.programme_id,
            member.id,
            kind=TxKind.EARN.value,
            reference_type=ORDER,
            reference=order.order_ref,
        )
        if tx.bucket == "AVAILABLE" and tx.amount > 0
    ]
    return earned[0] if earned else None
