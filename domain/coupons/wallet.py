"""A coupon's life in the wallet, pure: issued AVAILABLE, LOCKED to one order at checkout, then
USED when that order goes through, or released. Expiry is read off the clock, never written:
the wallet, validation and locking all judge a coupon by `effective_status` at the programme's
`now`, so a test clock moved forward expires coupons without a job."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.coupons.checkout import Reason

# 16 characters of an alphabet without 0/O and 1/I/L: ~80 bits, read aloud without mistakes.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 16
CODE_RE = re.compile(r"^[0-9A-Z-]{1,40}$")


class CouponStatus(StrEnum):
    AVAILABLE = "AVAILABLE"
    LOCKED = "LOCKED"
    USED = "USED"
    EXPIRED = "EXPIRED"


class Source(StrEnum):
    CLAIM = "CLAIM"
    GRANT = "GRANT"
    EXCHANGE = "EXCHANGE"
    MONTHLY_ALLOWANCE = "MONTHLY_ALLOWANCE"
    BIRTHDAY = "BIRTHDAY"
    CAMPAIGN = "CAMPAIGN"  # a campaign's effect (domain.campaigns.Effects.coupon_template)
    CHALLENGE = "CHALLENGE"  # a challenge's reward (domain.challenges.Reward)


@dataclass(frozen=True)
class CouponState:
    """What the stored row says; `status` is AVAILABLE, LOCKED or USED (never EXPIRED)."""

    status: CouponStatus
    starts_at: datetime | None
    ends_at: datetime
    order_ref: str | None = None
    lock_expires_at: datetime | None = None


def lock_live(state: CouponState, now: datetime) -> bool:
    return (
        state.status is CouponStatus.LOCKED
        and state.lock_expires_at is not None
        and now < state.lock_expires_at
    )


def effective_status(state: CouponState, now: datetime) -> CouponStatus:
    """A lapsed lock is no lock; a live lock outlasts the coupon's own end (the order was
    placed in time); an unused coupon past its end is EXPIRED."""
    if state.status is CouponStatus.USED:
        return CouponStatus.USED
    if lock_live(state, now):
        return CouponStatus.LOCKED
    return CouponStatus.EXPIRED if now >= state.ends_at else CouponStatus.AVAILABLE


def usable_refusal(state: CouponState, now: datetime, order_ref: str | None) -> Reason | None:
    """Why this coupon cannot go on an order now (None: it can). A coupon already locked to
    the same order is usable by that order — until the coupon's own end: a lock lets an
    order placed in time go through, it does not make a coupon last longer."""
    status = effective_status(state, now)
    if status is CouponStatus.USED:
        return Reason.USED
    if status is CouponStatus.LOCKED:
        if order_ref is None or state.order_ref != order_ref:
            return Reason.LOCKED
        return Reason.EXPIRED if now >= state.ends_at else None
    if status is CouponStatus.EXPIRED:
        return Reason.EXPIRED
    if state.starts_at is not None and now < state.starts_at:
        return Reason.NOT_STARTED
    return None


class Refusal(StrEnum):
    """Why redeem or release refuses; the names are error codes."""

    USED = "USED"
    LOCKED = "LOCKED"
    NOT_LOCKED = "NOT_LOCKED"
    LOCK_EXPIRED = "LOCK_EXPIRED"


def redeem_refusal(state: CouponState, order_ref: str, now: datetime) -> Refusal | None:
    """Only a live lock for this very order becomes USED: that is what makes a one-time coupon
    redeemable once, however many requests race for it."""
    if state.status is CouponStatus.USED:
        return Refusal.USED
    if state.status is not CouponStatus.LOCKED:
        return Refusal.NOT_LOCKED
    if state.order_ref != order_ref:
        return Refusal.LOCKED if lock_live(state, now) else Refusal.NOT_LOCKED
    return None if lock_live(state, now) else Refusal.LOCK_EXPIRED


def release_refusal(state: CouponState, order_ref: str, now: datetime) -> Refusal | None:
    """Releasing a lock that lapsed already is fine (it is released either way)."""
    if state.status is CouponStatus.USED:
        return Refusal.USED
    if state.status is not CouponStatus.LOCKED or state.order_ref != order_ref:
        return Refusal.NOT_LOCKED
    return None


def allowance_period(local_now: datetime) -> str:
    """The period a monthly allowance is counted in: the programme's local month."""
    return f"{local_now.year:04d}-{local_now.month:02d}"


def birthday_period(local_now: datetime) -> str:
    return f"{local_now.year:04d}"


def normalise_code(code: str) -> str:
    """Codes are printed in groups (ABCD-EFGH-...); people type them in any case."""
    return code.strip().upper()


def format_code(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def looks_like_code(code: str) -> bool:
    return bool(CODE_RE.match(code))
