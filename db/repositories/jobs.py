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
# matured or a hold lapsed by now: those members go the member-by-member way.
_LOCK = """
SELECT m.id, m.external_id, m.joined_at, m.tier_id, m.tier_since, m.tier_period_start,
       m.tier_valid_until, m.tier_event_id, m.expiry_due_at, m.points_available,
       m.points_pending, m.points_held, m.last_earned_at,
       EXISTS (SELECT 1 FROM orders o WHERE o.member_id = m.id AND o.status = 'PENDING'
                  AND o.matures_at <= $3) AS order_due,
       EXISTS (SELECT 1 FROM point_holds h WHERE h.member_id = m.id AND h.status = 'HELD'
                  AND h.expires_at <= $3) AS hold_due
  FROM members m
 WHERE m.programme_id = $1 AND m.id = ANY($2::int[])
 ORDER BY m.id
   FOR UPDATE OF m
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
       points_available = v.available, expiry_due_at = v.expiry_due_at
  FROM unnest($1::int[], $2::int[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[],
              $6::bigint[], $7::bigint[], $8::timestamptz[])
       AS v(id, tier_id, tier_since, period_start, valid_until, event_id, available,
            expiry_due_at)
 WHERE m.id = v.id
"""

_OPEN_LOTS = """
SELECT member_id, id, remaining, earned_at, expires_at FROM point_lots
 WHERE member_id = ANY($1::int[]) AND remaining > 0
 ORDER BY member_id, id
"""

_TRANSACTION_IDS = "SELECT nextval('point_transactions_id_seq') AS id FROM generate_series(1, $1)"

_INSERT_EXPIRIES = """
INSERT INTO point_transactions (id, programme_id, member_id, kind, bucket, amount,
    available_after, pending_after, reference_type, reference, reason, actor, shortfall,
    created_at)
SELECT t.id, $1, t.member_id, 'EXPIRE', 'AVAILABLE', t.amount, t.available_after,
       t.pending_after, 'EXPIRY', t.reference, 'points expired', 'system:expiry', 0, t.at
  FROM unnest($2::bigint[], $3::int[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[],
              $8::timestamptz[])
       AS t(id, member_id, amount, available_after, pending_after, reference, at)
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
class ExpiryRow:
    """One EXPIRE ledger row as ledger.record_expiry writes it, with the lots it takes."""

    member_id: int
    amount: int  # negative
    available_after: int
    pending_after: int
    reference: str  # the local day it fell due
    at: datetime
    takes: list[Take]


async def add_expiries(programme_id: int, rows: list[ExpiryRow]) -> list[int]:
    """The ledger rows, their lot movements and the lots' new remainders: three statements
    (and one for the rows' ids, taken first so each movement names its row). Returns the
    rows' ids, in order."""
    if not rows:
        return []
    db = _db()
    ids = [int(r["id"]) for r in await db.execute_query_dict(_TRANSACTION_IDS, [len(rows)])]
    await db.execute_query(
        _INSERT_EXPIRIES,
        [
            programme_id,
            ids,
            [r.member_id for r in rows],
            [r.amount for r in rows],
            [r.available_after for r in rows],
            [r.pending_after for r in rows],
            [r.reference for r in rows],
            [r.at for r in rows],
        ],
    )
    moves = [
        (tx_id, t.lot_id, t.amount) for tx_id, r in zip(ids, rows, strict=True) for t in r.takes
    ]
    await db.execute_query(
        _INSERT_MOVEMENTS,
        [[m[0] for m in moves], [m[1] for m in moves], [m[2] for m in moves]],
    )
    taken: dict[int, int] = {}
    for _, lot_id, amount in moves:
        taken[lot_id] = taken.get(lot_id, 0) + amount
    await db.execute_query(_TAKE_FROM_LOTS, [list(taken), list(taken.values())])
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
