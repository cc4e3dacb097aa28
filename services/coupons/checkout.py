"""Coupons at checkout: validate against a cart, lock to an order, redeem when the order goes
through or release when it does not. A coupon changes state only under its row lock, and only
a live lock for the same order becomes USED: a one-time coupon is redeemed once, whatever
races for it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from db.models import Coupon, Member
from db.repositories import coupons as coupon_repo
from db.repositories import points as points_repo
from db.repositories import programmes as programme_repo
from domain.auth import Principal, Role
from domain.coupons import (
    Cart,
    CouponState,
    CouponStatus,
    Outcome,
    Reason,
    Refusal,
    combine,
    evaluate,
    redeem_refusal,
    release_refusal,
    usable_refusal,
    validate_cart,
)
from domain.coupons.wallet import looks_like_code, normalise_code
from domain.errors import Collector, DomainError, ErrorCode, FieldError, NotFound
from domain.events import EventType, coupon_payload
from domain.idempotency import check_key
from domain.members import is_external_id
from domain.points import check_order_ref
from services import events as event_service
from services import members as member_service
from services.clock import now_of
from services.coupons.templates import rules_of
from services.coupons.wallet import CouponView, load, state_of, view
from services.idempotency import run_once
from services.points.ledger import policy_of

# Why a coupon was refused, by code: validateCoupons' reasons, and the error codes of
# lockCoupon / redeemCoupon / releaseCoupon (the same names, so clients switch on one set).
REFUSAL_TEXT = {
    Reason.BELOW_THRESHOLD: "the eligible items do not reach the coupon's threshold",
    Reason.NOT_ELIGIBLE_TIER: "the member's tier may not use this coupon",
    Reason.CATEGORY_MISMATCH: "no item in the cart is one this coupon covers",
    Reason.NOT_STARTED: "this coupon cannot be used yet",
    Reason.EXPIRED: "this coupon has expired",
    Reason.NOT_STACKABLE: "this coupon cannot be combined with the others on the order",
    Reason.USED: "this coupon was used already",
    Reason.LOCKED: "this coupon is reserved for another order",
    Reason.NOT_OWNER: "this coupon belongs to another member",
    Reason.NO_SHIPPING_FEE: "the cart has no shipping fee to waive",
    Reason.UNKNOWN_CODE: "no coupon with this code",
    Refusal.NOT_LOCKED: "this coupon is not locked to this order",
    Refusal.LOCK_EXPIRED: "the lock on this coupon ran out; lock it again",
}


class CouponRefused(DomainError):
    """The coupon cannot do what was asked; one error per reason, each with its code."""

    def __init__(self, reasons: list[Reason | Refusal], *, field: str) -> None:
        messages = [REFUSAL_TEXT[r] for r in reasons]
        super().__init__("; ".join(messages), field=field)
        self._errors = [
            FieldError(field, ErrorCode(r.value), m) for r, m in zip(reasons, messages, strict=True)
        ]

    @property
    def errors(self) -> list[FieldError]:
        return list(self._errors)


@dataclass(frozen=True)
class CodeCheck:
    code: str
    coupon: CouponView | None
    outcome: Outcome


@dataclass(frozen=True)
class Validation:
    checks: list[CodeCheck]

    @property
    def discount(self) -> int:
        return sum(c.outcome.discount for c in self.checks)

    @property
    def shipping_discount(self) -> int:
        return sum(c.outcome.shipping_discount for c in self.checks)


def _check_codes(errors: Collector, codes: list[str]) -> list[str]:
    normal = [normalise_code(c) for c in codes]
    for n, code in enumerate(normal):
        if not looks_like_code(code):
            errors.add(f"codes.{n}", "not a coupon code")
    return normal


def _refused(*reasons: Reason) -> Outcome:
    return Outcome(False, 0, reasons=reasons)


def _judge(
    row: Coupon, member: Member, cart: Cart, now: datetime, order_ref: str | None
) -> Outcome:
    """One coupon on this member's cart: its state first (used, locked elsewhere), then the
    template's rules (dates, tier, categories, threshold)."""
    if row.member_id != member.id:
        return _refused(Reason.NOT_OWNER)
    state = state_of(row)
    blocked = usable_refusal(state, now, order_ref)
    if blocked in (Reason.USED, Reason.LOCKED):
        return _refused(blocked)
    return evaluate(
        rules_of(row.template),
        cart,
        tier_id=member.tier_id,
        starts=state.starts_at,
        ends=state.ends_at,
        now=now,
    )


