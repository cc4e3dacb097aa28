"""Orders earn points: pending while the return window is open, then available; cancels and
returns take back exactly what the affected lines earned."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from db import tier_cache
from db.models import Member, Order, PointTransaction, Programme
from db.repositories import idempotency as key_repo
from db.repositories import orders as order_repo
from db.repositories import points as points_repo
from db.repositories import programmes as programme_repo
from db.repositories.idempotency import Stored
from db.repositories.members import LockedMember
from db.repositories.orders import NewLine, NewOrder, OrderRecord
from domain.abuse import capped_order
from domain.auth import Principal, Role
from domain.campaigns import CampaignPoints, Channel, OrderFact
from domain.challenges import FactKind
from domain.errors import Collector, DomainError, ErrorCode, NotFound, invalid
from domain.idempotency import check_key
from domain.members import check_external_id
from domain.money import is_currency
from domain.points import (
    BASIS,
    Multipliers,
    OrderLine,
    OrderPoints,
    Payment,
    PaymentMethod,
    TxKind,
    check_order_ref,
    in_birthday_month,
    order_points,
    points_to_reverse,
    points_to_take_back,
    validate_order,
)
from domain.tiers import BenefitKind
from services import abuse, audit, tier_evaluation
from services import members as member_service
from services.campaigns import common, judging
from services.challenges import progress as challenge_progress
from services.challenges.progress import Fact as ChallengeFact
from services.clock import now_of
from services.coupons.checkout import release_for_order
from services.idempotency import (
    OPTIMISTIC_ATTEMPTS,
    outside_a_transaction_on_postgres,
    run_once_keyed,
    run_once_on_member,
    run_once_unlocked,
)
from services.points import activity, ledger
from services.points.holds import release_holds_for_order
from services.points.ledger import (
    Entry,
    actor_of,
    debit_pending,
    expired_of,
    policy_of,
    restore,
    take_back,
)
from services.rewards import holds as reward_holds

PENDING, COMPLETED, CANCELLED, RETURNED = "PENDING", "COMPLETED", "CANCELLED", "RETURNED"
ORDER = "ORDER"
CLOCK_SKEW = timedelta(minutes=5)


class ReferenceReused(DomainError):
    code = ErrorCode.REFERENCE_REUSED


class _CampaignsApply(Exception):
    """recordOrder's optimistic attempt found a campaign that rewards the order."""


class OrderClosed(DomainError):
    code = ErrorCode.ORDER_CLOSED


class ReturnExceedsPurchase(DomainError):
    code = ErrorCode.RETURN_EXCEEDS_PURCHASE


class CurrencyMismatch(DomainError):
    code = ErrorCode.CURRENCY_MISMATCH


@dataclass(frozen=True)
class OrderInput:
    order_ref: str
    member_external_id: str
    placed_at: datetime | None  # None: now, by the programme's clock
    currency: str | None
    lines: list[OrderLine]
    payments: list[Payment]
    channel: Channel = Channel.ONLINE

    def payload(self) -> dict[str, Any]:
        sent = {
            "orderId": self.order_ref,
            "member": self.member_external_id,
            # as sent: a retry without placedAt is the same request, whatever the time
            "placedAt": self.placed_at.isoformat() if self.placed_at else None,
            "currency": self.currency,
            "lines": [line.__dict__ for line in self.lines],
            "payments": [[p.method.value, p.amount] for p in self.payments],
        }
        if self.channel is not Channel.ONLINE:  # so keys stored before channels still match
            sent["channel"] = self.channel.value
        return sent

    def fact(self, earned: OrderPoints) -> OrderFact:
        """The order as campaigns judge it, with its base earning."""
        return OrderFact(tuple(self.lines), tuple(self.payments), self.channel, earned)


def _validate(data: OrderInput, programme: Programme) -> None:
    errors = Collector()
    check_order_ref(errors, data.order_ref)
    check_external_id(errors, data.member_external_id)
    if data.placed_at is None:
        pass
    elif data.placed_at.tzinfo is None:
        errors.add("placedAt", "needs a time zone")
    elif data.placed_at > now_of(programme) + CLOCK_SKEW:
        errors.add("placedAt", "is in the future")
    if data.currency is not None and not is_currency(data.currency):
        errors.add("currency", "is not an ISO 4217 currency code")
    validate_order(data.lines, data.payments, errors)
    errors.raise_if_any()
    if data.currency is not None and data.currency != programme.currency:
        raise CurrencyMismatch(f"this programme books in {programme.currency}", field="currency")


