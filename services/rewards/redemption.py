"""Redeeming a reward from the catalogue: points only (spent at once) or cash + points (the
points held for the shop's order, captured when it is paid)."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from db.models import Member, Programme, RewardRedemption
from db.repositories import holds as hold_repo
from db.repositories import partners as partner_repo
from db.repositories import programmes as programme_repo
from db.repositories import reward_redemptions as repo
from db.repositories import rewards as reward_repo
from domain.auth import Principal, Role
from domain.errors import Collector, NotFound, invalid
from domain.events import EventType, reward_redemption_payload
from domain.idempotency import check_key
from domain.members import check_external_id
from domain.partners import PartnerStatus, PartnerSuspended
from domain.points import TxKind, check_order_ref
from domain.rewards import Reward, RewardKind
from domain.rewards.redemption import (
    MAX_QUANTITY,
    NotEligible,
    OutOfStock,
    Quote,
    RedemptionStatus,
    RewardRetired,
    check_cash,
    check_items,
    check_limit,
    check_open,
    period_start,
    quote,
)
from services import events as event_service
from services import members as member_service
from services.clock import now_of, zone_of
from services.coupons.issuance import Holder, check_reward_coupon, issue_for_reward
from services.idempotency import run_once
from services.partners.access import NotLinked
from services.points.ledger import (
    Entry,
    actor_of,
    debit_available,
    policy_of,
    require_spendable,
    spendable,
)
from services.points.spending import locked_member

REWARD = "REWARD"  # the ledger's reference type of a reward's debit; the reference: its id


@dataclass(frozen=True)
class RewardQuote:
    quote: Quote
    affordable: bool


def check_code(errors: Collector, code: str, field: str = "code") -> None:
    if not 1 <= len(code) <= 32 or not code.isprintable():
        errors.add(field, "must be 1-32 printable characters")


def check_quantity(errors: Collector, quantity: int) -> None:
    if not 1 <= quantity <= MAX_QUANTITY:
        errors.add("quantity", f"must be 1-{MAX_QUANTITY}")


def new_digital_code() -> str:
    """80 random bits as 16 letters and digits: unguessable, and unique by their size."""
    return base64.b32encode(secrets.token_bytes(10)).decode()


def event_payload(row: RewardRedemption, reward_code: str, member: Member) -> dict[str, Any]:
    return reward_redemption_payload(
        external_id=member.external_id,
        redemption_id=row.id,
        reward_code=reward_code,
        quantity=row.quantity,
        points=row.points,
        cash=row.cash,
        status=row.status,
        order_id=row.order_ref,
    )


async def record_event(
    row: RewardRedemption, reward_code: str, member: Member, type: EventType, at: datetime
) -> None:
    """In the caller's transaction, which holds the member's row lock."""
    await event_service.record(
        row.programme_id,
        type,
        event_payload(row, reward_code, member),
        occurred_at=at,
        member_id=member.id,
    )


async def _reward(programme_id: int, code: str) -> Reward:
    reward = await reward_repo.get_by_code(programme_id, code)
    if reward is None:
        raise NotFound("no reward with this code", field="code")
    return reward


async def quote_for(
    principal: Principal, *, code: str, quantity: int, member_external_id: str | None
) -> RewardQuote:
    """What `quantity` items cost, and whether the member's spendable points cover it now."""
    errors = Collector()
    check_code(errors, code)
    check_quantity(errors, quantity)
    if member_external_id is not None:
        check_external_id(errors, member_external_id)
    errors.raise_if_any()
    programme = await programme_repo.get(principal.programme_id)
    reward = await _reward(programme.id, code)
    check_items(reward, quantity)  # a quote for what redeemReward would refuse is no quote
    priced = quote(reward, quantity, programme.currency)
    member = await member_service.target(principal, member_external_id)
    return RewardQuote(priced, spendable(member) >= priced.points)


async def _check_terms(
    reward: Reward, member: Member, programme: Programme, *, quantity: int, order_ref: str | None
) -> None:
    """Every check that reads, in the order a member would want to hear them."""
    now = now_of(programme)
    check_open(reward, now, member.tier_id)
    check_items(reward, quantity)
    if reward.cash_and_points and order_ref is None:
        raise invalid("orderId", "a cash + points reward is paid with a shop order: give its id")
    if not reward.cash_and_points and order_ref is not None:
        raise invalid("orderId", "a points-only reward takes no order id")
    if reward.per_member_limit is not None:
        since = period_start(reward.limit_period, now, zone_of(programme))
        check_limit(reward, await repo.redeemed_since(reward.id, member.id, since), quantity)


async def _check_partner(reward: Reward, member: Member) -> None:
    """A PARTNER reward's units are credited at the partner: the member must be linked with
    it, and it must be active (a suspended partner credits nothing, so no points go on it)."""
    assert reward.partner_id is not None
    if await partner_repo.active_link_of_member(reward.partner_id, member.id) is None:
        raise NotLinked("the member has no account linked with the partner", field="code")
    partner = await partner_repo.get(reward.programme_id, reward.partner_id)
    if partner is None or partner.status != PartnerStatus.ACTIVE.value:
        raise PartnerSuspended("the reward's partner is suspended", field="code")


