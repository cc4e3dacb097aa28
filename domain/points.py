"""Points: the programme's earning policy and the exact, integer arithmetic of earning.

Every amount of money is in minor units (fen); every amount of points is an int. Rates are
kept as fractions (points per minor unit) so nothing is lost to floats until the one named
rounding step per order line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from fractions import Fraction
from typing import Any

from domain.errors import Collector

MAX_POINTS = 1_000_000_000  # one operation
MAX_BALANCE = 2_000_000_000  # a member's available + pending; fits GraphQL's 32-bit Int
MAX_MONEY = 2_000_000_000  # one order, in minor units (20 million yuan); fits a 32-bit Int
BASIS = 10_000  # multipliers and discounts are basis points: 15000 = 1.5x


class TxKind(StrEnum):
    EARN = "EARN"
    REDEEM = "REDEEM"
    EXPIRE = "EXPIRE"
    REVERSE = "REVERSE"
    ADJUST = "ADJUST"
    TRANSFER_IN = "TRANSFER_IN"
    TRANSFER_OUT = "TRANSFER_OUT"
    ERASE = "ERASE"  # the balance an erased member forfeits (issue 18.3)


class Bucket(StrEnum):
    AVAILABLE = "AVAILABLE"
    PENDING = "PENDING"


class ExpiryPolicy(StrEnum):
    LOTS = "LOTS"  # each earning lot expires N months after it was earned
    ROLLING_ACTIVITY = "ROLLING_ACTIVITY"  # the whole balance expires N months after the last earn


class NegativePolicy(StrEnum):
    ALLOW_NEGATIVE = "ALLOW_NEGATIVE"  # the debt is repaid by later earning
    CLAMP_AND_RECORD = "CLAMP_AND_RECORD"  # the balance stops at zero, the shortfall is recorded


class Rounding(StrEnum):
    HALF_DOWN = "HALF_DOWN"
    HALF_UP = "HALF_UP"
    DOWN = "DOWN"


class PaymentMethod(StrEnum):
    CASH = "CASH"
    CARD = "CARD"
    GIFT_CARD = "GIFT_CARD"
    POINTS = "POINTS"


class EarnRule(StrEnum):
    FULL_PRICE = "FULL_PRICE"
    DISCOUNTED = "DISCOUNTED"
    GIFT_CARD = "GIFT_CARD"
    TIER_MULTIPLIER = "TIER_MULTIPLIER"
    BIRTHDAY_MULTIPLIER = "BIRTHDAY_MULTIPLIER"
    CATEGORY_BONUS = "CATEGORY_BONUS"
    # Negative: what an earning cap held back for review (issue 18.6).
    ABUSE_CAP = "ABUSE_CAP"
    # A campaign's share of the line (domain.campaigns); the rule names the campaign.
    CAMPAIGN = "CAMPAIGN"


def round_points(value: Fraction, rounding: Rounding | str = Rounding.HALF_DOWN) -> int:
    """The one rounding step of earning, applied per order line.

    HALF_DOWN (the default): 2.5 -> 2, 2.51 -> 3; HALF_UP: 2.5 -> 3; DOWN: always towards zero.
    Values are never negative here; a return reverses what a line earned, it is not re-rounded.
    `rounding` is compared by value, so the policy's name as a plain string rounds the same.
    """
    mode = Rounding(rounding)
    whole, rest = divmod(value.numerator, value.denominator)
    if mode == Rounding.DOWN or rest == 0:
        return whole
    # The remainder rest/denominator against 1/2, in integers (no Fraction made per step).
    twice = 2 * rest
    if twice > value.denominator or (twice == value.denominator and mode == Rounding.HALF_UP):
        return whole + 1
    return whole


class Rate(Fraction):
    """An earn rate as it was set: `points` per `per` minor units. It computes as its value
    (2 per 100 == 1 per 50), and keeps the terms it was given so they can be shown back."""

    points: int
    per: int

    def __new__(cls, points: int, per: int) -> Rate:
        made = super().__new__(cls, points, per)
        made.points, made.per = points, per
        return made


def rate_terms(rate: Fraction) -> tuple[int, int]:
    """(points, per minor units) as set; reduced only for a rate that never had its own."""
    if isinstance(rate, Rate):
        return rate.points, rate.per
    return rate.numerator, rate.denominator


_DEMO_FULL_PRICE, _DEMO_DISCOUNTED, _DEMO_GIFT_CARD = Rate(2, 100), Rate(1, 200), Rate(1, 100)


@dataclass(frozen=True)
class PointsPolicy:
    """A programme's points configuration. The defaults are the demo programme's, and what a
    programme whose stored policy is empty (made before NEUTRAL_POLICY) has."""

    full_price_rate: Fraction = _DEMO_FULL_PRICE  # 2 points per yuan
    discounted_rate: Fraction = _DEMO_DISCOUNTED  # 0.5 points per yuan
    gift_card_rate: Fraction = _DEMO_GIFT_CARD  # 1 point per yuan paid by gift card
    category_bonus: Mapping[str, int] = field(default_factory=lambda: {"appliances": 5})
    rounding: Rounding = Rounding.HALF_DOWN
    return_window_days: int = 30
    expiry_policy: ExpiryPolicy = ExpiryPolicy.LOTS
    expiry_months: int = 12
    negative_policy: NegativePolicy = NegativePolicy.ALLOW_NEGATIVE
    points_per_cash: int = 100  # 100 points ...
    cash_per_points: int = 200  # ... are worth 200 fen (2 yuan) at checkout
    hold_minutes: int = 30
    checkin_points: int = 5
    streak_every: int = 7  # every 7th consecutive day ...
    streak_bonus: int = 20  # ... earns this on top
    review_points: int = 10
    referral_points: int = 200
    # Member-to-member gifts: how many points a member may give per local day; 0 (the
    # default) turns gifting off.
    gift_daily_points: int = 0

    def __post_init__(self) -> None:
        # However a policy is built (stored JSON, `replace` with an input's value), its
        # choices are the enums themselves, so `is` and `==` agree everywhere they are read.
        object.__setattr__(self, "rounding", Rounding(self.rounding))
        object.__setattr__(self, "expiry_policy", ExpiryPolicy(self.expiry_policy))
        object.__setattr__(self, "negative_policy", NegativePolicy(self.negative_policy))

    def to_json(self) -> dict[str, Any]:
        return {
            "full_price_rate": list(rate_terms(self.full_price_rate)),
            "discounted_rate": list(rate_terms(self.discounted_rate)),
            "gift_card_rate": list(rate_terms(self.gift_card_rate)),
            "category_bonus": dict(self.category_bonus),
            "rounding": self.rounding.value,
            "return_window_days": self.return_window_days,
            "expiry_policy": self.expiry_policy.value,
            "expiry_months": self.expiry_months,
            "negative_policy": self.negative_policy.value,
            "points_per_cash": self.points_per_cash,
            "cash_per_points": self.cash_per_points,
            "hold_minutes": self.hold_minutes,
            "checkin_points": self.checkin_points,
            "streak_every": self.streak_every,
            "streak_bonus": self.streak_bonus,
            "review_points": self.review_points,
            "referral_points": self.referral_points,
            "gift_daily_points": self.gift_daily_points,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> PointsPolicy:
        if not data:
            return cls()
        rates = ("full_price_rate", "discounted_rate", "gift_card_rate")
        enums: dict[str, type[StrEnum]] = {
            "rounding": Rounding,
            "expiry_policy": ExpiryPolicy,
            "negative_policy": NegativePolicy,
        }
        fields: dict[str, Any] = {}
        for name, value in data.items():
            if name in rates:
                fields[name] = Rate(*value)
            elif name in enums:
                fields[name] = enums[name](value)
            elif name in cls.__dataclass_fields__:
                fields[name] = value
        return cls(**fields)


DEMO_POLICY = PointsPolicy()

# What `loyalty create-programme` starts a programme with: one point per major unit paid
# (full price or on sale), nothing for gift-card payments, no category bonus, no activity
# points, 100 points pay 1 major unit. Documented in the README ("A new programme's policy").
NEUTRAL_POLICY = PointsPolicy(
    full_price_rate=Rate(1, 100),
    discounted_rate=Rate(1, 100),
    gift_card_rate=Rate(0, 100),
    category_bonus={},
    rounding=Rounding.DOWN,
    return_window_days=30,
    expiry_policy=ExpiryPolicy.LOTS,
    expiry_months=12,
    negative_policy=NegativePolicy.ALLOW_NEGATIVE,
    points_per_cash=100,
    cash_per_points=100,
    hold_minutes=30,
    checkin_points=0,
    streak_every=0,
    streak_bonus=0,
    review_points=0,
    referral_points=0,
)


def validate_policy(policy: PointsPolicy, errors: Collector) -> None:
    rates = {
        "fullPriceRate": policy.full_price_rate,
        "discountedRate": policy.discounted_rate,
        "giftCardRate": policy.gift_card_rate,
    }
    for field_name, rate in rates.items():
        if not 0 <= rate <= 100:
            errors.add(field_name, "must be 0-100 points per minor unit")
    if any(not 0 <= v <= 100_000 for v in policy.category_bonus.values()):
        errors.add("categoryBonus", "bonuses must be 0-100000 points per item")
    if not 0 <= policy.return_window_days <= 365:
        errors.add("returnWindowDays", "must be 0-365")
    if not 1 <= policy.expiry_months <= 120:
        errors.add("expiryMonths", "must be 1-120")
    if policy.points_per_cash <= 0 or policy.cash_per_points <= 0:
        errors.add("pointsPerCash", "both sides of the cash rate must be positive")
    if not 1 <= policy.hold_minutes <= 7 * 24 * 60:
        errors.add("holdMinutes", "must be 1-10080")
    counts = {
        "checkinPoints": policy.checkin_points,
        "streakBonus": policy.streak_bonus,
        "reviewPoints": policy.review_points,
        "referralPoints": policy.referral_points,
    }
    for field_name, value in counts.items():
        if not 0 <= value <= 1_000_000:
            errors.add(field_name, "must be 0-1000000 points")
    if not 0 <= policy.gift_daily_points <= MAX_POINTS:
        errors.add("giftDailyPoints", f"must be 0-{MAX_POINTS} points (0: no gifts)")
    if not 0 <= policy.streak_every <= 366:
        errors.add("streakEvery", "must be 0-366 days (0: no streak bonus)")
    if any(not (1 <= len(c) <= 64 and c.isprintable()) for c in policy.category_bonus):
        errors.add("categoryBonus", "categories are 1-64 printable characters")


# ---- orders -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderLine:
    sku: str
    category: str
    unit_price: int
    quantity: int
    discounted: bool

    @property
    def amount(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Payment:
    method: PaymentMethod
    amount: int


@dataclass(frozen=True)
class RulePoints:
    rule: EarnRule
    points: int
    # CAMPAIGN rules only: which campaign gave the points
    campaign_id: int | None = None
    campaign_code: str | None = None

    def stored(self) -> list[Any]:
        """As an order line's `rules` JSON keeps it: [rule, points], and for a campaign
        [rule, points, campaign id, campaign code]."""
        if self.campaign_id is None:
            return [self.rule.value, self.points]
        return [self.rule.value, self.points, self.campaign_id, self.campaign_code]

    @classmethod
    def of_stored(cls, item: list[Any]) -> RulePoints:
        if len(item) == 2:
            return cls(EarnRule(item[0]), int(item[1]))
        return cls(EarnRule(item[0]), int(item[1]), int(item[2]), str(item[3]))


@dataclass(frozen=True)
class LinePoints:
    sku: str
    quantity: int
    amount: int
    points: int
    rules: tuple[RulePoints, ...]


@dataclass(frozen=True)
class OrderPoints:
    lines: tuple[LinePoints, ...]
    total: int
    amount: int


@dataclass(frozen=True)
class Multipliers:
    """In basis points; BASIS means 1x. The birthday one applies only in the birthday month."""

    tier: int = BASIS
    birthday: int = BASIS


def check_order_ref(errors: Collector, order_ref: str, field: str = "orderId") -> None:
    if not 1 <= len(order_ref) <= 64 or not order_ref.isprintable():
        errors.add(field, "must be 1-64 printable characters")


def check_sku(errors: Collector, sku: str, field: str = "sku") -> None:
    if not 1 <= len(sku) <= 64 or not sku.isprintable():
        errors.add(field, "must be 1-64 printable characters")


def validate_order(lines: list[OrderLine], payments: list[Payment], errors: Collector) -> None:
    if not 1 <= len(lines) <= 500:
        errors.add("lines", "an order has 1-500 lines")
    skus = [line.sku for line in lines]
    if len(set(skus)) != len(skus):
        errors.add("lines", "each sku appears on one line; add up the quantities")
    for n, line in enumerate(lines):
        check_sku(errors, line.sku, f"lines.{n}.sku")
        if not 1 <= len(line.category) <= 64 or not line.category.isprintable():
            errors.add(f"lines.{n}.category", "must be 1-64 printable characters")
        if not 0 <= line.unit_price <= MAX_MONEY:
            errors.add(f"lines.{n}.unitPrice", f"must be 0-{MAX_MONEY} minor units")
        if not 1 <= line.quantity <= 10_000:
            errors.add(f"lines.{n}.quantity", "must be 1-10000")
    for n, payment in enumerate(payments):
        if not 0 < payment.amount <= MAX_MONEY:
            errors.add(f"payments.{n}.amount", f"must be 1-{MAX_MONEY} minor units")
    if errors.errors:
        return
    total = sum(line.amount for line in lines)
    if total > MAX_MONEY:
        errors.add("lines", "the order total is too large")
    elif sum(p.amount for p in payments) != total:
        errors.add("payments", f"payments must add up to the order total ({total})")


def _share(amount: int, part: int, whole: int) -> Fraction:
    return Fraction(amount * part, whole) if whole else Fraction(0)


def order_points(
    lines: list[OrderLine],
    payments: list[Payment],
    policy: PointsPolicy,
    multipliers: Multipliers,
) -> OrderPoints:
    """Points per line, with the rules that make them up; the rules of a line sum to its points.

    Each line's amount is split across the payments pro rata: its gift-card share earns the
    gift-card rate, its points share earns nothing, the rest earns the line's own rate
    (full-price or discounted). Multipliers apply to that base; category bonuses per item are
    added after, unmultiplied. One rounding per line: differences of rounded partial sums make
    the breakdown add up exactly.
    """
    total = sum(line.amount for line in lines)
    gift = sum(p.amount for p in payments if p.method is PaymentMethod.GIFT_CARD)
    paid_with_points = sum(p.amount for p in payments if p.method is PaymentMethod.POINTS)
    tier = Fraction(multipliers.tier, BASIS)
    birthday = Fraction(multipliers.birthday, BASIS)
    rnd = policy.rounding
    result = []
    for line in lines:
        gift_share = _share(line.amount, gift, total)
        rest = line.amount - gift_share - _share(line.amount, paid_with_points, total)
        own_rule = EarnRule.DISCOUNTED if line.discounted else EarnRule.FULL_PRICE
        own_rate = policy.discounted_rate if line.discounted else policy.full_price_rate
        gift_part = gift_share * policy.gift_card_rate
        base = rest * own_rate + gift_part
        # A 1x multiplier leaves the value as it is: no Fraction product made for it.
        tiered = base * tier if multipliers.tier != BASIS else base
        rounded_tiered = round_points(tiered, rnd)
        steps = [
            (EarnRule.GIFT_CARD, round_points(gift_part, rnd)),
            (own_rule, round_points(base, rnd)),
            (EarnRule.TIER_MULTIPLIER, rounded_tiered),
            (
                EarnRule.BIRTHDAY_MULTIPLIER,
                round_points(tiered * birthday, rnd)
                if multipliers.birthday != BASIS
                else rounded_tiered,
            ),
        ]
        rules: list[RulePoints] = []
        previous = 0
        for rule, cumulative in steps:
            if cumulative - previous:
                rules.append(RulePoints(rule, cumulative - previous))
            previous = cumulative
        bonus = policy.category_bonus.get(line.category, 0) * line.quantity
        if bonus:
            rules.append(RulePoints(EarnRule.CATEGORY_BONUS, bonus))
        result.append(
            LinePoints(
                sku=line.sku,
                quantity=line.quantity,
                amount=line.amount,
                points=previous + bonus,
                rules=tuple(rules),
            )
        )
    return OrderPoints(lines=tuple(result), total=sum(r.points for r in result), amount=total)


def in_birthday_month(birthday_month: int | None, local_now: datetime) -> bool:
    return birthday_month is not None and local_now.month == birthday_month


def points_to_reverse(line_points: int, quantity: int, returned_before: int, returning: int) -> int:
    """Points a return of `returning` items of a line takes back.

    Cumulative, so several partial returns of one line add up to exactly what it earned:
    the share of all items returned so far, minus what earlier returns already took.
    """
    after = line_points * (returned_before + returning) // quantity
    before = line_points * returned_before // quantity
    return after - before


def points_to_take_back(wanted: list[int], *, unreversed: int, expired: int) -> list[int]:
    """What a return of completed lines takes back, line by line: each line's `wanted` share
    (`points_to_reverse`), but in all at most the order's points not reversed yet less those
    that expired. Expired points are gone; taking them again from the member's newer points
    would charge twice. So a return takes what is left of the order's points, then (by the
    negative policy) what was spent of them — the expired share is never taken."""
    room = max(unreversed - expired, 0)
    taken: list[int] = []
    for want in wanted:
        taken.append(min(want, room))
        room -= taken[-1]
    return taken


def cash_value(points: int, policy: PointsPolicy) -> int:
    """Minor units `points` pay at checkout; rounded down, in the programme's favour."""
    return points * policy.cash_per_points // policy.points_per_cash


def points_for_cash(amount: int, policy: PointsPolicy) -> int:
    """Points needed to pay `amount` minor units; rounded up, in the programme's favour."""
    return -(-amount * policy.points_per_cash // policy.cash_per_points)
