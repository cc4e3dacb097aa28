"""Points spent, held or captured in two statements on PostgreSQL, without a transaction or a
lock (redeemPoints, holdPoints, captureHold): one reads the member with its row version (and
its open lots, to spend; the hold and its order, to capture) and the idempotency key stored
before; the other writes the change only if the member row is still that version.

Why that is enough: every change to a member's points (ledger rows, lots, balances, holds)
updates its member row under that row's lock (services/points/expiry.py). So a member row
still at the version read means its balances and lots are as read, and a spend allocated
from them takes exactly what is there."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tortoise import connections

from db.connection import rows_unless_unique_violation
from db.models import Member, PointTransaction
from db.repositories.audit import inline_cte, inline_values
from db.repositories.holds import PREFIX, PREFIXED_COLUMNS, Hold, OrderOfHold, hold_of
from db.repositories.idempotency import Stored, _json, key_lock_cte, stored_key_cte
from db.repositories.points import NewEvent, NewRow
from db.sql.parts import document, utc_at
from domain.lots import Lot, Take

_COMPACT = json.JSONEncoder(separators=(",", ":"))


@dataclass(frozen=True)
class Seen:
    """What the read found: a result stored under the key before (then nothing else is read),
    or the member (None: no such member), its row version, its open lots (when asked for) and
    the id the row written is to take (from the sequence named)."""

    stored: Stored | None
    member: Member | None
    version: str | None
    lots: list[Lot]
    new_id: int | None


# $1 programme, $2 principal, $3 key, $4 what finds the member, $5 the sequence of the row to
# write, $6 whether to read the open lots. Each way of finding the member has a text of its
# own, with its own index condition (a CASE of two would make PostgreSQL's generic plan of a
# prepared statement filter the whole programme's members).
_READ = """
SELECT k.operation AS old_operation, k.fingerprint AS old_fingerprint, k.result AS old_result,
    {more}m.xmin::text AS row_version, m.*,
    CASE WHEN k.id IS NULL AND m.id IS NOT NULL
        THEN nextval($5::text::regclass) END AS new_id,
    CASE WHEN k.id IS NULL AND $6::bool THEN (
        SELECT json_agg(json_build_array(l.id, l.remaining, l.earned_at, l.expires_at))
        FROM point_lots l WHERE l.member_id = m.id AND l.remaining > 0
    ) END AS open_lots
FROM (SELECT 1) AS one
LEFT JOIN idempotency_keys k ON k.programme_id = $1::int AND k.principal = $2::text
    AND k.key = $3::text
{joins}
"""
_SEEN_BY = {
    "external_id": _READ.format(
        more="",
        joins="LEFT JOIN members m ON m.programme_id = $1::int AND m.external_id = $4::text",
    ),
    "id": _READ.format(
        more="", joins="LEFT JOIN members m ON m.programme_id = $1::int AND m.id = $4::int"
    ),
}
# captureHold's: $4 the hold. The hold, its order (by its reference) and whether it pays for
# a reward, as `holds.lock_hold` reads them; its member.
_SEEN_CAPTURE = _READ.format(
    more=f"""{PREFIXED_COLUMNS}, o.status AS order_status, o.member_id AS order_member_id,
    (SELECT true FROM reward_redemptions r WHERE r.hold_id = h.id LIMIT 1) IS NOT NULL
        AS for_reward,
    """,
    joins="""LEFT JOIN point_holds h ON h.programme_id = $1::int AND h.id = $4::bigint
LEFT JOIN orders o ON o.programme_id = $1::int AND o.order_ref = h.order_ref
LEFT JOIN members m ON m.id = h.member_id""",
)
_CAPTURE_ONLY = frozenset(
    {"for_reward", "order_status", "order_member_id"}
    | {c.split(" AS ")[1] for c in PREFIXED_COLUMNS.split(", ")}
)


@dataclass(frozen=True)
class SeenHold:
    """captureHold's read: `seen` (its member: the hold's), and the hold with its order
    (None: no such hold, or no order recorded with its reference)."""

    seen: Seen
    hold: Hold | None
    order: OrderOfHold | None


async def seen_capture(claim: list[Any], hold_id: int) -> SeenHold:
    """One statement, no transaction. `claim` is the key's `claim_values`."""
    rows = await connections.get("default").execute_query_dict(
        _SEEN_CAPTURE, [*claim[:3], hold_id, SEQUENCES["point_transactions"], True]
    )
    row = dict(rows[0])
    held = order = None
    if row[f"{PREFIX}id"] is not None:
        held = hold_of(row, for_reward=bool(row["for_reward"]))
        if row["order_status"] is not None:
            order = OrderOfHold(str(row["order_status"]), int(row["order_member_id"]))
    for name in _CAPTURE_ONLY:
        del row[name]
    return SeenHold(_seen_of(row), held, order)


