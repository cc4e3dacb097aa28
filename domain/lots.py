"""Earning lots: what is spent first, what expires when. Pure: `now` is always an argument."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

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


def add_months(moment: datetime, months: int, tz: tzinfo | None = None) -> datetime:
    """Calendar months; a day the target month lacks becomes its last day (Jan 31 + 1 = Feb 28).

    With `tz` (the programme's time zone) the months are counted on its local calendar and
    wall clock — 31 January 07:00 in Shanghai + 1 month is 28 February 07:00 there, whatever
    day that is in UTC — and the result is given back in `moment`'s own time zone.
    """
    local = moment.astimezone(tz) if tz is not None else moment
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    shifted = local.replace(year=year, month=month, day=day)
    return shifted.astimezone(moment.tzinfo) if tz is not None else shifted


def lot_expiry(
    earned_at: datetime, policy: ExpiryPolicy, months: int, tz: tzinfo | None = None
) -> datetime | None:
    """A lot's own expiry under LOTS; under ROLLING_ACTIVITY lots share the balance's expiry."""
    return add_months(earned_at, months, tz) if policy is ExpiryPolicy.LOTS else None


def rolling_expiry(
    last_earned_at: datetime | None, months: int, tz: tzinfo | None = None
) -> datetime | None:
    return add_months(last_earned_at, months, tz) if last_earned_at is not None else None


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


def lots_after(lots: list[Lot], takes: list[Take]) -> list[Lot]:
    """The lots with what the takes took from them (each lot in its place, emptied ones kept)."""
    taken: dict[int, int] = {}
    for take in takes:
        taken[take.lot_id] = taken.get(take.lot_id, 0) + take.amount
    return [
        Lot(lot.id, lot.remaining - taken.get(lot.id, 0), lot.earned_at, lot.expires_at)
        for lot in lots
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
        if rolling_expires_at is None or not now < rolling_expires_at <= horizon or total <= 0:
            return []
        return [Expiring(total, rolling_expires_at)]
    by_date: dict[datetime, int] = {}
    for lot in spending_order(lots):
        if lot.expires_at is not None and now < lot.expires_at <= horizon:
            by_date[lot.expires_at] = by_date.get(lot.expires_at, 0) + lot.remaining
    return [Expiring(amount, at) for at, amount in sorted(by_date.items()) if amount > 0]


@dataclass(frozen=True)
class ExpiryStep:
    """What expiry takes at one moment it fell due."""

    due_at: datetime
    takes: list[Take]

    @property
    def amount(self) -> int:
        return sum(take.amount for take in self.takes)


def expiry_steps(
    lots: list[Lot],
    until: datetime,
    *,
    policy: ExpiryPolicy,
    rolling_expires_at: datetime | None,
    spendable: int,
) -> list[ExpiryStep]:
    """Expiry due up to `until`, one step per moment it fell due, in that order — what the job
    books (each step dated when it was due) and what a read of the balance leaves out before
    the job has run. Points that checkout holds reserve are not taken (`spendable` is what the
    holds leave): the soonest-expiring due points go first, the rest wait for the hold's end.
    """
    due: dict[datetime, list[Take]] = {}
    for lot in spending_order(lots):
        moment = _due_at(lot, policy, rolling_expires_at)
        if moment is not None and moment <= until:
            due.setdefault(moment, []).append(Take(lot.id, lot.remaining))
    steps: list[ExpiryStep] = []
    for moment in sorted(due):
        takes = first_of(due[moment], spendable)
        if not takes:
            break
        steps.append(ExpiryStep(moment, takes))
        spendable -= sum(take.amount for take in takes)
    return steps


def _due_at(lot: Lot, policy: ExpiryPolicy, rolling_expires_at: datetime | None) -> datetime | None:
    return rolling_expires_at if policy is ExpiryPolicy.ROLLING_ACTIVITY else lot.expires_at


def next_expiry_due(
    lots: list[Lot], *, policy: ExpiryPolicy, rolling_expires_at: datetime | None
) -> datetime | None:
    """The earliest moment any of these points can expire (None: nothing left to expire)."""
    moments = [
        moment
        for lot in lots
        if lot.remaining > 0 and (moment := _due_at(lot, policy, rolling_expires_at)) is not None
    ]
    return min(moments, default=None)