async def _multipliers(
    programme: Programme, member: Member | LockedMember, placed_at: datetime
) -> Multipliers:
    tier = await tier_cache.tier_by_id(programme.id, member.tier_id)
    benefits = {b.kind: b.value for b in tier.benefits} if tier else {}
    local = placed_at.astimezone(ZoneInfo(programme.timezone))
    birthday = in_birthday_month(member.birthday_month, local)
    return Multipliers(
        tier=benefits.get(BenefitKind.POINTS_MULTIPLIER, BASIS),
        birthday=benefits.get(BenefitKind.BIRTHDAY_MULTIPLIER, BASIS) if birthday else BASIS,
    )


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


@dataclass(frozen=True)
class OrderPreview:
    earned: OrderPoints  # the campaigns' shares included, as CAMPAIGN rules
    campaigns: CampaignPoints  # each active campaign for orders: applied, or why not


async def preview(principal: Principal, data: OrderInput) -> OrderPreview:
    """What recordOrder would book, rule by rule and campaign by campaign, without writing
    anything (budgets are read, not spent)."""
    programme = await programme_repo.get(principal.programme_id)
    _validate(data, programme)
    member = await member_service.target(principal, data.member_external_id)
    policy = policy_of(programme)
    placed_at = data.placed_at or now_of(programme)
    earned = order_points(
        data.lines, data.payments, policy, await _multipliers(programme, member, placed_at)
    )
    campaigns = await judging.preview(programme, member, data.fact(earned), placed_at)
    return OrderPreview(judging.with_campaigns(earned, campaigns), campaigns)


def _new_order(
    programme: Programme,
    data: OrderInput,
    member: LockedMember,
    earned: OrderPoints,
    placed_at: datetime,
    now: datetime,
) -> NewOrder:
    policy = policy_of(programme)
    return NewOrder(
        programme_id=programme.id,
        member_id=member.id,
        order_ref=data.order_ref,
        status=PENDING,
        currency=programme.currency,
        placed_at=placed_at,
        recorded_at=now,
        matures_at=max(placed_at, now) + timedelta(days=policy.return_window_days),
        amount=earned.amount,
        paid_with_points=sum(p.amount for p in data.payments if p.method is PaymentMethod.POINTS),
        points=earned.total,
        channel=data.channel.value,
        lines=[
            NewLine(
                sku=line.sku,
                category=line.category,
                unit_price=line.unit_price,
                quantity=line.quantity,
                discounted=line.discounted,
                points=points.points,
                rules=[r.stored() for r in points.rules],
            )
            for line, points in zip(data.lines, earned.lines, strict=True)
        ],
    )


