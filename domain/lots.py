"""Earning lots: what is spent first, what expires when. Pure: `now` is always an argument."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.points import ExpiryPolicy


@dataclass(frozen=True)
class Lot:
    id: int
    remaining: int
    earned_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True)
class Take:
    lot_id: int
    amount: int


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months; a day the target month lacks becomes its last day (Jan 31 + 1 = Feb 28)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def lot_expiry(earned_at: datetime, policy: ExpiryPolicy, months: int) -> datetime | None:
    """A lot's own expiry under LOTS; under ROLLING_ACTIVITY lots share the balance's expiry."""
    return add_months(earned_at, months) if policy is ExpiryPolicy.LOTS else None


def rolling_expiry(last_earned_at: datetime | None, months: int) -> datetime | None:
    return add_months(last_earned_at, months) if last_earned_at is not None else None


def spending_order(lots: list[Lot]) -> list[Lot]:
    """Soonest-expiring first; lots without an expiry last, oldest first among equals."""
    far = datetime.max.replace(tzinfo=None)

    def key(lot: Lot) -> tuple[int, datetime, datetime, int]:
        expires = lot.expires_at.replace(tzinfo=None) if lot.expires_at else far
        return (lot.expires_at is None, expires, lot.earned_at.replace(tzinfo=None), lot.id)

    return sorted((lot for lot in lots if lot.remaining > 0), key=key)


def allocate(lots: list[Lot], amount: int, *, first: int | None = None) -> tuple[list[Take], int]:
    """Which lots pay `amount`, and how much is left unpaid (0 when the lots cover it).

    `first` names a lot to draw on before the usual order (a return takes back the points of
    the order's own lot before anyone else's).
    """
    ordered = spending_order(lots)
    if first is not None:
        ordered.sort(key=lambda lot: lot.id != first)
    takes: list[Take] = []
    left = amount
    for lot in ordered:
        if left == 0:
            break
        take = min(lot.remaining, left)
        takes.append(Take(lot.id, take))
        left -= take
    return takes, left


def first_of(takes: list[Take], limit: int) -> list[Take]:
    """The leading takes, cut so they add up to at most `limit`."""
    kept: list[Take] = []
    left = max(limit, 0)
    for take in takes:
        if left == 0:
            break
        kept.append(Take(take.lot_id, min(take.amount, left)))
        left -= kept[-1].amount
    return kept


def expired(
    lots: list[Lot],
    now: datetime,
    *,
    policy: ExpiryPolicy,
    rolling_expires_at: datetime | None,
) -> list[Take]:
    """What expiry takes now: each lot's unspent remainder, and only that."""
    if policy is ExpiryPolicy.ROLLING_ACTIVITY:
        if rolling_expires_at is None or rolling_expires_at > now:
            return []
        return [Take(lot.id, lot.remaining) for lot in spending_order(lots)]
    return [
        Take(lot.id, lot.remaining)
        for lot in spending_order(lots)
        if lot.expires_at is not None and lot.expires_at <= now
    ]


@dataclass(frozen=True)
class Expiring:
    amount: int
    expires_at: datetime


def expiring_within(
    lots: list[Lot],
    now: datetime,
    days: int,
    *,
    policy: ExpiryPolicy,
    rolling_expires_at: datetime | None,
) -> list[Expiring]:
    """For reminders: what will expire in the next `days`, by date, soonest first."""
    horizon = now + timedelta(days=days)
    if policy is ExpiryPolicy.ROLLING_ACTIVITY:
        total = sum(lot.remaining for lot in lots)
        if rolling_expires_at is None or rolling_expires_at > horizon or total <= 0:
            return []
        return [Expiring(total, rolling_expires_at)]
    by_date: dict[datetime, int] = {}
    for lot in spending_order(lots):
        if lot.expires_at is not None and lot.expires_at <= horizon:
            by_date[lot.expires_at] = by_date.get(lot.expires_at, 0) + lot.remaining
    return [Expiring(amount, at) for at, amount in sorted(by_date.items()) if amount > 0]
