"""Posting to the ledger. Callers hold the member's row lock inside one transaction, so the
balance on the member row, the ledger row and the lots change together or not at all.

Expiry is booked before anything else touches a balance: `lock` (and `settle`, for a member
locked some other way) writes whatever fell due up to the moment of the change, each step
dated when it was due. So a point past its expiry is never spent, held, clawed back or renewed,
whether or not the job has run since."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from db.connection import is_postgres
from db.models import Member, PointTransaction, Programme
from db.repositories import orders as order_repo
from db.repositories import points as points_repo
from db.repositories.members import LockedMember
from db.repositories.points import NewEvent, NewRow
from domain.auth import Principal
from domain.errors import DomainError, ErrorCode
from domain.events import points_event_type, points_payload
from domain.lots import (
    Lot,
    Take,
    allocate,
    expiry_steps,
    first_of,
    lot_expiry,
    next_expiry_due,
    rolling_expiry,
)
from domain.points import MAX_BALANCE, Bucket, ExpiryPolicy, NegativePolicy, PointsPolicy, TxKind
from services import events as event_service
from services.clock import now_of, wall_now, zone_of
from services.parsed import parsed

INSTANT = timedelta(microseconds=1)


class InsufficientPoints(DomainError):
    code = ErrorCode.INSUFFICIENT_POINTS


class PointsPending(DomainError):
    code = ErrorCode.POINTS_PENDING


class BalanceLimit(DomainError):
    code = ErrorCode.BALANCE_LIMIT


def _check_room(member: Member, amount: int) -> None:
    if member.points_available + member.points_pending + amount > MAX_BALANCE:
        raise BalanceLimit(f"a member holds at most {MAX_BALANCE} points", field="amount")


def policy_of(programme: Programme) -> PointsPolicy:
    return parsed("points", programme.id, programme.points_policy, PointsPolicy.from_json)


@dataclass(frozen=True)
class Entry:
    """What a ledger row says besides the amounts."""

    reference_type: str
    reference: str
    reason: str
    actor: str
    idempotency_key: str | None
    at: datetime


def actor_of(principal: Principal) -> str:
    return principal.scope


@dataclass(frozen=True)
class Posted:
    """A ledger row written, and the event it makes (None for half of a move already told),
    which `_save` writes with the member's balances."""

    tx: PointTransaction
    told: Told | None


@dataclass(frozen=True)
class Told:
    type: str
    payload: dict[str, Any]
    at: datetime


async def _insert(
    member: Member,
    entry: Entry,
    *,
    kind: TxKind,
    bucket: Bucket,
    amount: int,
    reverses: PointTransaction | None = None,
    shortfall: int = 0,
    expires_at: datetime | None = None,
) -> Posted:
    tx = await points_repo.insert_transaction(
        programme_id=member.programme_id,
        member_id=member.id,
        reverses_id=reverses.id if reverses else None,
        shortfall=shortfall,
        **asdict(
            _row_of(
                entry,
                kind,
                bucket,
                amount,
                available=member.points_available,
                pending=member.points_pending,
            )
        ),
    )
    event_type = points_event_type(
        kind=kind.value, bucket=bucket.value, amount=amount, reference_type=entry.reference_type
    )
    if event_type is None:
        return Posted(tx, None)
    payload = points_payload(
        external_id=member.external_id,
        points=amount,
        available_after=member.points_available,
        pending_after=member.points_pending,
        source=entry.reference_type,
        reference=entry.reference,
        reason=entry.reason,
        expires_at=expires_at,
        shortfall=shortfall,
    )
    return Posted(tx, Told(event_type, payload, entry.at))


async def _save(member: Member, told: Told | None) -> None:
    """The member's balances, and the event of the change with them (one statement on
    PostgreSQL: the event costs the ledger no round trip of its own)."""
    if told is None:
        await points_repo.save_balances(member)
        return
    await event_service.save_balances_and_record(
        member, told.type, told.payload, occurred_at=told.at
    )


def spendable(member: Member) -> int:
    return int(member.points_available - member.points_held)


def require_spendable(member: Member, amount: int, field: str = "amount") -> None:
    """Refuse a spend the balance does not cover, saying whether pending points are why."""
    if amount <= spendable(member):
        return
    if amount <= spendable(member) + member.points_pending:
        raise PointsPending(
            "some of these points are still pending (the order's return window is open)",
            field=field,
        )
    raise InsufficientPoints(
        f"the member has {max(spendable(member), 0)} points to spend", field=field
    )


async def credit_pending(
    member: Member, entry: Entry, amount: int, kind: TxKind
) -> PointTransaction:
    _check_room(member, amount)
    member.points_pending += amount
    posted = await _insert(member, entry, kind=kind, bucket=Bucket.PENDING, amount=amount)
    await _save(member, posted.told)
    return posted.tx