_NOT_MEMBER = ("old_operation", "old_fingerprint", "old_result", "row_version")


SEQUENCES = {"point_transactions": "point_transactions_id_seq", "point_holds": "point_holds_id_seq"}


async def seen(
    claim: list[Any], external_id: str | None, member_id: int | None, *, writes: str, lots: bool
) -> Seen:
    """One statement, no transaction. `claim` is the key's `claim_values`; the member is found
    by `external_id`, or by `member_id` when that is None (a member token's own); `writes`
    the table (of SEQUENCES) whose row's id to take; `lots` whether to read the open lots."""
    by, value = ("external_id", external_id) if external_id is not None else ("id", member_id)
    rows = await connections.get("default").execute_query_dict(
        _SEEN_BY[by], [*claim[:3], value, SEQUENCES[writes], lots]
    )
    return _seen_of(dict(rows[0]))


def _seen_of(row: dict[str, Any]) -> Seen:
    if row["old_operation"] is not None:
        stored = Stored(row["old_operation"], row["old_fingerprint"], _json(row["old_result"]))
        return Seen(stored, None, None, [], None)
    if row["id"] is None:
        return Seen(None, None, None, [], None)
    lots_value = row.pop("open_lots")
    new_id = int(row.pop("new_id"))
    version = row["row_version"]
    member = Member._init_from_db(**{k: v for k, v in row.items() if k not in _NOT_MEMBER})
    open_lots = [
        Lot(int(i), int(r), utc_at(e), utc_at(x))  # type: ignore[arg-type]
        for i, r, e, x in document(lots_value)
    ]
    return Seen(None, member, version, open_lots, new_id)


# One statement run on its own (autocommit), writing nothing unless the member row is still
# the version read ($5). As recordOrder's (db/repositories/optimistic_orders.py): the key's advisory
# lock first, without waiting (a locking twin holds it: nothing written); the member's update
# next, which every other write selects from; the key's row with its result (a twin's key is
# a unique violation that undoes it all); the ledger row with the id read; the lots lowered
# and the movements that say by how much; the event; the audit row ($22: one to write); for a
# capture ($42), the hold, which the member's update also requires to be HELD still (every
# writer of a hold updates its member row too, so the version alone says it: this makes a
# writer that broke that rule write nothing rather than capture a closed hold).
_DEBIT_UNLESS_CHANGED = f"""
WITH {key_lock_cte(6)},
m AS (
    UPDATE members SET points_available = $3::bigint, points_held = $40::bigint,
        event_seq = event_seq + CASE WHEN $21::bool THEN 1 ELSE 0 END
    FROM lk WHERE lk.got AND members.id = $2::int AND members.xmin::text = $5::text
        AND ($42::bigint IS NULL OR EXISTS (SELECT 1 FROM point_holds
            WHERE id = $42::bigint AND member_id = $2::int AND status = 'HELD'))
    RETURNING members.event_seq
),
{stored_key_cte(6, result="$41::jsonb", after="m")},
tx AS (
    INSERT INTO point_transactions (id, programme_id, member_id, kind, bucket, amount,
        available_after, pending_after, reference_type, reference, reason, actor,
        idempotency_key, reverses_id, shortfall, created_at)
    SELECT $4::bigint, $1::int, $2::int, $11::text, $12::text, $13::bigint, $3::bigint,
        $14::bigint, $15::text, $16::text, $17::text, $18::text, $19::text, NULL, 0,
        $20::timestamptz
    FROM k
    RETURNING id
),
lots AS (
    UPDATE point_lots p SET remaining = p.remaining - t.amount
    FROM tx, unnest($23::bigint[], $24::bigint[]) AS t(lot_id, amount)
    WHERE p.id = t.lot_id
),
mv AS (
    INSERT INTO lot_movements (transaction_id, lot_id, amount)
    SELECT tx.id, t.lot_id, t.amount
    FROM tx, unnest($23::bigint[], $24::bigint[]) AS t(lot_id, amount)
),
e AS (
    INSERT INTO events
        (event_id, programme_id, member_id, type, sequence, occurred_at, recorded_at, payload)
    SELECT $25::uuid, $1::int, $2::int, $26::text, m.event_seq, $20::timestamptz,
        $27::timestamptz, $28::jsonb
    FROM m, tx WHERE $21::bool
),
{inline_cte(29, after="tx", wanted=22)},
hc AS (
    UPDATE point_holds SET status = 'CAPTURED', closed_at = $20::timestamptz,
        captured = -$13::bigint
    FROM tx WHERE point_holds.id = $42::bigint
)
SELECT m.event_seq FROM m, tx
"""


