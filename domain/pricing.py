"""Member prices: a tier's MEMBER_PRICE benefit on full-price lines, its free shipping."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from domain.points import BASIS, Rounding, round_points
from domain.tiers import BenefitKind, TierView


@dataclass(frozen=True)
class PriceLine:
    sku: str
    unit_price: int
    quantity: int
    discounted: bool


@dataclass(frozen=True)
class QuotedLine:
    sku: str
    quantity: int
    amount: int
    member_amount: int


@dataclass(frozen=True)
class Quote:
    lines: tuple[QuotedLine, ...]
    subtotal: int
    member_subtotal: int
    shipping_fee: int
    member_shipping_fee: int
    member_price_rate: int  # basis points paid on full-price lines; 10000 = no discount

    @property
    def total(self) -> int:
        return self.member_subtotal + self.member_shipping_fee


def member_line_amount(amount: int, rate_bp: int) -> int:
    """A full-price line's member amount: `rate_bp` basis points of it, rounded half down
    (so a half fen goes to the customer). Discounted lines are never discounted again."""
    return round_points(Fraction(amount * rate_bp, BASIS), Rounding.HALF_DOWN)


def quote(tier: TierView | None, lines: list[PriceLine], shipping_fee: int) -> Quote:
    benefits = {b.kind: b.value for b in tier.benefits} if tier else {}
    rate = benefits.get(BenefitKind.MEMBER_PRICE, BASIS)
    quoted = tuple(
        QuotedLine(
            sku=line.sku,
            quantity=line.quantity,
            amount=line.unit_price * line.quantity,
            member_amount=(
                line.unit_price * line.quantity
                if line.discounted
                else member_line_amount(line.unit_price * line.quantity, rate)
            ),
        )
        for line in lines
    )
    free = BenefitKind.FREE_SHIPPING in benefits
    return Quote(
        lines=quoted,
        subtotal=sum(q.amount for q in quoted),
        member_subtotal=sum(q.member_amount for q in quoted),
        shipping_fee=shipping_fee,
        member_shipping_fee=0 if free else shipping_fee,
        member_price_rate=rate,
    )
