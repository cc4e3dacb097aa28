"""The points side of a run-jobs batch: each member's open lots (what expiry takes from), and
the ledger rows that expiry and maturing orders book (LedgerRow), written with the lots the
credits open (NewLot), the lot movements and the old lots' new remainders — a statement each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.repositories.jobs.batch import _db, _new_ids
from domain.lots import Lot, Take

_OPEN_LOTS = """
SELECT member_id, id, remaining, earned_at, expires_at FROM point_lots
 WHERE member_id = ANY($1::int[]) AND remaining > 0
 ORDER BY member_id, id
"""

_TRANSACTION_IDS = "SELECT nextval('point_transactions_id_seq') AS id FROM generate_series(1, $1)"

_INSERT_ROWS = """
INSERT INTO point_transactions (id, programme_id, member_id, kind, bucket, amount,
    available_after, pending_after, reference_type, reference, reason, actor, idempotency_key,
    shortfall, created_at)
SELECT t.id, $1, t.member_id, t.kind, t.bucket, t.amount, t.available_after, t.pending_after,
       t.reference_type, t.reference, t.reason, t.actor, t.idempotency_key, 0, t.at
  FROM unnest($2::bigint[], $3::int[], $4::text[], $5::text[], $6::bigint[], $7::bigint[],
              $8::bigint[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
              $14::timestamptz[])
       AS t(id, member_id, kind, bucket, amount, available_after, pending_after,
            reference_type, reference, reason, actor, idempotency_key, at)
"""

_LOT_IDS = "SELECT nextval('point_lots_id_seq') AS id FROM generate_series(1, $1)"

_INSERT_LOTS = """
INSERT INTO point_lots (id, programme_id, member_id, source_id, amount, remaining, earned_at,
                        expires_at)
SELECT l.id, $1, l.member_id, l.source_id, l.amount, l.remaining, l.earned_at, l.expires_at
  FROM unnest($2::bigint[], $3::int[], $4::bigint[], $5::bigint[], $6::bigint[],
              $7::timestamptz[], $8::timestamptz[])
       AS l(id, member_id, source_id, amount, remaining, earned_at, expires_at)
"""

_INSERT_MOVEMENTS = """
INSERT INTO lot_movements (transaction_id, lot_id, amount)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])
"""

_TAKE_FROM_LOTS = """
UPDATE point_lots l SET remaining = l.remaining - v.amount
  FROM unnest($1::bigint[], $2::bigint[]) AS v(id, amount)
 WHERE l.id = v.id
"""


async def open_lots(member_ids: list[int]) -> dict[int, list[Lot]]:
    """Each member's lots with points left (points_repo.open_lots, for many members)."""
    found: dict[int, list[Lot]] = {i: [] for i in member_ids}
    if not member_ids:
        return found
    for r in await _db().execute_query_dict(_OPEN_LOTS, [member_ids]):
        found[int(r["member_id"])].append(
            Lot(int(r["id"]), int(r["remaining"]), r["earned_at"], r["expires_at"])
        )
    return found


@dataclass(frozen=True)
class LedgerRow:
    """One ledger row as the ledger writes it (an expiry, half of a maturing order's move),
    with the lots it takes (an expiry) or the lot it opens (an order's credit: `lot` is the
    batch's placeholder id of a NewLot)."""

    member_id: int
    kind: str
    bucket: str
    amount: int
    available_after: int
    pending_after: int
    reference_type: str
    reference: str
    reason: str
    actor: str
    at: datetime
    takes: list[Take]
    idempotency_key: str | None = None
    lot: int | None = None


@dataclass
class NewLot:
    """A lot an order's credit opens, under a placeholder id (above every real one, in the
    order opened) until written; `remaining` after what the batch took of it since."""

    placeholder: int
    member_id: int
    amount: int
    remaining: int
    earned_at: datetime
    expires_at: datetime | None


async def add_ledger(programme_id: int, rows: list[LedgerRow], lots: list[NewLot]) -> list[int]:
    """The ledger rows (ids taken in the order given, so each member's rows keep the order
    they were booked in), the lots the credits open (ids likewise), the lot movements and the
    old lots' new remainders: a statement each, and one for each kind of id. Returns the rows'
    ids, in order."""
    if not rows:
        return []
    db = _db()
    ids = await _new_ids(db, _TRANSACTION_IDS, len(rows))
    await db.execute_query(
        _INSERT_ROWS,
        [
            programme_id,
            ids,
            [r.member_id for r in rows],
            [r.kind for r in rows],
            [r.bucket for r in rows],
            [r.amount for r in rows],
            [r.available_after for r in rows],
            [r.pending_after for r in rows],
            [r.reference_type for r in rows],
            [r.reference for r in rows],
            [r.reason for r in rows],
            [r.actor for r in rows],
            [r.idempotency_key for r in rows],
            [r.at for r in rows],
        ],
    )
    real: dict[int, int] = {}
    if lots:
        lot_ids = await _new_ids(db, _LOT_IDS, len(lots))
        real = {lot.placeholder: lot_id for lot, lot_id in zip(lots, lot_ids, strict=True)}
        source = {r.lot: tx_id for tx_id, r in zip(ids, rows, strict=True) if r.lot is not None}
        await db.execute_query(
            _INSERT_LOTS,
            [
                programme_id,
                lot_ids,
                [lot.member_id for lot in lots],
                [source[lot.placeholder] for lot in lots],
                [lot.amount for lot in lots],
                [lot.remaining for lot in lots],
                [lot.earned_at for lot in lots],
                [lot.expires_at for lot in lots],
            ],
        )
    moves = [
        (tx_id, real.get(t.lot_id, t.lot_id), t.amount)
        for tx_id, r in zip(ids, rows, strict=True)
        for t in r.takes
    ]
    if moves:
        await db.execute_query(
            _INSERT_MOVEMENTS,
            [[m[0] for m in moves], [m[1] for m in moves], [m[2] for m in moves]],
        )
    taken: dict[int, int] = {}
    for t in (t for r in rows for t in r.takes if t.lot_id not in real):
        taken[t.lot_id] = taken.get(t.lot_id, 0) + t.amount
    if taken:
        await db.execute_query(_TAKE_FROM_LOTS, [list(taken), list(taken.values())])
    return ids
