"""Orders recorded (recordOrder) and previewed (previewOrder): the order as sent, checked
against the programme; its earning by the member's tier and birthday multipliers, with the
campaigns' shares; and its booking, optimistic on PostgreSQL as an audited mutation, else
under the member's lock. Its points wait in the pending bucket until the order completes
(services.points.orders)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from db import tier_cache
from db.models import Member, Programme
from db.repositories import optimistic_orders, order_writes
from db.repositories import orders as order_repo
from db.repositories import programmes as programme_repo
from db.repositories.idempotency import Stored
from db.repositories.members import LockedMember
from db.repositories.orders import NewLine, NewOrder, OrderRecord
from domain.abuse import capped_order
from domain.auth import Principal
from domain.campaigns import CampaignPoints, Channel, OrderFact
from domain.errors import Collector, DomainError, ErrorCode
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
    validate_order,
)
from domain.tiers import BenefitKind
from services import abuse
from services import members as member_service
from services.audit import recording as audit
from services.campaigns import common, judging
from services.clock import now_of
from services.idempotency import (
    OPTIMISTIC_ATTEMPTS,
    outside_a_transaction_on_postgres,
    run_once_on_member,
    run_once_unlocked,
)
from services.points import ledger_rows
from services.points.ledger import Entry, actor_of, policy_of
from services.points.orders import ORDER, PENDING

CLOCK_SKEW = timedelta(minutes=5)


class ReferenceReused(DomainError):
    code = ErrorCode.REFERENCE_REUSED


class _CampaignsApply(Exception):
    """recordOrder's optimistic attempt found a campaign that rewards the order."""


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

    As an audited mutation on PostgreSQL (services.audit.recording.run_audited_inline: no outer
    transaction), optimistically and without a lock: one statement
    reads the member (with its row version), the key stored before and whether the order id
    is taken; the earning is computed here (domain rules); one more writes the key with its
    result, the order, its lines, its ledger row, the balances with their event and the
    audit row (services.audit.recording.inline) — only if the member row is still the version read
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
        seen = await optimistic_orders.seen_for_order(
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
            ledger_rows.pending_credit(member, entry, earned.total, TxKind.EARN)
            if earned.total
            else (None, None)
        )
        new = _new_order(programme, data, member, earned, placed_at, now)
        row = audited.row(order_repo.record_of_new(new, seen.order_id)) if audited else None
        order = await optimistic_orders.record_unless_changed(
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
            ledger_rows.pending_credit(member, entry, earned.total, TxKind.EARN)
            if earned.total
            else (None, None)
        )
        order = await order_writes.record(
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