def _told(
    member: LockedMember | Member,
    entry: Entry,
    kind: TxKind,
    bucket: Bucket,
    amount: int,
    *,
    available: int,
    pending: int,
    expires_at: datetime | None = None,
) -> NewEvent | None:
    """The event a ledger row of a one-statement write makes (as `_insert` tells it)."""
    event_type = points_event_type(
        kind=kind.value, bucket=bucket.value, amount=amount, reference_type=entry.reference_type
    )
    if event_type is None:
        return None
    payload = points_payload(
        external_id=member.external_id,
        points=amount,
        available_after=available,
        pending_after=pending,
        source=entry.reference_type,
        reference=entry.reference,
        reason=entry.reason,
        expires_at=expires_at,
    )
    return NewEvent(event_service.new_event_id(), event_type, entry.at, wall_now(), payload)


def pending_credit(
    member: LockedMember, entry: Entry, amount: int, kind: TxKind
) -> tuple[NewRow, NewEvent]:
    """`credit_pending` as rows to write, for a path that writes them in one statement with
    what they belong to (recordOrder): the ledger row, which leaves the balances on it, and
    its event. The caller holds the member's row lock it read `member` with."""
    if member.points_available + member.points_pending + amount > MAX_BALANCE:
        raise BalanceLimit(f"a member holds at most {MAX_BALANCE} points", field="amount")
    available, pending = member.points_available, member.points_pending + amount
    row = _row_of(entry, kind, Bucket.PENDING, amount, available=available, pending=pending)
    event = _told(member, entry, kind, Bucket.PENDING, amount, available=available, pending=pending)
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
    row = _row_of(entry, kind, Bucket.AVAILABLE, -amount, available=available, pending=pending)
    event = _told(
        member, entry, kind, Bucket.AVAILABLE, -amount, available=available, pending=pending
    )
    return row, event, takes


async def debit_pending(
    member: Member,
    entry: Entry,
    amount: int,
    kind: TxKind,
    reverses: PointTransaction | None = None,
) -> PointTransaction:
    member.points_pending -= amount
    posted = await _insert(
        member, entry, kind=kind, bucket=Bucket.PENDING, amount=-amount, reverses=reverses
    )
    await _save(member, posted.told)
    return posted.tx


async def credit_available(
    member: Member,
    entry: Entry,
    amount: int,
    kind: TxKind,
    programme: Programme,
    *,
    renews: bool = True,
) -> PointTransaction:
    """Earned points: a debt (negative balance) is repaid first, the rest becomes a new lot.

    `renews` marks an earning that restarts a ROLLING_ACTIVITY expiry (any earning does).
    """
    _check_room(member, amount)
    policy = policy_of(programme)
    debt = max(0, -member.points_available)
    member.points_available += amount
    if renews:
        last = member.last_earned_at
        member.last_earned_at = entry.at if last is None else max(last, entry.at)
    expires_at = lot_expiry(
        entry.at, policy.expiry_policy, policy.expiry_months, zone_of(programme)
    )
    due = expires_at or _rolling_due(member, programme, policy)
    lot_amount = max(0, amount - debt)
    _may_expire_at(member, due)
    if is_postgres():  # one statement: the row, its lot, the balances and the event
        available, pending = member.points_available, member.points_pending
        return await points_repo.write_credit(
            member,
            _row_of(entry, kind, Bucket.AVAILABLE, amount, available=available, pending=pending),
            lot_amount=lot_amount,
            lot_expires_at=expires_at,
            event=_told(
                member,
                entry,
                kind,
                Bucket.AVAILABLE,
                amount,
                available=available,
                pending=pending,
                expires_at=due,
            ),
        )
    posted = await _insert(
        member, entry, kind=kind, bucket=Bucket.AVAILABLE, amount=amount, expires_at=due
    )
    if lot_amount:
        await points_repo.insert_lot(
            programme_id=member.programme_id,
            member_id=member.id,
            source_id=posted.tx.id,
            amount=lot_amount,
            earned_at=entry.at,
            expires_at=expires_at,
        )
    await _save(member, posted.told)
    return posted.tx


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


def _row_of(
    entry: Entry, kind: TxKind, bucket: Bucket, amount: int, *, available: int, pending: int
) -> NewRow:
    """The ledger row `entry` writes, leaving the member's balances at (available, pending)."""
    return NewRow(
        kind=kind.value,
        bucket=bucket.value,
        amount=amount,
        available_after=available,
        pending_after=pending,
        reference_type=entry.reference_type,
        reference=entry.reference,
        reason=entry.reason,
        actor=entry.actor,
        idempotency_key=entry.idempotency_key,
        created_at=entry.at,
    )


