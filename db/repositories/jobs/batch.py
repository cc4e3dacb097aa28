"""The frame of a run-jobs batch: the page of members with anything due, those members locked
and read with what else is due for them (DueMember), and their rows written back in one
statement; with the two helpers the package's other modules share (the connection, ids drawn
from a sequence in order)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections

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


def _db() -> Any:
    return connections.get("default")


async def members_due(programme_id: int, now: datetime, *, after_id: int, limit: int) -> list[int]:
    rows = await _db().execute_query_dict(_MEMBERS_DUE, [programme_id, now, after_id, limit])
    return [int(r["id"]) for r in rows]


async def lock_due(programme_id: int, member_ids: list[int], now: datetime) -> list[DueMember]:
    rows = await _db().execute_query_dict(_LOCK, [programme_id, member_ids, now])
    return [DueMember(**row) for row in rows]


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


async def _new_ids(db: Any, sql: str, count: int) -> list[int]:
    """`count` ids drawn from a sequence, ascending: rows written with them keep the order
    they were booked in."""
    return sorted(int(r["id"]) for r in await db.execute_query_dict(sql, [count]))