async def validate(
    principal: Principal, *, member_external_id: str | None, cart: Cart, codes: list[str]
) -> Validation:
    """Per code: whether it applies to this cart, what it takes off, or every reason not.
    Coupons that apply together follow the stacking rule (`domain.coupons.combine`)."""
    errors = Collector()
    if member_external_id is not None and not is_external_id(member_external_id):
        errors.add("cart.memberExternalId", "not an external id")
    # Codes are compared as they are stored: "abcd-…" and "ABCD-…" are one coupon, once.
    normal = _check_codes(errors, codes)
    validate_cart(cart, normal, errors)
    errors.raise_if_any()
    member = await member_service.target(
        principal, member_external_id, field="cart.memberExternalId"
    )
    now = now_of(await programme_repo.get(principal.programme_id))
    rows = {
        r.code: r
        for r in await coupon_repo.get_by_codes(principal.programme_id, normal)
        # A member's own view: someone else's code is as unknown as a made-up one, so codes
        # cannot be found by trying them (staff keys still see NOT_OWNER).
        if principal.role is not Role.MEMBER or r.member_id == member.id
    }
    judged: list[tuple[Any, Outcome]] = []
    for code in normal:
        row = rows.get(code)
        if row is None:
            judged.append((None, _refused(Reason.UNKNOWN_CODE)))
        else:
            judged.append((rules_of(row.template), _judge(row, member, cart, now, None)))
    applying = [(t, o) for t, o in judged if t is not None]
    combined = iter(combine(applying, cart))
    outcomes = [next(combined) if t is not None else o for t, o in judged]
    return Validation(
        [
            CodeCheck(
                code,
                view(rows[code], now)
                if code in rows and rows[code].member_id == member.id
                else None,
                outcome,
            )
            for code, outcome in zip(normal, outcomes, strict=True)
        ]
    )


async def _find(principal: Principal, code: str) -> Coupon:
    row = await coupon_repo.get_by_code(principal.programme_id, code)
    if row is None or not member_service.can_see(principal, row.member_id):
        raise NotFound("no coupon with this code", field="code")
    return row


def _check_call(errors: Collector, key: str, code: str, order_ref: str) -> str:
    check_key(errors, key)
    check_order_ref(errors, order_ref)
    normal = normalise_code(code)
    if not looks_like_code(normal):
        errors.add("code", "not a coupon code")
    return normal


async def lock(
    principal: Principal,
    *,
    code: str,
    order_ref: str,
    cart: Cart | None,
    idempotency_key: str,
) -> CouponView:
    """Reserve a coupon for one order until the programme's hold time runs out. With a cart,
    the coupon must apply to it (and the discount is kept); coupons already locked to the
    order must stack with it. Locking again for the same order renews the lock."""
    errors = Collector()
    normal = _check_call(errors, idempotency_key, code, order_ref)
    if cart is not None:
        validate_cart(cart, [normal], errors)
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        found = await _find(principal, normal)
        # Member first, then coupon (as every path that holds both does): one order's locks
        # are decided one at a time, so two exclusive coupons cannot both get on it.
        member = await points_repo.lock_member(principal.programme_id, found.member_id)
        row = await coupon_repo.lock(principal.programme_id, found.id)
        programme = await programme_repo.get(principal.programme_id)
        now = now_of(programme)
        blocked = usable_refusal(state_of(row), now, order_ref)
        if blocked is not None:
            raise CouponRefused([blocked], field="code")
        rules = rules_of(row.template)
        if rules.eligible_tiers and member.tier_id not in rules.eligible_tiers:
            raise CouponRefused([Reason.NOT_ELIGIBLE_TIER], field="code")
        others = [
            c
            for c in await coupon_repo.live_locks_for_order(member.id, order_ref, now)
            if c.id != row.id
        ]
        if others and not (rules.stackable and all(c.template.stackable for c in others)):
            raise CouponRefused([Reason.NOT_STACKABLE], field="code")
        discount = None
        if cart is not None:
            outcome = _judge(row, member, cart, now, order_ref)
            if not outcome.applies:
                raise CouponRefused(list(outcome.reasons), field="cart")
            # The coupons already on the order first, this one after them, by the same rule
            # as validateCoupons: together never more than the cart is worth.
            on_order = [
                (rules_of(c.template), _judge(c, member, cart, now, order_ref)) for c in others
            ]
            last = combine([*on_order, (rules, outcome)], cart)[-1]
            discount = last.discount + last.shipping_discount
        row.status, row.order_ref, row.locked_at = CouponStatus.LOCKED.value, order_ref, now
        row.lock_expires_at = now + timedelta(minutes=policy_of(programme).hold_minutes)
        row.discount = discount
        await coupon_repo.save(
            row, "status", "order_ref", "locked_at", "lock_expires_at", "discount"
        )
        return {"couponId": row.id}

    payload = {"code": normal, "orderId": order_ref, "cart": _cart_payload(cart)}
    result = await run_once(
        principal, key=idempotency_key, operation="lockCoupon", payload=payload, action=act
    )
    return (await load(principal.programme_id, [int(result["couponId"])]))[0]