def maturing(
    member: Member, entry: Entry, amount: int, kind: TxKind, programme: Programme
) -> Maturing:
    """`debit_pending` then `credit_available` (renewing), computed on the locked `member`
    (whose balances it moves, as they would) without writing: the caller writes the rows with
    what they belong to (an order's completion) in one statement."""
    member.points_pending -= amount
    debit = _row_of(
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
    _check_room(member, amount)
    policy = policy_of(programme)
    debt = max(0, -member.points_available)
    member.points_available += amount
    last = member.last_earned_at
    member.last_earned_at = entry.at if last is None else max(last, entry.at)
    expires_at = lot_expiry(
        entry.at, policy.expiry_policy, policy.expiry_months, zone_of(programme)
    )
    credit = _row_of(
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
    told_expiry = expires_at or _rolling_due(member, programme, policy)
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
    _may_expire_at(member, told_expiry)
    event = NewEvent(event_service.new_event_id(), event_type, entry.at, wall_now(), payload)
    return Maturing(debit, credit, max(amount - debt, 0), expires_at, event)


async def debit_available(
    member: Member,
    entry: Entry,
    amount: int,
    kind: TxKind,
    *,
    negative: NegativePolicy | None = None,
    first_lot: int | None = None,
    reverses: PointTransaction | None = None,
) -> PointTransaction:
    """Spend or take back points, soonest-expiring lots first.

    Without `negative` the caller has checked the balance covers it. With it (a return taking
    back points already spent), ALLOW_NEGATIVE leaves a debt; CLAMP_AND_RECORD takes only what
    the member can spend (points reserved by a hold stay reserved) and records the shortfall
    on the ledger row and the member.
    """
    taken, shortfall = amount, 0
    if negative is NegativePolicy.CLAMP_AND_RECORD:
        taken = min(amount, max(spendable(member), 0))
        shortfall = amount - taken
        member.points_shortfall += shortfall
    takes, unpaid = allocate(await points_repo.open_lots(member.id), taken, first=first_lot)
    if unpaid and negative is None:
        raise RuntimeError("a spend the balance does not cover reached the ledger")
    member.points_available -= taken
    posted = await _insert(
        member,
        entry,
        kind=kind,
        bucket=Bucket.AVAILABLE,
        amount=-taken,
        reverses=reverses,
        shortfall=shortfall,
    )
    await points_repo.take_from_lots(posted.tx.id, takes)
    await _save(member, posted.told)
    return posted.tx


async def expired_of(earned: PointTransaction) -> int:
    """Points of this credit that expired out of its own lot (and so are beyond taking back)."""
    lot = await points_repo.lot_of_source(earned.id)
    return await points_repo.expired_from_lot(lot.id) if lot is not None else 0


async def take_back(
    member: Member,
    entry: Entry,
    earned: PointTransaction,
    amount: int,
    *,
    negative: NegativePolicy,
    whole: bool = True,
) -> PointTransaction | None:
    """Reverse `amount` of what `earned` credited (a return, a reward undone), its own lot
    first: what is left of it, then — by the negative policy — what was spent of it. The
    caller leaves out what expired (`expired_of`): expired points are gone, and taking them
    again from newer lots would charge the member twice. Nothing to take: no row. `whole`:
    this undoes the credit once and for all, and the row says which it reverses."""
    if amount <= 0:
        return None
    lot = await points_repo.lot_of_source(earned.id)
    return await debit_available(
        member,
        entry,
        amount,
        TxKind.REVERSE,
        negative=negative,
        first_lot=lot.id if lot is not None else None,
        reverses=earned if whole else None,
    )


async def restore(
    member: Member, entry: Entry, original: PointTransaction, kind: TxKind
) -> PointTransaction:
    """Give back what `original` took, into the same lots with their original expiry.

    A debt is repaid first, as with any credit: only the rest goes back into the lots, so the
    lots never hold more than the balance. A lot whose expiry has passed takes its points back
    too: the next `settle` expires them, dated when they were due.
    """
    movements = await points_repo.movements_of(original.id)
    amount = -original.amount
    to_lots = amount - min(amount, max(0, -member.points_available))
    member.points_available += amount
    posted = await _insert(
        member, entry, kind=kind, bucket=Bucket.AVAILABLE, amount=amount, reverses=original
    )
    restored = first_of([Take(m.lot_id, m.amount) for m in movements], to_lots)
    await points_repo.give_back_to_lots(posted.tx.id, restored)
    for expires_at in await points_repo.expiries_of_lots([t.lot_id for t in restored]):
        _may_expire_at(member, expires_at)
    await _save(member, posted.told)
    return posted.tx


async def record_expiry(member: Member, entry: Entry, takes: list[Take]) -> PointTransaction:
    """Expiry takes exactly these lot remainders: never a debt, never more than is left."""
    total = sum(t.amount for t in takes)
    member.points_available -= total
    posted = await _insert(
        member, entry, kind=TxKind.EXPIRE, bucket=Bucket.AVAILABLE, amount=-total
    )
    await points_repo.take_from_lots(posted.tx.id, takes)
    await _save(member, posted.told)
    return posted.tx


# ---- expiry, booked when it fell due ---------------------------------------------------------


def _may_expire_at(member: Member, moment: datetime | None) -> None:
    """Keep `expiry_due_at` a lower bound of when any of the member's points can expire."""
    if moment is not None and (member.expiry_due_at is None or moment < member.expiry_due_at):
        member.expiry_due_at = moment


def _rolling_due(member: Member, programme: Programme, policy: PointsPolicy) -> datetime | None:
    if policy.expiry_policy is not ExpiryPolicy.ROLLING_ACTIVITY:
        return None
    return rolling_expiry(member.last_earned_at, policy.expiry_months, zone_of(programme))


def _unbooked_expiry(
    member: Member, programme: Programme, lots: list[Lot], until: datetime
) -> list[tuple[datetime, list[Take]]]:
    """Expiry that fell due up to `until` and is not on the ledger yet, step by step."""
    policy = policy_of(programme)
    return [
        (step.due_at, step.takes)
        for step in expiry_steps(
            lots,
            until,
            policy=policy.expiry_policy,
            rolling_expires_at=_rolling_due(member, programme, policy),
            spendable=spendable(member),
        )
    ]


def expiry_is_due(member: Member, until: datetime) -> bool:
    """From the member row alone: might some of its points have expired by `until`?"""
    return member.expiry_due_at is not None and member.expiry_due_at <= until


async def due_expiry(
    member: Member, programme: Programme, until: datetime
) -> tuple[list[Lot], list[tuple[datetime, list[Take]]]]:
    """The member's open lots, and the expiry due up to `until` not booked yet. Under rolling
    expiry, not past a pending order whose return window closed: the job completes it first
    (dated when it closed), and that earning renews the balance."""
    if policy_of(programme).expiry_policy is ExpiryPolicy.ROLLING_ACTIVITY:
        matures = await order_repo.first_maturity_of(member.id)
        if matures is not None and matures <= until:
            until = matures - INSTANT
    lots = await points_repo.open_lots(member.id)
    return lots, _unbooked_expiry(member, programme, lots, until)


async def settle(member: Member, programme: Programme, until: datetime) -> int:
    """Book the expiry that fell due up to `until` (the locked member's), each step dated when
    it was due, and narrow `expiry_due_at` to what is left. Returns the points expired."""
    if not expiry_is_due(member, until):
        return 0
    lots, steps = await due_expiry(member, programme, until)
    expired = 0
    for due_at, takes in steps:
        local_day = due_at.astimezone(zone_of(programme)).date().isoformat()
        entry = Entry("EXPIRY", local_day, "points expired", "system:expiry", None, due_at)
        await record_expiry(member, entry, takes)
        expired += sum(t.amount for t in takes)
        lots = _after(lots, takes)
    policy = policy_of(programme)
    member.expiry_due_at = next_expiry_due(
        lots,
        policy=policy.expiry_policy,
        rolling_expires_at=_rolling_due(member, programme, policy),
    )
    await points_repo.save_balances(member)
    return expired


def _after(lots: list[Lot], takes: list[Take]) -> list[Lot]:
    taken: dict[int, int] = {}
    for take in takes:
        taken[take.lot_id] = taken.get(take.lot_id, 0) + take.amount
    return [
        Lot(lot.id, lot.remaining - taken.get(lot.id, 0), lot.earned_at, lot.expires_at)
        for lot in lots
    ]


async def lock(programme: Programme, member_id: int, *, at: datetime | None = None) -> Member:
    """The member's row lock, with its expiry booked up to `at` (the programme's now): what
    every change to a member's points starts with."""
    member = await points_repo.lock_member(programme.id, member_id)
    await settle(member, programme, at or now_of(programme))
    return member


async def lock_many(
    programme: Programme, member_ids: set[int], *, at: datetime | None = None
) -> dict[int, Member]:
    """Several members, locked in ascending id order (no two paths can wait on each other),
    each with its expiry booked."""
    members = await points_repo.lock_members(programme.id, member_ids)
    moment = at or now_of(programme)
    for member in members.values():
        await settle(member, programme, moment)
    return members
