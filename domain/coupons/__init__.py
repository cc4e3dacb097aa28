"""Coupon rules, pure: templates, what a coupon does to a cart, and a coupon's life in the
wallet (issue -> lock -> use, or release, or expire)."""

from domain.coupons.checkout import (
    Cart,
    CartLine,
    Outcome,
    Reason,
    combine,
    eligible_amount,
    evaluate,
    percent_off,
    spread,
    validate_cart,
)
from domain.coupons.templates import (
    AutoIssue,
    CouponKind,
    Template,
    TemplateStatus,
    issuable,
    validate_template,
    validity,
)
from domain.coupons.wallet import (
    CouponState,
    CouponStatus,
    Refusal,
    Source,
    effective_status,
    redeem_refusal,
    release_refusal,
    usable_refusal,
)

__all__ = [
    "AutoIssue",
    "Cart",
    "CartLine",
    "CouponKind",
    "CouponState",
    "CouponStatus",
    "Outcome",
    "Reason",
    "Refusal",
    "Source",
    "Template",
    "TemplateStatus",
    "combine",
    "effective_status",
    "eligible_amount",
    "evaluate",
    "issuable",
    "percent_off",
    "redeem_refusal",
    "release_refusal",
    "spread",
    "usable_refusal",
    "validate_cart",
    "validate_template",
    "validity",
]
