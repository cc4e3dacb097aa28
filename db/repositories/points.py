"""Every query of the points ledger: transactions, lots and their movements."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, astuple, dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from tortoise import connections
from tortoise.expressions import F, Subquery
from tortoise.functions import Sum
from tortoise.queryset import QuerySet

from db.models import LotMovement, Member, PointLot, PointTransaction
from db.repositories.paging import keyset
from domain.lots import Lot, Take
from domain.paging import PageRequest


async def lock_member(programme_id: int, member_id: int) -> Member:
    """Row lock: every change to a member's points queues behind the one before it (PostgreSQL;
    SQLite serialises all writers anyway)."""
    return (
        await Member.filter(programme_id=programme_id, id=member_id)
        .select_for_update(no_key=True)
        .get()
    )


async def lock_members(programme_id: int, member_ids: set[int]) -> dict[int, Member]:
    """Several members at once, locked in ascending id order: every path that locks more than
    one member row goes through here, so two of them cannot wait on each other."""
    rows = (
        await Member.filter(programme_id=programme_id, id__in=sorted(member_ids))
        .order_by("id")
        .select_for_update(no_key=True)
    )
    return {row.id: row for row in rows}


async def insert_transaction(**fields: Any) -> PointTransaction:
    return await PointTransaction.create(**fields)


BALANCES = (
    "points_available",
    "points_pending",
    "points_held",
    "points_shortfall",
    "last_earned_at",
    "expiry_due_at",
)


async def save_balances(member: Member) -> None:
    await member.save(update_fields=list(BALANCES))


async def open_lots(member_id: int) -> list[Lot]:
    rows = await PointLot.filter(member_id=member_id, remaining__gt=0)
    return [Lot(r.id, r.remaining, r.earned_at, r.expires_at) for r in rows]


async def insert_lot(
    *,
    programme_id: int,
    member_id: int,
    source_id: int,
    amount: int,
    earned_at: datetime,
    expires_at: datetime | None,
) -> PointLot:
    return await PointLot.create(
        programme_id=programme_id,
        member_id=member_id,
        source_id=source_id,
        amount=amount,
        remaining=amount,
        earned_at=earned_at,
        expires_at=expires_at,
    )


async def take_from_lots(transaction_id: int, takes: list[Take]) -> None:
    """Lower each lot's remainder and record what this transaction took from it."""
    await _move(transaction_id, takes, sign=1)


async def _move(transaction_id: int, takes: list[Take], *, sign: int) -> None:
    for take in takes:
        await PointLot.filter(id=take.lot_id).update(remaining=F("remaining") - sign * take.amount)
    await LotMovement.bulk_create(
        [
            LotMovement(transaction_id=transaction_id, lot_id=t.lot_id, amount=sign * t.amount)
            for t in takes
        ]
    )


async def movements_of(transaction_id: int) -> list[LotMovement]:
    return await LotMovement.filter(transaction_id=transaction_id, amount__gt=0).order_by("id")


async def give_back_to_lots(transaction_id: int, restored: list[Take]) -> None:
    """Undo takes: the points go back into the very lots they came from, expiry and all."""
    await _move(transaction_id, restored, sign=-1)


async def expiries_of_lots(lot_ids: list[int]) -> list[datetime | None]:
    if not lot_ids:
        return []
    rows = await PointLot.filter(id__in=lot_ids).values("expires_at")
    return [row["expires_at"] for row in rows]


async def expired_from_lot(lot_id: int) -> int:
    """Points expiry took out of this lot (net of any given back to it since)."""
    rows = await LotMovement.filter(lot_id=lot_id, transaction__kind="EXPIRE").values("amount")
    return sum(int(row["amount"]) for row in rows)


async def lot_of_source(source_id: int) -> PointLot | None:
    return await PointLot.get_or_none(source_id=source_id)


async def get_transaction(programme_id: int, transaction_id: int) -> PointTransaction | None:
    return await PointTransaction.get_or_none(programme_id=programme_id, id=transaction_id)


async def reversal_of(transaction_id: int) -> PointTransaction | None:
    return await PointTransaction.get_or_none(reverses_id=transaction_id)


async def transactions_of_reference(
    programme_id: int, member_id: int, *, kind: str, reference_type: str, reference: str
) -> list[PointTransaction]:
    return await PointTransaction.filter(
        programme_id=programme_id,
        member_id=member_id,
        kind=kind,
        reference_type=reference_type,
        reference=reference,
    ).order_by("id")


def _history(
    programme_id: int, member_id: int, kinds: list[str] | None
) -> QuerySet[PointTransaction]:
    query = PointTransaction.filter(programme_id=programme_id, member_id=member_id)
    return query.filter(kind__in=kinds) if kinds else query


async def history_page(
    programme_id: int, member_id: int, *, kinds: list[str] | None, request: PageRequest
) -> list[PointTransaction]:
    """Newest first, keyset by id."""
    return await keyset(_history(programme_id, member_id, kinds), request, list_descending=True)


async def history_count(programme_id: int, member_id: int, *, kinds: list[str] | None) -> int:
    return int(await _history(programme_id, member_id, kinds).count())


