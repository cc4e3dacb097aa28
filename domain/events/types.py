"""The event types this API writes (`type` of every event, the names receivers switch on)."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    MEMBER_REGISTERED = "member.registered"
    MEMBER_UPDATED = "member.updated"
    POINTS_EARNED = "points.earned"
    POINTS_AVAILABLE = "points.available"
    POINTS_REDEEMED = "points.redeemed"
    POINTS_REVERSED = "points.reversed"
    POINTS_ADJUSTED = "points.adjusted"
    POINTS_EXPIRED = "points.expired"
    POINTS_EXPIRING = "points.expiring"
    TIER_CHANGED = "tier.changed"
    TIER_DOWNGRADE_WARNING = "tier.downgrade_warning"
    COUPON_ISSUED = "coupon.issued"
    COUPON_REDEEMED = "coupon.redeemed"
    REFERRAL_REWARDED = "referral.rewarded"
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled"
    MEMBER_ERASED = "member.erased"