async def record(principal: Principal, data: OrderInput, *, idempotency_key: str) -> OrderRecord:
    """Book an order, at the database's pace.

    As an audited mutation on PostgreSQL (services.audit.run_audited_inline: no outer
    transaction), optimistically and without a lock: one statement
    reads the member (with its row version), the key stored before and whether the order id
    is taken; the earning is computed here (domain rules); one more writes the key with its
    result, the order, its lines, its ledger row, the balances with their event and the
    audit row (services.audit.inline) — only if the member row is still the version read
    (services.idempotency.run_once_unlocked). A member changed meanwhile is read again, up
    to OPTIMISTIC_ATTEMPTS times, then locked.

    Locking (SQLite, inside a caller's transaction, called directly, with an abuse policy
    for orders, or after those attempts): the key is claimed and the member locked in one
    statement, and the same writes go in one more. An abuse policy for orders adds one read
    under the lock, and a write only when it holds points or flags the member."""
    errors = Collector()
    check_key(errors, idempotency_key)
    errors.raise_if_any()
    programme = await programme_repo.get(principal.programme_id)
    _validate(data, programme)
    policy = policy_of(programme)
    audited = audit.inline()
    # none when no campaign for orders runs at the order's time: the usual case, read from
    # memory, and the only one the optimistic way below takes
    campaigns = await judging.order_campaigns(programme, data.placed_at or now_of(programme))

    async def replay(result: dict[str, Any]) -> OrderRecord:
        return await order_repo.record_by_id(int(result["orderId"]))

    async def attempt(claim: list[Any]) -> tuple[Stored | None, OrderRecord | None]:
        seen = await order_repo.seen_for_order(
            claim,
            data.member_external_id,
            data.order_ref,
            audience=bool(campaigns),
            orders_up_to=common.most_orders_asked(campaigns),
        )
        if seen.stored is not None:
            return seen.stored, None
        member = member_service.visible_locked(principal, seen.member, field="memberExternalId")
        if seen.ref_taken:
            raise ReferenceReused(f"order {data.order_ref} was recorded already", field="orderId")
        assert seen.order_id is not None and seen.version is not None
        now = now_of(programme)
        placed_at = data.placed_at or now
        earned = order_points(
            data.lines, data.payments, policy, await _multipliers(programme, member, placed_at)
        )
        if campaigns and await judging.would_give(
            programme, member, data.fact(earned), placed_at, campaigns, read=seen.audience
        ):
            raise _CampaignsApply  # nothing written yet: booked under the lock instead
        entry = Entry(
            ORDER, data.order_ref, "order placed", actor_of(principal), idempotency_key, now
        )
        credit, event = (
            ledger.pending_credit(member, entry, earned.total, TxKind.EARN)
            if earned.total
            else (None, None)
        )
        new = _new_order(programme, data, member, earned, placed_at, now)
        row = audited.row(order_repo.record_of_new(new, seen.order_id)) if audited else None
        order = await order_repo.record_unless_changed(
            new,
            order_id=seen.order_id,
            version=seen.version,
            claim=claim,
            credit=credit,
            event=event,
            available=credit.available_after if credit else member.points_available,
            pending=credit.pending_after if credit else member.points_pending,
            audit=row,
        )
        if order is not None and audited:
            audited.wrote()
        return None, order

    # Only as a staff mutation of the API (its audit row rides with the write): a direct
    # caller (seeding, a script, the service tests) keeps the locking way.
    # An order some campaign rewards is booked under the member's lock (its caps and budgets
    # are spent there); one that campaigns running now leave alone stays optimistic.
    if audited and outside_a_transaction_on_postgres() and not abuse.judges_orders(programme):
        try:
            done = await run_once_unlocked(
                principal,
                key=idempotency_key,
                operation="recordOrder",
                payload=data.payload(),
                attempt=attempt,
                replay=replay,
                attempts=OPTIMISTIC_ATTEMPTS,
            )
        except _CampaignsApply:
            done = None
        if done is not None:
            return done

    booked: list[OrderRecord] = []

    async def book(key_id: int, locked: LockedMember | None) -> OrderRecord:
        member = member_service.visible_locked(principal, locked, field="memberExternalId")
        now = now_of(programme)
        placed_at = data.placed_at or now
        earned = order_points(
            data.lines, data.payments, policy, await _multipliers(programme, member, placed_at)
        )
        # under the member's lock: its caps hold against its own racing orders
        given = await judging.book(programme, member, data.fact(earned), placed_at, campaigns)
        base, earned = earned, judging.with_campaigns(earned, given)
        limits = await abuse.judge_order(programme, member.id, earned.total, now)
        if given.applied and limits.credit < earned.total:
            # the campaigns keep only what the cap credits beyond the base; what they lose is
            # neither theirs to count nor the order's to hold for review
            kept = await judging.kept_by_cap(given, limits.credit - base.total)
            limits = abuse.without_held(limits, given.total - kept.total)
            given, earned = kept, judging.with_campaigns(base, kept)
        earned = capped_order(earned, limits.credit)
        reason = judging.reason_of("order placed", given)
        entry = Entry(ORDER, data.order_ref, reason, actor_of(principal), idempotency_key, now)
        credit, event = (
            ledger.pending_credit(member, entry, earned.total, TxKind.EARN)
            if earned.total
            else (None, None)
        )
        order = await order_repo.record(
            _new_order(programme, data, member, earned, placed_at, now),
            key_id=key_id,
            credit=credit,
            event=event,
        )
        if order is None:
            # the id is taken: by an order recorded before, or by another member's a moment
            # ago (each holds only its own member's lock); the unique index decides both.
            # Inside a caller's transaction the refusal may commit: the budgets spent go back.
            await judging.give_back(given)
            raise ReferenceReused(f"order {data.order_ref} was recorded already", field="orderId")
        await judging.record_awards(programme, member, order, given, now)
        await abuse.apply_order_limits(programme, member.id, limits, now)
        if audited:  # in this transaction, with the order
            await audit.write_inline(audited, order)
        booked.append(order)
        return order

    recorded: OrderRecord = await run_once_on_member(
        principal,
        key=idempotency_key,
        operation="recordOrder",
        payload=data.payload(),
        member_external_id=data.member_external_id,
        action=book,
        replay=replay,
    )
    if booked and audited:  # committed with it
        audited.wrote()
    return recorded