def _cart_payload(cart: Cart | None) -> Any:
    if cart is None:
        return None
    lines = [[x.sku, x.category, x.unit_price, x.quantity] for x in cart.lines]
    return {"lines": lines, "shippingFee": cart.shipping_fee}


async def redeem(
    principal: Principal, *, code: str, order_ref: str, idempotency_key: str
) -> CouponView:
    """The order went through: the coupon locked to it is used. Only once."""

    async def use(row: Coupon, member: Member, now: datetime) -> None:
        row.status, row.used_at = CouponStatus.USED.value, now
        await coupon_repo.save(row, "status", "used_at")
        await event_service.record(
            row.programme_id,
            EventType.COUPON_REDEEMED,
            coupon_payload(
                external_id=member.external_id,
                code=row.code,
                template=row.template.code,
                title=row.template.title,
                order_ref=order_ref,
                discount=row.discount,
            ),
            occurred_at=now,
            member_id=member.id,
        )

    return await _settle(
        principal, "redeemCoupon", code, order_ref, idempotency_key, redeem_refusal, use
    )


async def release(
    principal: Principal, *, code: str, order_ref: str, idempotency_key: str
) -> CouponView:
    """The order was abandoned or cancelled: the coupon is the member's to use again."""

    async def unlock(row: Coupon, member: Member, now: datetime) -> None:
        await _unlock(row)

    return await _settle(
        principal, "releaseCoupon", code, order_ref, idempotency_key, release_refusal, unlock
    )


async def _settle(
    principal: Principal,
    operation: str,
    code: str,
    order_ref: str,
    idempotency_key: str,
    refusal_of: Callable[[CouponState, str, datetime], Refusal | None],
    change: Callable[[Coupon, Member, datetime], Awaitable[None]],
) -> CouponView:
    """End a coupon's lock one way or the other, under the coupon's row lock."""
    errors = Collector()
    normal = _check_call(errors, idempotency_key, code, order_ref)
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        found = await _find(principal, normal)
        # Member first, then coupon (as in `lock`): a redemption's event takes the member's
        # next number under the member's row lock.
        member = await points_repo.lock_member(principal.programme_id, found.member_id)
        row = await coupon_repo.lock(principal.programme_id, found.id)
        now = now_of(await programme_repo.get(principal.programme_id))
        refusal = refusal_of(state_of(row), order_ref, now)
        if refusal is not None:
            raise CouponRefused([refusal], field="code")
        await change(row, member, now)
        return {"couponId": row.id}

    result = await run_once(
        principal,
        key=idempotency_key,
        operation=operation,
        payload={"code": normal, "orderId": order_ref},
        action=act,
    )
    return (await load(principal.programme_id, [int(result["couponId"])]))[0]


async def _unlock(row: Coupon) -> None:
    row.status, row.order_ref = CouponStatus.AVAILABLE.value, None
    row.locked_at = row.lock_expires_at = row.discount = row.used_at = None
    await coupon_repo.save(
        row, "status", "order_ref", "locked_at", "lock_expires_at", "discount", "used_at"
    )


async def release_for_order(member: Member, order_ref: str) -> int:
    """The order was cancelled: coupons locked to it or used on it go back to the wallet
    (where one past its end shows as EXPIRED). The caller holds the member's row lock
    inside its transaction."""
    rows = await coupon_repo.lock_on_order(member.programme_id, member.id, order_ref)
    for row in rows:
        await _unlock(row)
    return len(rows)


async def release_lapsed(programme_id: int, now: datetime, *, batch: int = 1_000) -> int:
    """Job: tidy lapsed locks (reads already treat a lapsed lock as no lock)."""
    released = 0
    while True:
        async with in_transaction():
            ids = await coupon_repo.lapsed_lock_ids(programme_id, now, batch)
            if ids:
                released += await coupon_repo.unlock(ids)
        if len(ids) < batch:
            return released