async def moved_between(
    member_id: int, *, kind: str, reference_type: str, since: datetime, until: datetime
) -> int:
    """The signed sum of the member's rows of this kind and reference type in [since, until)."""
    rows = (
        await PointTransaction.filter(
            member_id=member_id,
            kind=kind,
            reference_type=reference_type,
            created_at__gte=since,
            created_at__lt=until,
        )
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return int(rows[0]["total"] or 0) if rows else 0


async def ledger_sums(member_id: int) -> dict[str, int]:
    """Sum of the ledger per bucket: what the member row's balances must equal."""
    rows = (
        await PointTransaction.filter(member_id=member_id)
        .annotate(total=Sum("amount"))
        .group_by("bucket")
        .values("bucket", "total")
    )
    return {row["bucket"]: int(row["total"]) for row in rows}


async def members_with_expiry_due(
    programme_id: int, now: datetime, *, after_id: int, limit: int
) -> list[int]:
    rows = (
        await Member.filter(programme_id=programme_id, expiry_due_at__lte=now, id__gt=after_id)
        .order_by("id")
        .limit(limit)
        .values("id")
    )
    return [int(r["id"]) for r in rows]


async def recheck_expiry(programme_id: int, at: datetime) -> None:
    """The expiry rule changed: every member holding lots is looked at again from `at` on."""
    holders = PointLot.filter(programme_id=programme_id, remaining__gt=0).values("member_id")
    await Member.filter(programme_id=programme_id, id__in=Subquery(holders)).update(
        expiry_due_at=at
    )


async def date_undated_lots(programme_id: int, expiry_for: Callable[[datetime], datetime]) -> int:
    lots = await PointLot.filter(programme_id=programme_id, expires_at=None, remaining__gt=0)
    for lot in lots:
        lot.expires_at = expiry_for(lot.earned_at)
        await lot.save(update_fields=["expires_at"])
    return len(lots)


@dataclass(frozen=True)
class NewRow:
    """A ledger row to write, with the balances it leaves on the member row."""

    kind: str
    bucket: str
    amount: int
    available_after: int
    pending_after: int
    reference_type: str
    reference: str
    reason: str
    actor: str
    idempotency_key: str | None
    created_at: datetime


@dataclass(frozen=True)
class NewEvent:
    """The event a ledger row makes (written with the balances, in the same statement)."""

    event_id: UUID
    type: str
    occurred_at: datetime
    recorded_at: datetime
    payload: dict[str, Any]


# The balances set from parameters $16-$21, in BALANCES' order.
_BALANCES_FROM_16 = ", ".join(
    f"{name} = ${n}::{'timestamptz' if name.endswith('_at') else 'bigint'}"
    for n, name in enumerate(BALANCES, 16)
)

# A credit to the available bucket (`services.points.ledger.credit_available`) in one
# statement on PostgreSQL: the ledger row, its lot when some of it is left after a debt
# ($14 > 0), the member's balances, and the row's event ($22, none when NULL) numbered as
# events.py numbers a member's events. The caller holds the member's row lock.
_CREDIT = f"""
WITH t AS (
    INSERT INTO point_transactions (programme_id, member_id, kind, bucket, amount,
        available_after, pending_after, reference_type, reference, reason, actor,
        idempotency_key, reverses_id, shortfall, created_at)
    VALUES ($1::int, $2::int, $3::text, $4::text, $5::bigint, $6::bigint, $7::bigint,
        $8::text, $9::text, $10::text, $11::text, $12::text, NULL, 0, $13::timestamptz)
    RETURNING id
),
lot AS (
    INSERT INTO point_lots
        (programme_id, member_id, source_id, amount, remaining, earned_at, expires_at)
    SELECT $1::int, $2::int, t.id, $14::bigint, $14::bigint, $13::timestamptz,
        $15::timestamptz
    FROM t WHERE $14::bigint > 0
),
m AS (
    UPDATE members SET {_BALANCES_FROM_16},
        event_seq = event_seq + CASE WHEN $22::uuid IS NULL THEN 0 ELSE 1 END
    WHERE id = $2::int
    RETURNING event_seq
),
e AS (
    INSERT INTO events
        (event_id, programme_id, member_id, type, sequence, occurred_at, recorded_at, payload)
    SELECT $22::uuid, $1::int, $2::int, $23::text, m.event_seq, $24::timestamptz,
        $25::timestamptz, $26::jsonb
    FROM m WHERE $22::uuid IS NOT NULL
)
SELECT id FROM t
"""


async def write_credit(
    member: Member,
    row: NewRow,
    *,
    lot_amount: int,
    lot_expires_at: datetime | None,
    event: NewEvent | None,
) -> PointTransaction:
    """`_CREDIT` (PostgreSQL): `member` carries its balances after the credit; the ledger row
    is returned as a read would give it back."""
    args = [
        member.programme_id,
        member.id,
        *astuple(row),  # $3-$13: kind ... created_at, in NewRow's order
        lot_amount,
        lot_expires_at,
        *(getattr(member, name) for name in BALANCES),
        event.event_id if event else None,
        event.type if event else "",
        event.occurred_at if event else row.created_at,
        event.recorded_at if event else row.created_at,
        json.dumps(event.payload, separators=(",", ":")) if event else "{}",
    ]
    rows = await connections.get("default").execute_query_dict(_CREDIT, args)
    created_at = PointTransaction._meta.fields_map["created_at"].to_python_value(row.created_at)
    fields = {**asdict(row), "created_at": created_at}
    return PointTransaction._init_from_db(
        id=int(rows[0]["id"]),
        programme_id=member.programme_id,
        member_id=member.id,
        reverses_id=None,
        shortfall=0,
        **fields,
    )