def _entry(principal: Principal, order: Order, reason: str, key: str | None, at: datetime) -> Entry:
    return Entry(ORDER, order.order_ref, reason, actor_of(principal), key, at)


async def _open_order(principal: Principal, order_ref: str) -> tuple[Order, Member, Programme]:
    """The order and its member, both locked, member first (the order every path uses)."""
    order, inviter = await _find_with_inviter(principal, order_ref)
    if order is None:
        raise NotFound(f"no order {order_ref}", field="orderId")
    programme = await programme_repo.get(principal.programme_id)
    involved = _touched(order.member_id, inviter)
    members = await ledger.lock_many(programme, involved)
    return await lock_order(programme, order), members[order.member_id], programme


async def lock_order_members(programme: Programme, member_id: int) -> dict[int, Member]:
    """Lock the members an order change may touch (`touched_by_orders`) by ascending id, each
    with its expiry booked. Then the order (`lock_order`): every path takes them in this
    order."""
    return await ledger.lock_many(programme, await touched_by_orders(member_id))


async def touched_by_orders(member_id: int) -> set[int]:
    """The member and, when completing or returning its orders can reward or take back a
    referral, its inviter."""
    referral = await activity.referral_of_member(member_id)
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
    move = ledger.maturing(member, entry, left, TxKind.EARN, programme) if left else None
    order.status, order.completed_at = COMPLETED, now
    spend = qualifying_spend(order, order.returned_amount)
    member.qualifying_spend += spend
    await order_repo.complete(order, member, move)
    await tier_evaluation.record_activity(
        member,
        programme,
        at=now,
        orders=1,
        reference=order.order_ref,
        **tier_evaluation.order_activity(0, spend),
    )
    await activity.reward_referral(principal, member, order, programme, now)
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
        await order_repo.save(order, "status", "closed_at", "points_reversed")
        await judging.cancel_awards(order.id)
        await _give_back_spent(principal, order, member, entry)
        await release_for_order(member, order.order_ref)
        return order

    return await _idempotent(principal, "cancelOrder", {"orderId": order_ref}, idempotency_key, act)


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
            await order_repo.save_line(line, "returned_quantity", "points_reversed")
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
                await activity.reverse_review(principal, member, order, wanted.sku, policy, entry)
        if order.status == COMPLETED:
            returned_before = order.returned_amount
            returned_after = returned_before + amount
            member.qualifying_spend -= qualifying_spend(order, returned_before) - qualifying_spend(
                order, returned_after
            )
            await member.save(update_fields=["qualifying_spend"])
            assert order.completed_at is not None
            await tier_evaluation.record_return(
                member,
                programme,
                completed_at=order.completed_at,  # so windows net it out with the completion
                orders=-1 if whole else 0,
                reference=order.order_ref,
                **tier_evaluation.order_activity(
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
            await activity.reverse_referral(principal, order, programme, entry)
        await order_repo.save(order, *fields)
        await abuse.check_returns(programme, member, now)
        return order

    return await _idempotent(principal, "returnOrderLines", payload, idempotency_key, act)


def qualifying_spend(order: Order, returned: int) -> int:
    """What the member paid for the order's kept items: points-as-cash is not spend. The
    share is taken of the running total, so partial returns add up exactly."""
    kept = order.amount - returned
    if not order.amount:
        return 0
    return int(kept * (order.amount - order.paid_with_points) // order.amount)


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
    # As an audited mutation on PostgreSQL (services.audit.run_audited_inline): its audit row
    # in this transaction, with the change, instead of an outer one around it (whose BEGIN
    # and COMMIT this one's replace, and in which this one was a SAVEPOINT and a RELEASE),
    # written by the statement that stores the key's result
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
