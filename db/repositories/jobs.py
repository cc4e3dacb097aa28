"""The SQL of run-jobs' batches (PostgreSQL): find a page of members with anything due, lock
and read them with what else is due for them, sum their qualifying activity over many windows
at once, and write the tier judgements back — a few statements per batch, however many
members are in it. The rules stay in domain/ and services/: this module reads and writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections

from domain.lots import Lot, Take

# The first `limit` members after `after_id` with anything due: each of the four lists is cut
# at `limit` (by its own index), so their union's first `limit` is exact.
_MEMBERS_DUE = """
SELECT id FROM (
    (SELECT DISTINCT member_id AS id FROM orders
      WHERE programme_id = $1 AND status = 'PENDING' AND matures_at <= $2 AND member_id > $3
      ORDER BY member_id LIMIT $4)
    UNION
    (SELECT DISTINCT member_id FROM point_holds
      WHERE programme_id = $1 AND status = 'HELD' AND expires_at <= $2 AND member_id > $3
      ORDER BY member_id LIMIT $4)
    UNION
    (SELECT id FROM members
      WHERE programme_id = $1 AND expiry_due_at <= $2 AND id > $3 ORDER BY id LIMIT $4)
    UNION
    (SELECT id FROM members
      WHERE programme_id = $1 AND tier_valid_until <= $2 AND id > $3 ORDER BY id LIMIT $4)
) due ORDER BY id LIMIT $4
"""

# The batch's members locked (in id order, as every path locks them), with whether an order
# matured or a hold lapsed by now, and the inviter of a referral still waiting for the member's
# first completed order (whose completion rewards that inviter: member by member).
_LOCK = """
SELECT m.id, m.external_id, m.joined_at, m.tier_id, m.tier_since, m.tier_period_start,
       m.tier_valid_until, m.tier_event_id, m.expiry_due_at, m.points_available,
       m.points_pending, m.points_held, m.last_earned_at, m.qualifying_spend,
       (SELECT r.inviter_id FROM referrals r WHERE r.invitee_id = m.id
          AND r.status = 'PENDING') AS inviter_id,
       EXISTS (SELECT 1 FROM orders o WHERE o.member_id = m.id AND o.status = 'PENDING'
                  AND o.matures_at <= $3) AS order_due,
       EXISTS (SELECT 1 FROM point_holds h WHERE h.member_id = m.id AND h.status = 'HELD'
                  AND h.expires_at <= $3) AS hold_due
  FROM members m
 WHERE m.programme_id = $1 AND m.id = ANY($2::int[])
 ORDER BY m.id
   FOR NO KEY UPDATE OF m
"""

# Activity of each window: member, [since, until), leaving out what is dated exactly `since`
# and was booked up to event `after` (tier_evaluation._sum, for many windows).
_SUMS = """
SELECT w.k,
       COALESCE(SUM(e.spend), 0) AS spend,
       COALESCE(SUM(e.orders), 0) AS orders,
       COALESCE(SUM(e.growth), 0) AS growth
  FROM unnest($1::int[], $2::int[], $3::timestamptz[], $4::timestamptz[], $5::bigint[])
       AS w(k, member_id, since, until, after_id)
  LEFT JOIN qualifying_events e
         ON e.member_id = w.member_id
        AND (e.at > w.since OR (e.at = w.since AND e.id > w.after_id))
        AND (w.until IS NULL OR e.at < w.until)
 GROUP BY w.k
"""

_LAST_EVENTS = """
SELECT m.id, COALESCE((SELECT e.id FROM qualifying_events e WHERE e.member_id = m.id
                        ORDER BY e.id DESC LIMIT 1), 0) AS last_id
  FROM unnest($1::int[]) AS m(id)