async def debit_unless_changed(
    member: Member,
    *,
    version: str,
    transaction_id: int,
    claim: list[Any],
    row: NewRow,
    event: NewEvent | None,
    takes: list[Take],
    audit: dict[str, Any] | None,
    result: dict[str, Any] | None = None,
    captures: Hold | None = None,
) -> int | None:
    """Write a spend of available points as above (PostgreSQL, outside a transaction): `row`
    the ledger row (leaving the balances on it), `takes` what it takes from which lot, `claim`
    the key's `claim_values`, `audit` the audit row's columns (`db.repositories.audit`'s),
    None for none; `result` what the key keeps (the ledger row's id unless given). The
    member's held total is set to `member.points_held`; with `captures`, that hold (HELD, of
    the member, its amount no longer in that total) is captured by the spend, dated with it.
    The member's new event number, or None when nothing was written: the member changed
    since `version`, or a twin holds or wrote the key (read again)."""
    assert row.bucket == "AVAILABLE" and row.amount == -sum(t.amount for t in takes) < 0
    assert row.pending_after == member.points_pending
    assert captures is None or (captures.status, captures.member_id) == ("HELD", member.id)
    programme_id, principal, key, operation, fingerprint, now = claim
    assert programme_id == member.programme_id
    values = [
        programme_id,
        member.id,
        row.available_after,
        transaction_id,
        version,
        principal,
        key,
        operation,
        fingerprint,
        now,
        row.kind,
        row.bucket,
        row.amount,
        row.pending_after,
        row.reference_type,
        row.reference,
        row.reason,
        row.actor,
        row.idempotency_key,
        row.created_at,
        event is not None,
        audit is not None,
        [t.lot_id for t in takes],
        [t.amount for t in takes],
        event.event_id if event else None,
        event.type if event else "",
        event.recorded_at if event else now,
        _COMPACT.encode(event.payload) if event else "{}",
        *inline_values(audit, now),
        member.points_held,
        _COMPACT.encode(result if result is not None else {"transactionId": transaction_id}),
        captures.id if captures else None,
    ]
    rows = await rows_unless_unique_violation(_DEBIT_UNLESS_CHANGED, values)
    return int(rows[0]["event_seq"]) if rows else None


def transaction_of(member: Member, transaction_id: int, row: NewRow) -> PointTransaction:
    """The ledger row `debit_unless_changed` wrote, as its model (not read back)."""
    return PointTransaction._init_from_db(
        id=transaction_id,
        programme_id=member.programme_id,
        member_id=member.id,
        reverses_id=None,
        shortfall=0,
        **row.__dict__,
    )


# holdPoints as one statement, as `_DEBIT_UNLESS_CHANGED`: the key's advisory lock, the
# member's held total only if its row is the version read ($5), the key with its result, the
# hold with the id read, the audit row ($13: one to write).
_HOLD_UNLESS_CHANGED = f"""
WITH {key_lock_cte(6)},
m AS (
    UPDATE members SET points_held = $3::bigint
    FROM lk WHERE lk.got AND members.id = $2::int AND members.xmin::text = $5::text
    RETURNING members.id
),
{stored_key_cte(6, result="jsonb_build_object('holdId', $4::bigint)", after="m")},
h AS (
    INSERT INTO point_holds (id, programme_id, member_id, order_ref, amount, captured, status,
        created_at, expires_at)
    SELECT $4::bigint, $1::int, $2::int, $11::text, $12::bigint, 0, 'HELD', $14::timestamptz,
        $15::timestamptz
    FROM k
    RETURNING id
),
{inline_cte(16, after="h", wanted=13)}
SELECT id FROM h
"""


async def hold_unless_changed(
    member: Member,
    *,
    version: str,
    hold: Hold,
    claim: list[Any],
    audit: dict[str, Any] | None,
) -> bool:
    """Write a new HELD hold as above (PostgreSQL, outside a transaction), the member's held
    total set to `member.points_held` (the hold's amount included). False when nothing was
    written: the member changed since `version`, or a twin holds or wrote the key."""
    assert hold.status == "HELD" and hold.member_id == member.id and hold.captured == 0
    programme_id, principal, key, operation, fingerprint, now = claim
    assert programme_id == member.programme_id == hold.programme_id
    values = [
        programme_id,
        member.id,
        member.points_held,
        hold.id,
        version,
        principal,
        key,
        operation,
        fingerprint,
        now,
        hold.order_ref,
        hold.amount,
        audit is not None,
        hold.created_at,
        hold.expires_at,
        *inline_values(audit, now),
    ]
    return bool(await rows_unless_unique_violation(_HOLD_UNLESS_CHANGED, values))
