"""Ledger rows computed without writing, for the paths that write them in one statement with
what they belong to: a pending credit (recordOrder), an available debit (redeemPoints on
PostgreSQL) and a maturing order's move from pending to available (an order's completion).
Each computes what its twin in `ledger` would write, on a member the caller has read under
its row lock (or writes only if unchanged since)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.models import Member, Programme
from db.repositories.members import LockedMember
from db.repositories.points import NewEvent, NewRow
from domain.events import points_event_type, points_payload
from domain.lots import Lot, Take, allocate, lot_expiry
from domain.points import MAX_BALANCE, Bucket, TxKind
from services import events as event_service
from services.clock import wall_now, zone_of
from services.points.ledger import (
    BalanceLimit,
    Entry,
    check_room,
    event_of,
    may_expire_at,
    policy_of,
    rolling_due,
    row_of,
)


def pending_credit(
    member: LockedMember, entry: Entry, amount: int, kind: TxKind
) -> tuple[NewRow, NewEvent]:
    """`credit_pending` as rows to write, for a path that writes them in one statement with
    what they belong to (recordOrder): the ledger row, which leaves the balances on it, and
    its event. The caller holds the member's row lock it read `member` with."""
    if member.points_available + member.points_pending + amount > MAX_BALANCE:
        raise BalanceLimit(f"a member holds at most {MAX_BALANCE} points", field="amount")
    available, pending = member.points_available, member.points_pending + amount
    row = row_of(entry, kind, Bucket.PENDING, amount, available=available, pending=pending)
    event = event_of(
        member, entry, kind, Bucket.PENDING, amount, available=available, pending=pending
    )
    assert event is not None  # a credit is always told
    return row, event


def available_debit(
    member: Member, entry: Entry, amount: int, kind: TxKind, lots: list[Lot]
) -> tuple[NewRow, NewEvent | None, list[Take]]:
    """`debit_available` without a negative policy, as rows to write in one statement
    (redeemPoints on PostgreSQL): the ledger row, its event and what it takes from which of
    `lots` (the member's open lots, read with `member`). The caller has checked that the
    balance covers it (`require_spendable`), and writes only if the member is unchanged since."""
    takes, unpaid = allocate(lots, amount)
    if unpaid:
        raise RuntimeError("a spend the balance does not cover reached the ledger")
    available, pending = member.points_available - amount, member.points_pending
    row = row_of(entry, kind, Bucket.AVAILABLE, -amount, available=available, pending=pending)
    event = event_of(
        member, entry, kind, Bucket.AVAILABLE, -amount, available=available, pending=pending
    )
    return row, event, takes


@dataclass(frozen=True)
class Maturing:
    """Pending points made available, as rows to write in one statement: the PENDING debit and
    the AVAILABLE credit (in this order), the lot (None when a debt took all of it), the
    credit's event, and the member's balances after both (on the member passed in)."""

    debit: NewRow
    credit: NewRow
    lot_amount: int
    lot_expires_at: datetime | None
    event: NewEvent


def maturing(
    member: Member, entry: Entry, amount: int, kind: TxKind, programme: Programme
) -> Maturing:
    """`debit_pending` then `credit_available` (renewing), computed on the locked `member`
    (whose balances it moves, as they would) without writing: the caller writes the rows with
    what they belong to (an order's completion) in one statement."""
    member.points_pending -= amount
    debit = row_of(
        entry,
        kind,
        Bucket.PENDING,
        -amount,
        available=member.points_available,
        pending=member.points_pending,
    )
    # half of a move: the credit below tells it
    assert points_event_type(
        kind=kind.value, bucket=Bucket.PENDING.value, amount=-amount,
        reference_type=entry.reference_type,
    ) is None  # fmt: skip
    check_room(member, amount)
    policy = policy_of(programme)
    debt = max(0, -member.points_available)
    member.points_available += amount
    last = member.last_earned_at
    member.last_earned_at = entry.at if last is None else max(last, entry.at)
    expires_at = lot_expiry(
        entry.at, policy.expiry_policy, policy.expiry_months, zone_of(programme)
    )
    credit = row_of(
        entry,
        kind,
        Bucket.AVAILABLE,
        amount,
        available=member.points_available,
        pending=member.points_pending,
    )
    event_type = points_event_type(
        kind=kind.value, bucket=Bucket.AVAILABLE.value, amount=amount,
        reference_type=entry.reference_type,
    )  # fmt: skip
    assert event_type is not None
    told_expiry = expires_at or rolling_due(member, programme, policy)
    payload = points_payload(
        external_id=member.external_id,
        points=amount,
        available_after=member.points_available,
        pending_after=member.points_pending,
        source=entry.reference_type,
        reference=entry.reference,
        reason=entry.reason,
        expires_at=told_expiry,
    )
    may_expire_at(member, told_expiry)
    event = NewEvent(event_service.new_event_id(), event_type, entry.at, wall_now(), payload)
    return Maturing(debit, credit, max(amount - debt, 0), expires_at, event)
