"""Coupons at checkout (DESIGN.md §6), pure: what a coupon takes off a cart, or every reason
it does not apply. Amounts are minor units; percentages are basis points."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from fractions import Fraction

from domain.coupons.templates import CouponKind, Template
from domain.errors import Collector
from domain.points import BASIS, MAX_MONEY, Rounding, check_sku, round_points

MAX_CART_LINES = 500
MAX_CODES = 20


class Reason(StrEnum):
    BELOW_THRESHOLD = "BELOW_THRESHOLD"
    NOT_ELIGIBLE_TIER = "NOT_ELIGIBLE_TIER"
    CATEGORY_MISMATCH = "CATEGORY_MISMATCH"
    NOT_STARTED = "NOT_STARTED"
    EXPIRED = "EXPIRED"
    NOT_STACKABLE = "NOT_STACKABLE"
    USED = "USED"
    LOCKED = "LOCKED"
    NOT_OWNER = "NOT_OWNER"
    NO_SHIPPING_FEE = "NO_SHIPPING_FEE"
    UNKNOWN_CODE = "UNKNOWN_CODE"


@dataclass(frozen=True)
class CartLine:
    sku: str
    category: str
    unit_price: int
    quantity: int

    @property
    def amount(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Cart:
    lines: tuple[CartLine, ...]
    shipping_fee: int = 0


def validate_cart(cart: Cart, codes: list[str], errors: Collector) -> None:
    """Shape of a cart sent for validation or locking (prefix `cart.`)."""
    if not 1 <= len(cart.lines) <= MAX_CART_LINES:
        errors.add("cart.lines", f"a cart has 1-{MAX_CART_LINES} lines")
    for n, line in enumerate(cart.lines):
        check_sku(errors, line.sku, f"cart.lines.{n}.sku")
        if not 1 <= len(line.category) <= 64 or not line.category.isprintable():
            errors.add(f"cart.lines.{n}.category", "must be 1-64 printable characters")
        if not 0 <= line.unit_price <= MAX_MONEY:
            errors.add(f"cart.lines.{n}.unitPrice", f"must be 0-{MAX_MONEY} minor units")
        if not 1 <= line.quantity <= 10_000:
            errors.add(f"cart.lines.{n}.quantity", "must be 1-10000")
    if not 0 <= cart.shipping_fee <= MAX_MONEY:
        errors.add("cart.shippingFee", f"must be 0-{MAX_MONEY} minor units")
    if not errors.errors and sum(line.amount for line in cart.lines) > MAX_MONEY:
        errors.add("cart.lines", "the cart total is too large")
    if not 1 <= len(codes) <= MAX_CODES:
        errors.add("codes", f"1-{MAX_CODES} codes at a time")
    if len(set(codes)) != len(codes):
        errors.add("codes", "each code once")


def percent_off(amount: int, percent: int, cap: int | None) -> int:
    """The one rounding of coupon discounts: `percent` basis points of `amount`, rounded half
    down (a half fen stays with the shop), never above `cap`."""
    off = round_points(Fraction(amount * percent, BASIS), Rounding.HALF_DOWN)
    return min(off, cap) if cap is not None else off


def is_eligible(t: Template, line: CartLine) -> bool:
    return (not t.eligible_categories or line.category in t.eligible_categories) and (
        not t.eligible_skus or line.sku in t.eligible_skus
    )


def eligible_amount(t: Template, cart: Cart) -> int:
    """Thresholds and percentages count eligible lines only."""
    return sum(line.amount for line in cart.lines if is_eligible(t, line))


def spread(amount: int, left: list[int]) -> list[int]:
    """`amount` taken from lines pro rata to what is `left` of each, in whole minor units:
    the remainders go to the lines with the largest fractions (then in cart order), so the
    parts add up to `amount` exactly and none takes more than its line has left."""
    base = sum(left)
    if base == 0:
        return [0] * len(left)
    parts = [amount * x // base for x in left]
    by_fraction = sorted(range(len(left)), key=lambda i: (-(amount * left[i] % base), i))
    for i in by_fraction[: amount - sum(parts)]:
        parts[i] += 1
    return parts


@dataclass(frozen=True)
class Outcome:
    applies: bool
    discount: int
    shipping_discount: int = 0
    gift_sku: str | None = None
    reasons: tuple[Reason, ...] = ()


def evaluate(
    t: Template,
    cart: Cart,
    *,
    tier_id: int | None,
    starts: datetime | None,
    ends: datetime | None,
    now: datetime,
) -> Outcome:
    """What this coupon does to this cart, or every reason it does not."""
    reasons: list[Reason] = []
    if starts is not None and now < starts:
        reasons.append(Reason.NOT_STARTED)
    if ends is not None and now >= ends:
        reasons.append(Reason.EXPIRED)
    if t.eligible_tiers and tier_id not in t.eligible_tiers:
        reasons.append(Reason.NOT_ELIGIBLE_TIER)
    base = eligible_amount(t, cart)
    restricted = bool(t.eligible_categories or t.eligible_skus)
    if restricted and base == 0:
        reasons.append(Reason.CATEGORY_MISMATCH)
    elif t.kind in (CouponKind.AMOUNT_OFF, CouponKind.PERCENT_OFF) and base < t.threshold:
        reasons.append(Reason.BELOW_THRESHOLD)
    if t.kind is CouponKind.FREE_SHIPPING and cart.shipping_fee == 0:
        reasons.append(Reason.NO_SHIPPING_FEE)
    if reasons:
        return Outcome(False, 0, reasons=tuple(reasons))
    if t.kind is CouponKind.FREE_SHIPPING:
        return Outcome(True, 0, shipping_discount=cart.shipping_fee)
    if t.kind is CouponKind.GIFT:
        return Outcome(True, 0, gift_sku=t.gift_sku)
    off = percent_off(base, t.percent, t.cap) if t.kind is CouponKind.PERCENT_OFF else t.amount
    return Outcome(True, min(off, base if restricted else sum(x.amount for x in cart.lines)))


def combine(outcomes: list[tuple[Template, Outcome]], cart: Cart) -> list[Outcome]:
    """Several coupons on one cart: stackable ones all apply; a non-stackable one applies only
    alone — when others apply too, the non-stackable ones with the smaller discount give way
    (NOT_STACKABLE), keeping the one that saves the member most. Together they never take
    off more than the items (or the shipping fee) cost, nor any coupon more than its own
    eligible lines are worth: in the given order, each takes at most what the ones before it
    left of its eligible lines, spread over them pro rata (`spread`)."""
    applying = [i for i, (_, o) in enumerate(outcomes) if o.applies]
    exclusive = [i for i in applying if not outcomes[i][0].stackable]
    keep = set(applying)
    if len(applying) > 1 and exclusive:

        def saving(i: int) -> int:
            o = outcomes[i][1]
            return o.discount + o.shipping_discount

        stackable_total = sum(saving(i) for i in applying if outcomes[i][0].stackable)
        best = max(exclusive, key=saving)
        keep = (
            {best}
            if saving(best) >= stackable_total
            else {i for i in applying if outcomes[i][0].stackable}
        )
    lines_left = [line.amount for line in cart.lines]
    shipping_left = cart.shipping_fee
    result = []
    for i, (template, o) in enumerate(outcomes):
        if i in applying and i not in keep:
            result.append(Outcome(False, 0, reasons=(Reason.NOT_STACKABLE,)))
        elif o.applies:
            mine = [
                left if is_eligible(template, line) else 0
                for line, left in zip(cart.lines, lines_left, strict=True)
            ]
            off, ship = min(o.discount, sum(mine)), min(o.shipping_discount, shipping_left)
            lines_left = [x - y for x, y in zip(lines_left, spread(off, mine), strict=True)]
            shipping_left -= ship
            result.append(Outcome(True, off, ship, o.gift_sku))
        else:
            result.append(o)
    return result
