"""Coupon templates (DESIGN.md §6): what a template may say and when its coupons are valid.
Amounts are minor units; percentages are basis points (1500 = 15%)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from domain.errors import Collector
from domain.points import BASIS, MAX_MONEY
from domain.text import is_clean

TEMPLATE_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,31}$")
MAX_STOCK = 100_000_000
MAX_VALID_DAYS = 3660


class CouponKind(StrEnum):
    AMOUNT_OFF = "AMOUNT_OFF"  # 满减: `amount` off once eligible lines reach `threshold`
    PERCENT_OFF = "PERCENT_OFF"  # `percent` basis points off eligible lines, at most `cap`
    NO_THRESHOLD = "NO_THRESHOLD"  # `amount` off, whatever the cart
    FREE_SHIPPING = "FREE_SHIPPING"
    GIFT = "GIFT"  # `gift_sku` free with the order


class AutoIssue(StrEnum):
    """Coupons the periodic job hands out by itself, once per member per period."""

    NONE = "NONE"
    MONTHLY_ALLOWANCE = "MONTHLY_ALLOWANCE"  # as many a month as the tier's MONTHLY_COUPONS
    BIRTHDAY = "BIRTHDAY"  # one a year, in the member's birthday month


class TemplateStatus(StrEnum):
    ACTIVE = "ACTIVE"
    RETIRED = "RETIRED"  # issues no more coupons; those issued stay usable until they expire


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
    claimable: bool = True  # members (or a storefront for them) may claim it themselves
    auto_issue: AutoIssue = AutoIssue.NONE


def validate_template(t: Template, errors: Collector) -> None:
    """Shape and sense: what no programme could mean."""
    if (
        t.kind in (CouponKind.AMOUNT_OFF, CouponKind.NO_THRESHOLD)
        and not 1 <= t.amount <= MAX_MONEY
    ):
        errors.add("amountOff", f"must be 1-{MAX_MONEY} minor units")
    if t.kind is CouponKind.PERCENT_OFF and not 1 <= t.percent <= BASIS:
        errors.add("percentOff", "must be 1-10000 basis points (100%)")
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
    if fixed and t.valid_until is None:
        errors.add("validUntil", "a fixed window needs an end: every coupon expires")
    if t.valid_days is not None and not 1 <= t.valid_days <= MAX_VALID_DAYS:
        errors.add("validDays", f"must be 1-{MAX_VALID_DAYS}")
    aware = all(m is None or m.tzinfo is not None for m in (t.valid_from, t.valid_until))
    if aware and t.valid_from and t.valid_until and t.valid_until <= t.valid_from:
        errors.add("validUntil", "must be after validFrom")
    for name, value in (("totalStock", t.total_stock), ("perMemberLimit", t.per_member_limit)):
        if value is not None and not 1 <= value <= MAX_STOCK:
            errors.add(name, f"must be 1-{MAX_STOCK}")
    if t.points_price is not None and not 1 <= t.points_price <= 1_000_000_000:
        errors.add("pointsPrice", "must be 1-1000000000 points")
    if t.claimable and not default_claimable(t.points_price, t.auto_issue):
        errors.add(
            "claimable", "a coupon sold for points or issued by the job is not free to claim"
        )
    for name, moment in (("validFrom", t.valid_from), ("validUntil", t.valid_until)):
        if moment is not None and moment.tzinfo is None:
            errors.add(name, "needs a time zone (2027-03-01T00:00:00Z or +08:00)")
    for name, values in (
        ("eligibleCategories", t.eligible_categories),
        ("eligibleSkus", t.eligible_skus),
    ):
        if len(values) > 500 or not all(1 <= len(v) <= 64 and v.isprintable() for v in values):
            errors.add(name, "at most 500, each 1-64 printable characters")


def default_claimable(points_price: int | None, auto_issue: AutoIssue) -> bool:
    """Members may claim a coupon for free unless it is sold for points or issued by the
    job; an admin may also make any coupon grant-only."""
    return points_price is None and auto_issue is AutoIssue.NONE


def check_template_code(errors: Collector, code: str) -> None:
    if not TEMPLATE_CODE_RE.match(code):
        errors.add("code", "1-32 of A-Z, 0-9, _ and -, starting with a letter or digit")


def check_title(errors: Collector, title: str) -> None:
    if not (1 <= len(title.strip()) <= 100 and is_clean(title)):
        errors.add("title", "must be 1-100 characters, no control characters")


def validity(t: Template, issued_at: datetime) -> tuple[datetime | None, datetime | None]:
    """When a coupon issued at `issued_at` may be used."""
    if t.valid_days is not None:
        return issued_at, issued_at + timedelta(days=t.valid_days)
    return t.valid_from, t.valid_until


def issuable(t: Template, now: datetime) -> bool:
    """A fixed-window template whose window has closed would issue coupons born expired."""
    return t.valid_until is None or now < t.valid_until
