"""Coupon rules (DESIGN.md §6), pure: what a template may say, and what a coupon takes off a
cart — or why it does not apply. Amounts are minor units; percentages are basis points."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction

from domain.errors import Collector
from domain.points import BASIS, MAX_MONEY, Rounding, round_points


class CouponKind(StrEnum):
    AMOUNT_OFF = "AMOUNT_OFF"  # 满减: `amount` off once eligible lines reach `threshold`
    PERCENT_OFF = "PERCENT_OFF"  # `percent` basis points off eligible lines, at most `cap`
    NO_THRESHOLD = "NO_THRESHOLD"  # `amount` off, whatever the cart
    FREE_SHIPPING = "FREE_SHIPPING"
    GIFT = "GIFT"  # `gift_sku` free with the order


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


@dataclass(frozen=True)
class Template:
    kind: CouponKind
    amount: int = 0
    percent: int = 0
    cap: int | None = None
    threshold: int = 0
    gift_sku: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    valid_days: int | None = None  # instead of a fixed window: N days from issue
    total_stock: int | None = None
    per_member_limit: int | None = None
    eligible_tiers: frozenset[int] = field(default_factory=frozenset)  # empty: every tier
    eligible_categories: frozenset[str] = field(default_factory=frozenset)  # empty: every one
    eligible_skus: frozenset[str] = field(default_factory=frozenset)
    stackable: bool = False
    points_price: int | None = None


def validate_template(t: Template, errors: Collector) -> None:
    """Shape and sense: what no programme could mean."""
    if (
        t.kind in (CouponKind.AMOUNT_OFF, CouponKind.NO_THRESHOLD)
        and not 1 <= t.amount <= MAX_MONEY
    ):
        errors.add("amount", f"must be 1-{MAX_MONEY} minor units")
    if t.kind is CouponKind.PERCENT_OFF and not 1 <= t.percent <= BASIS:
        errors.add("percent", "must be 1-10000 basis points (100%)")
    if t.cap is not None and not 1 <= t.cap <= MAX_MONEY:
        errors.add("cap", f"must be 1-{MAX_MONEY} minor units")
    if not 0 <= t.threshold <= MAX_MONEY:
        errors.add("threshold", f"must be 0-{MAX_MONEY} minor units")
    if t.kind is CouponKind.AMOUNT_OFF and 0 <= t.threshold < t.amount:
        errors.add("threshold", "must be at least the amount off (20 off 199, not 199 off 20)")
    if t.kind is CouponKind.GIFT and not (t.gift_sku and 1 <= len(t.gift_sku) <= 64):
        errors.add("giftSku", "a gift coupon names the gift's sku")
    fixed = t.valid_from is not None or t.valid_until is not None
    if fixed == (t.valid_days is not None):
        errors.add("validDays", "give either a fixed window or a number of days from issue")
    if t.valid_days is not None and not 1 <= t.valid_days <= 3660:
        errors.add("validDays", "must be 1-3660")
    if t.valid_from and t.valid_until and t.valid_until <= t.valid_from:
        errors.add("validUntil", "must be after validFrom")
    for name, value in (("totalStock", t.total_stock), ("perMemberLimit", t.per_member_limit)):
        if value is not None and not 1 <= value <= 100_000_000:
            errors.add(name, "must be 1-100000000")
    if t.points_price is not None and not 1 <= t.points_price <= 1_000_000_000:
        errors.add("pointsPrice", "must be 1-1000000000 points")


def validity(t: Template, issued_at: datetime) -> tuple[datetime | None, datetime | None]:
    """When a coupon issued at `issued_at` may be used."""
    if t.valid_days is not None:
        return issued_at, issued_at + timedelta(days=t.valid_days)
    return t.valid_from, t.valid_until


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


def percent_off(amount: int, percent: int, cap: int | None) -> int:
    """The one rounding of coupon discounts: `percent` basis points of `amount`, rounded half
    down (a half fen stays with the shop), never above `cap`."""
    off = round_points(Fraction(amount * percent, BASIS), Rounding.HALF_DOWN)
    return min(off, cap) if cap is not None else off


def eligible_amount(t: Template, cart: Cart) -> int:
    """Thresholds and percentages count eligible lines only."""
    return sum(
        line.amount
        for line in cart.lines
        if (not t.eligible_categories or line.category in t.eligible_categories)
        and (not t.eligible_skus or line.sku in t.eligible_skus)
    )


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


def combine(outcomes: list[tuple[Template, Outcome]]) -> list[Outcome]:
    """Several coupons on one cart: stackable ones all apply; a non-stackable one applies only
    alone — when others apply too, the non-stackable ones with the smaller discount give way
    (NOT_STACKABLE), keeping the one that saves the member most."""
    applying = [i for i, (_, o) in enumerate(outcomes) if o.applies]
    exclusive = [i for i in applying if not outcomes[i][0].stackable]
    if len(applying) <= 1 or not exclusive:
        return [o for _, o in outcomes]

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
    result = []
    for i, (_, o) in enumerate(outcomes):
        if i in applying and i not in keep:
            result.append(Outcome(False, 0, reasons=(Reason.NOT_STACKABLE,)))
        else:
            result.append(o)
    return result
