"""Posting to the ledger: credits and debits of a member's pending and available points,
taking back and restoring, each with the lots it moves and the event it tells. Callers hold
the member's row lock inside one transaction, so the balance on the member row, the ledger row
and the lots change together or not at all.

Expiry is booked before anything else touches a balance: `expiry.lock` (and `expiry.settle`,
for a member locked some other way) writes whatever fell due up to the moment of the change,
each step dated when it was due. So a point past its expiry is never spent, held, clawed back
or renewed, whether or not the job has run since. The rows of a one-statement write are
computed in `ledger_rows`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from db.connection import is_postgres
from db.models import Member, PointTransaction, Programme
from db.repositories import points as points_repo
from db.repositories.members import LockedMember
from db.repositories.points import NewEvent, NewRow
from domain.auth import Principal
from domain.errors import DomainError, ErrorCode
from domain.events import points_event_type, points_payload
from domain.lots import Take, allocate, first_of, lot_expiry, rolling_expiry
from domain.points import MAX_BALANCE, Bucket, ExpiryPolicy, NegativePolicy, PointsPolicy, TxKind
from services import events as event_service
from services.clock import wall_now, zone_of
from services.parsed import parsed

INSTANT = timedelta(microseconds=1)


class InsufficientPoints(DomainError):
    code = ErrorCode.INSUFFICIENT_POINTS


class PointsPending(DomainError):
    code = ErrorCode.POINTS_PENDING


class BalanceLimit(DomainError):
    code = ErrorCode.BALANCE_LIMIT


def check_room(member: Member, amount: int) -> None:
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
            row_of(
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
    check_room(member, amount)
    member.points_pending += amount
    posted = await _insert(member, entry, kind=kind, bucket=Bucket.PENDING, amount=amount)
    await _save(member, posted.told)
    return posted.tx


def event_of(
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
    check_room(member, amount)
    policy = policy_of(programme)
    debt = max(0, -member.points_available)
    member.points_available += amount
    if renews:
        last = member.last_earned_at
        member.last_earned_at = entry.at if last is None else max(last, entry.at)
    expires_at = lot_expiry(
        entry.at, policy.expiry_policy, policy.expiry_months, zone_of(programme)
    )
    due = expires_at or rolling_due(member, programme, policy)
    lot_amount = max(0, amount - debt)
    may_expire_at(member, due)
    if is_postgres():  # one statement: the row, its lot, the balances and the event
        available, pending = member.points_available, member.points_pending
        return await points_repo.write_credit(
            member,
            row_of(entry, kind, Bucket.AVAILABLE, amount, available=available, pending=pending),
            lot_amount=lot_amount,
            lot_expires_at=expires_at,
            event=event_of(
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


def row_of(
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
    too: the next `expiry.settle` expires them, dated when they were due.
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
        may_expire_at(member, expires_at)
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


def may_expire_at(member: Member, moment: datetime | None) -> None:
    """Keep `expiry_due_at` a lower bound of when any of the member's points can expire."""
    if moment is not None and (member.expiry_due_at is None or moment < member.expiry_due_at):
        member.expiry_due_at = moment


def rolling_due(member: Member, programme: Programme, policy: PointsPolicy) -> datetime | None:
    if policy.expiry_policy is not ExpiryPolicy.ROLLING_ACTIVITY:
        return None
    return rolling_expiry(member.last_earned_at, policy.expiry_months, zone_of(programme))