async def _take_stock(reward: Reward, quantity: int) -> None:
    if not await repo.take_stock(reward.id, quantity):
        fresh = await reward_repo.get(reward.programme_id, reward.id)
        if fresh is not None and fresh.status.value != "ACTIVE":
            raise RewardRetired("this reward was retired", field="code")
        raise OutOfStock("this reward has too few items left", field="quantity")


async def _pay_points(
    principal: Principal,
    row: RewardRedemption,
    member: Member,
    programme: Programme,
    *,
    reward: Reward,
    key: str,
    now: datetime,
) -> None:
    """Points only: spent now, soonest-expiring lots first. Cash + points: held for the
    shop's order as holdPoints holds them; captureHold spends them when the order is paid."""
    if row.order_ref is None:
        entry = Entry(REWARD, str(row.id), f"reward {reward.code}", actor_of(principal), key, now)
        tx = await debit_available(member, entry, row.points, TxKind.REDEEM)
        row.transaction_id = tx.id
        return
    member.points_held += row.points
    held = await hold_repo.create_held(
        programme_id=programme.id,
        member_id=member.id,
        order_ref=row.order_ref,
        amount=row.points,
        at=now,
        expires_at=now + timedelta(minutes=policy_of(programme).hold_minutes),
        points_held=member.points_held,
    )
    row.hold_id = held.id


async def deliver(row: RewardRedemption, reward: Reward, member: Member, now: datetime) -> bool:
    """Hand over what needs no person: a COUPON's coupon, a DIGITAL code. True when done (the
    redemption is then FULFILLED); PRODUCT and PARTNER wait for fulfilRewardRedemption."""
    if reward.kind is RewardKind.COUPON:
        assert reward.coupon_template_id is not None
        row.coupon_id = await issue_for_reward(
            row.programme_id,
            Holder(member.id, member.external_id),
            reward.coupon_template_id,
            now=now,
            points_transaction_id=row.transaction_id,
        )
        return True
    if reward.kind is RewardKind.DIGITAL:
        row.digital_code = new_digital_code()
        return True
    return False


async def redeem(
    principal: Principal,
    *,
    code: str,
    quantity: int,
    idempotency_key: str,
    member_external_id: str | None,
    order_ref: str | None,
    cash: int | None,
) -> RewardRedemption:
    """Redeem `quantity` items of a reward, all in one transaction under the member's row lock
    (so a member's racing redemptions see each other's limit and balance) and the reward's
    conditional stock UPDATE (so racing members never take more than the stock)."""
    errors = Collector()
    check_key(errors, idempotency_key)
    check_code(errors, code)
    check_quantity(errors, quantity)
    if member_external_id is not None:
        check_external_id(errors, member_external_id)
    if order_ref is not None:
        check_order_ref(errors, order_ref)
    if cash is not None and cash < 0:
        errors.add("cash", "must not be negative")
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        programme = await programme_repo.get(principal.programme_id)
        member = await locked_member(principal, programme, member_external_id)
        reward = await _reward(programme.id, code)
        if reward.cash_and_points and principal.role is Role.MEMBER:
            # Its points are held for the shop's order, as holdPoints (staff only) holds them.
            raise NotEligible(
                "the shop redeems a cash + points reward, with its order", field="code"
            )
        await _check_terms(reward, member, programme, quantity=quantity, order_ref=order_ref)
        priced = quote(reward, quantity, programme.currency)
        check_cash(priced, cash)
        require_spendable(member, priced.points, field="quantity")
        if reward.kind is RewardKind.PARTNER:
            await _check_partner(reward, member)
        if reward.kind is RewardKind.COUPON:
            assert reward.coupon_template_id is not None
            await check_reward_coupon(programme.id, member, reward.coupon_template_id)
        await _take_stock(reward, quantity)
        now = now_of(programme)
        row = await repo.insert(
            programme_id=programme.id,
            reward_id=reward.id,
            member_id=member.id,
            quantity=quantity,
            points=priced.points,
            cash=priced.cash,
            status=RedemptionStatus.REQUESTED.value,
            order_ref=order_ref,
            requested_at=now,
        )
        await _pay_points(
            principal, row, member, programme, reward=reward, key=idempotency_key, now=now
        )
        # A cash + points reward is handed over only once its order is paid (at fulfilment).
        if not reward.cash_and_points and await deliver(row, reward, member, now):
            row.status, row.fulfilled_at = RedemptionStatus.FULFILLED.value, now
        await repo.save(
            row, "transaction_id", "hold_id", "coupon_id", "digital_code", "status", "fulfilled_at"
        )
        await record_event(row, reward.code, member, EventType.REWARD_REDEEMED, now)
        return {"redemptionId": row.id}

    payload = {
        "code": code,
        "quantity": quantity,
        "member": member_external_id,
        "orderId": order_ref,
        "cash": cash,
    }
    result = await run_once(
        principal, key=idempotency_key, operation="redeemReward", payload=payload, action=act
    )
    return await RewardRedemption.get(id=int(result["redemptionId"]))
