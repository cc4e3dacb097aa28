"""A reward in the catalogue, as the domain judges it. Points and cash are integers (cash in
minor units of the programme's currency); prices are per item."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class RewardKind(StrEnum):
    PRODUCT = "PRODUCT"  # goods the shop ships: fulfilled with a tracking reference
    COUPON = "COUPON"  # a coupon from a template, into the member's wallet
    DIGITAL = "DIGITAL"  # a code handed to the member
    PARTNER = "PARTNER"  # units credited at a partner (the partner issue's outbound transfer)


class RewardStatus(StrEnum):
    ACTIVE = "ACTIVE"
    RETIRED = "RETIRED"  # no longer redeemable; redemptions made stay as they are


class LimitPeriod(StrEnum):
    """The period a member's limit counts over, in the programme's time zone."""

    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    YEAR = "YEAR"
    EVER = "EVER"


@dataclass(frozen=True, slots=True)
class Reward:
    id: int
    programme_id: int
    code: str
    title: str
    description: str
    image_url: str | None
    category: str
    kind: RewardKind
    points_price: int
    cash_price: int
    coupon_template_id: int | None
    partner_id: int | None
    partner_units: int | None
    total_stock: int | None  # None: unlimited
    stock_left: int | None
    redeemed: int
    per_member_limit: int | None
    limit_period: LimitPeriod
    eligible_tiers: frozenset[int]  # empty: every tier
    valid_from: datetime | None
    valid_until: datetime | None
    status: RewardStatus
    created_at: datetime
    updated_at: datetime
    retired_at: datetime | None

    @property
    def cash_and_points(self) -> bool:
        return self.cash_price > 0

    def in_window(self, now: datetime) -> bool:
        return (self.valid_from is None or self.valid_from <= now) and (
            self.valid_until is None or now < self.valid_until
        )

    def in_stock(self, quantity: int = 1) -> bool:
        return self.stock_left is None or self.stock_left >= quantity

    def open_to_tier(self, tier_id: int | None) -> bool:
        return not self.eligible_tiers or tier_id in self.eligible_tiers

    def redeemable(self, now: datetime, tier_id: int | None, quantity: int = 1) -> bool:
        """Active, in its window, in stock and open to the tier: what a member's catalogue
        shows (the per-member limit and the balance are judged per call)."""
        return (
            self.status is RewardStatus.ACTIVE
            and self.in_window(now)
            and self.in_stock(quantity)
            and self.open_to_tier(tier_id)
        )
