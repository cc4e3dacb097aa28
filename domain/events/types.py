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
    POINTS_TRANSFERRED_IN = "points.transferred_in"
    POINTS_TRANSFERRED_OUT = "points.transferred_out"
    PARTNER_TRANSFER_REQUESTED = "partner_transfer.requested"
    PARTNER_TRANSFER_COMPLETED = "partner_transfer.completed"
    PARTNER_TRANSFER_FAILED = "partner_transfer.failed"
    PARTNER_TRANSFER_REVERSED = "partner_transfer.reversed"
    PARTNER_LINK_CREATED = "partner_link.created"
    PARTNER_LINK_REMOVED = "partner_link.removed"
    REWARD_REDEEMED = "reward.redeemed"
    REWARD_FULFILLED = "reward.fulfilled"
    REWARD_CANCELLED = "reward.cancelled"
    CHALLENGE_COMPLETED = "challenge.completed"
    BADGE_AWARDED = "badge.awarded"
