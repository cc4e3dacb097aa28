"""Tier judgements in a run-jobs batch: qualifying activity summed over many windows at once
(Window), each member's latest qualifying event, the completions' qualifying activity booked
(Activity), and the tier history written (TierChangeRow)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.repositories.jobs.batch import _db, _new_ids

# Activity of each window: member, [since, until), leaving out what is dated exactly `since`
# and was booked up to event `after` (tier_evaluation.measure._sum, for many windows).
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

_QUALIFYING_IDS = "SELECT nextval('qualifying_events_id_seq') AS id FROM generate_series(1, $1)"

_INSERT_QUALIFYING = """
INSERT INTO qualifying_events (id, programme_id, member_id, at, booked_at, spend, orders,
                               growth, reference)
SELECT q.id, $1, q.member_id, q.at, $2, q.spend, q.orders, q.growth, q.reference
  FROM unnest($3::bigint[], $4::int[], $5::timestamptz[], $6::bigint[], $7::bigint[],
              $8::bigint[], $9::text[])
       AS q(id, member_id, at, spend, orders, growth, reference)
"""

_INSERT_CHANGES = """
INSERT INTO tier_changes (programme_id, member_id, from_tier_id, to_tier_id, reason,
                          qualifying_total, last_event_id, window_from, at)
SELECT $1, * FROM unnest($2::int[], $3::int[], $4::int[], $5::text[], $6::bigint[],
                         $7::bigint[], $8::timestamptz[], $9::timestamptz[])
"""


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
