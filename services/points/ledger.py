"""Posting to the ledger. Callers hold the member's row lock inside one transaction, so the
balance on the member row, the ledger row and the lots change together or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.models import Member, PointTransaction, Programme
from db.repositories import points as points_repo
from domain.auth import Principal
from domain.errors import DomainError, ErrorCode
from domain.lots import Take, allocate, first_of, lot_expiry
from domain.points import MAX_BALANCE, Bucket, NegativePolicy, PointsPolicy, TxKind


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
    return PointsPolicy.from_json(programme.points_policy)


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


async def _insert(
    member: Member,
    entry: Entry,
    *,
    kind: TxKind,
    bucket: Bucket,
    amount: int,
    reverses: PointTransaction | None = None,
    shortfall: int = 0,
) -> PointTransaction:
    return await points_repo.insert_transaction(
        programme_id=member.programme_id,
        member_id=member.id,
        kind=kind.value,
        bucket=bucket.value,
        amount=amount,
        available_after=member.points_available,
        pending_after=member.points_pending,
        reference_type=entry.reference_type,
        reference=entry.reference,
        reason=entry.reason,
        actor=entry.actor,
        idempotency_key=entry.idempotency_key,
        reverses_id=reverses.id if reverses else None,
        shortfall=shortfall,
        created_at=entry.at,
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
    tx = await _insert(member, entry, kind=kind, bucket=Bucket.PENDING, amount=amount)
    await points_repo.save_balances(member)
    return tx


async def debit_pending(
    member: Member,
    entry: Entry,
    amount: int,
    kind: TxKind,
    reverses: PointTransaction | None = None,
) -> PointTransaction:
    member.points_pending -= amount
    tx = await _insert(
        member, entry, kind=kind, bucket=Bucket.PENDING, amount=-amount, reverses=reverses
    )
    await points_repo.save_balances(member)
    return tx


async def credit_available(
    member: Member,
    entry: Entry,
    amount: int,
    kind: TxKind,
    policy: PointsPolicy,
    *,
    renews: bool = True,
) -> PointTransaction:
    """Earned points: a debt (negative balance) is repaid first, the rest becomes a new lot.

    `renews` marks an earning that restarts a ROLLING_ACTIVITY expiry (any earning does).
    """
    _check_room(member, amount)
    debt = max(0, -member.points_available)
    member.points_available += amount
    if renews:
        member.last_earned_at = entry.at
    tx = await _insert(member, entry, kind=kind, bucket=Bucket.AVAILABLE, amount=amount)
    if amount > debt:
        await points_repo.insert_lot(
            programme_id=member.programme_id,
            member_id=member.id,
            source_id=tx.id,
            amount=amount - debt,
            earned_at=entry.at,
            expires_at=lot_expiry(entry.at, policy.expiry_policy, policy.expiry_months),
        )
    await points_repo.save_balances(member)
    return tx


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
    tx = await _insert(
        member,
        entry,
        kind=kind,
        bucket=Bucket.AVAILABLE,
        amount=-taken,
        reverses=reverses,
        shortfall=shortfall,
    )
    await points_repo.take_from_lots(tx.id, takes)
    await points_repo.save_balances(member)
    return tx


async def restore(
    member: Member, entry: Entry, original: PointTransaction, kind: TxKind
) -> PointTransaction:
    """Give back what `original` took, into the same lots with their original expiry.

    A debt is repaid first, as with any credit: only the rest goes back into the lots, so the
    lots never hold more than the balance.
    """
    movements = await points_repo.movements_of(original.id)
    amount = -original.amount
    to_lots = amount - min(amount, max(0, -member.points_available))
    member.points_available += amount
    tx = await _insert(
        member, entry, kind=kind, bucket=Bucket.AVAILABLE, amount=amount, reverses=original
    )
    await points_repo.give_back_to_lots(
        tx.id, first_of([Take(m.lot_id, m.amount) for m in movements], to_lots)
    )
    await points_repo.save_balances(member)
    return tx


async def record_expiry(member: Member, entry: Entry, takes: list[Take]) -> PointTransaction:
    """Expiry takes exactly these lot remainders: never a debt, never more than is left."""
    total = sum(t.amount for t in takes)
    member.points_available -= total
    tx = await _insert(member, entry, kind=TxKind.EXPIRE, bucket=Bucket.AVAILABLE, amount=-total)
    await points_repo.take_from_lots(tx.id, takes)
    await points_repo.save_balances(member)
    return tx