"""

_UPDATE_MEMBERS = """
UPDATE members m
   SET tier_id = v.tier_id, tier_since = v.tier_since, tier_period_start = v.period_start,
       tier_valid_until = v.valid_until, tier_event_id = v.event_id,
       points_available = v.available, expiry_due_at = v.expiry_due_at,
       points_pending = v.pending, last_earned_at = v.last_earned_at,
       qualifying_spend = v.spend
  FROM unnest($1::int[], $2::int[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[],
              $6::bigint[], $7::bigint[], $8::timestamptz[], $9::bigint[],
              $10::timestamptz[], $11::bigint[])
       AS v(id, tier_id, tier_since, period_start, valid_until, event_id, available,
            expiry_due_at, pending, last_earned_at, spend)
 WHERE m.id = v.id
"""

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

# Pending orders whose return window closed, locked as order_service.lock_order locks one, in
# the order the member-by-member path completes them (first_due_of).
_DUE_ORDERS = """
SELECT id, member_id, order_ref, matures_at, amount, returned_amount, paid_with_points, points,
       points_reversed
  FROM orders
 WHERE member_id = ANY($1::int[]) AND status = 'PENDING' AND matures_at <= $2
 ORDER BY member_id, matures_at, id
   FOR NO KEY UPDATE
"""

_COMPLETE_ORDERS = """
UPDATE orders o SET status = 'COMPLETED', completed_at = v.at
  FROM unnest($1::bigint[], $2::timestamptz[]) AS v(id, at)
 WHERE o.id = v.id
"""

_QUALIFYING_IDS = "SELECT nextval('qualifying_events_id_seq') AS id FROM generate_series(1, $1)"

_INSERT_QUALIFYING = """
INSERT INTO qualifying_events (id, programme_id, member_id, at, booked_at, spend, orders,
                               growth, reference)
SELECT q.id, $1, q.member_id, q.at, $2, q.spend, q.orders, q.growth, q.reference
  FROM unnest($3::bigint[], $4::int[], $5::timestamptz[], $6::bigint[], $7::bigint[],
              $8::bigint[], $9::text[])
       AS q(id, member_id, at, spend, orders, growth, reference)
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

_INSERT_CHANGES = """
INSERT INTO tier_changes (programme_id, member_id, from_tier_id, to_tier_id, reason,
                          qualifying_total, last_event_id, window_from, at)
SELECT $1, * FROM unnest($2::int[], $3::int[], $4::int[], $5::text[], $6::bigint[],
                         $7::bigint[], $8::timestamptz[], $9::timestamptz[])
"""


@dataclass
class DueMember:
    """A locked member's tier facts (mutable: the batch judges and moves it in memory)."""

    id: int
    external_id: str
    joined_at: datetime
    tier_id: int | None
    tier_since: datetime | None
    tier_period_start: datetime | None
    tier_valid_until: datetime | None
    tier_event_id: int
    expiry_due_at: datetime | None
    points_available: int
    points_pending: int
    points_held: int
    last_earned_at: datetime | None
    qualifying_spend: int
    inviter_id: int | None
    order_due: bool
    hold_due: bool


@dataclass(frozen=True)
class Window:
    member_id: int
    since: datetime
    until: datetime | None
    after_event_id: int


@dataclass(frozen=True)
class TierChangeRow:
    member_id: int
    from_tier_id: int | None
    to_tier_id: int | None
    reason: str
    qualifying_total: int
    last_event_id: int
    window_from: datetime | None
    at: datetime


def _db() -> Any:
    return connections.get("default")


async def members_due(programme_id: int, now: datetime, *, after_id: int, limit: int) -> list[int]:
    rows = await _db().execute_query_dict(_MEMBERS_DUE, [programme_id, now, after_id, limit])
    return [int(r["id"]) for r in rows]


async def lock_due(programme_id: int, member_ids: list[int], now: datetime) -> list[DueMember]:
    rows = await _db().execute_query_dict(_LOCK, [programme_id, member_ids, now])
    return [DueMember(**row) for row in rows]


async def sums(windows: list[Window]) -> list[dict[str, int]]:
    """Spend, orders and growth of each window, in the order given."""
    if not windows:
        return []
    rows = await _db().execute_query_dict(
        _SUMS,
        [
            list(range(len(windows))),
            [w.member_id for w in windows],
            [w.since for w in windows],
            [w.until for w in windows],
            [w.after_event_id for w in windows],
        ],
    )
    found: list[dict[str, int]] = [{}] * len(windows)
    for row in rows:
        found[row["k"]] = {
            "SPEND": int(row["spend"]),
            "ORDER_COUNT": int(row["orders"]),
            "GROWTH": int(row["growth"]),
        }
    return found


async def last_event_ids(member_ids: list[int]) -> dict[int, int]:
    if not member_ids:
        return {}
    rows = await _db().execute_query_dict(_LAST_EVENTS, [member_ids])
    return {int(r["id"]): int(r["last_id"]) for r in rows}


async def save_members(members: list[DueMember]) -> None:
    """The tier columns, available points and expiry bound of these members, one statement."""
    if not members:
        return
    await _db().execute_query(
        _UPDATE_MEMBERS,
        [
            [m.id for m in members],
            [m.tier_id for m in members],
            [m.tier_since for m in members],
            [m.tier_period_start for m in members],
            [m.tier_valid_until for m in members],
            [m.tier_event_id for m in members],
            [m.points_available for m in members],
            [m.expiry_due_at for m in members],
            [m.points_pending for m in members],
            [m.last_earned_at for m in members],
            [m.qualifying_spend for m in members],
        ],
    )


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


async def _new_ids(db: Any, sql: str, count: int) -> list[int]:
    """`count` ids drawn from a sequence, ascending: rows written with them keep the order
    they were booked in."""
    return sorted(int(r["id"]) for r in await db.execute_query_dict(sql, [count]))


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


@dataclass(frozen=True)
class DueOrder:
    """A pending order whose return window closed (the fields its completion reads)."""

    id: int
    member_id: int
    order_ref: str
    matures_at: datetime
    amount: int
    returned_amount: int
    paid_with_points: int
    points: int
    points_reversed: int


async def lock_due_orders(member_ids: list[int], now: datetime) -> dict[int, list[DueOrder]]:
    """Each member's orders due by `now`, locked, soonest first."""
    found: dict[int, list[DueOrder]] = {i: [] for i in member_ids}
    if not member_ids:
        return found
    for r in await _db().execute_query_dict(_DUE_ORDERS, [member_ids, now]):
        found[int(r["member_id"])].append(DueOrder(**r))
    return found


async def complete_orders(completed: list[tuple[int, datetime]]) -> None:
    if completed:
        await _db().execute_query(
            _COMPLETE_ORDERS, [[c[0] for c in completed], [c[1] for c in completed]]
        )


@dataclass(frozen=True)
class Activity:
    """A qualifying event to book (tier_events.add_event)."""

    member_id: int
    at: datetime
    spend: int
    orders: int
    growth: int
    reference: str


async def add_activity(programme_id: int, booked_at: datetime, rows: list[Activity]) -> list[int]:
    """Qualifying events, ids taken in the order given; returns them."""
    if not rows:
        return []
    db = _db()
    ids = await _new_ids(db, _QUALIFYING_IDS, len(rows))
    await db.execute_query(
        _INSERT_QUALIFYING,
        [
            programme_id,
            booked_at,
            ids,
            [r.member_id for r in rows],
            [r.at for r in rows],
            [r.spend for r in rows],
            [r.orders for r in rows],
            [r.growth for r in rows],
            [r.reference for r in rows],
        ],
    )
    return ids


async def add_changes(programme_id: int, changes: list[TierChangeRow]) -> None:
    if not changes:
        return
    await _db().execute_query(
        _INSERT_CHANGES,
        [
            programme_id,
            [c.member_id for c in changes],
            [c.from_tier_id for c in changes],
            [c.to_tier_id for c in changes],
            [c.reason for c in changes],
            [c.qualifying_total for c in changes],
            [c.last_event_id for c in changes],
            [c.window_from for c in changes],
            [c.at for c in changes],
        ],
    )
