"""The rollups insights read on PostgreSQL (migration 15), beyond what the ledger's trigger does
row by row: folding ledger_day_sums, and rebuilding a programme's rollups from its ledger.

The trigger appends one ledger_day_sums row per AVAILABLE ledger row, so that writers never wait
on a shared total; the jobs fold each day's rows of one kind, reference type and sign into one,
so insights read a few rows per day. One statement deletes the rows it folds and inserts their
sums: rows of transactions still open are not visible to it and stay as they are, to be folded
next time. Folds and rebuilds of one programme take its advisory lock, so they never meet.

A rebuild is for when the trigger did not run or ran under other rules: a restore with triggers
disabled, a bulk load under `session_replication_role = replica` (scripts/bench_seed.py), a time
zone changed in the database. Its day sums are replaced in one statement (one snapshot: each
ledger row counted once, whether the rebuild or the trigger of a write beside it counts it)."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from db.connection import is_postgres
from db.sql.insights_texts import ACTIVE

# pg_advisory_xact_lock's first key: "insights rollups" (any constant the project uses once)
_LOCK = "SELECT pg_advisory_xact_lock(1521, $1)"

# Only the groups with more than one row: a folded day is not rewritten until it gains a row.
_FOLD = """
WITH gone AS (
    DELETE FROM ledger_day_sums s
     WHERE s.programme_id = $1
       AND (s.day, s.kind, s.reference_type, s.credit) IN (
           SELECT d.day, d.kind, d.reference_type, d.credit FROM ledger_day_sums d
            WHERE d.programme_id = $1
            GROUP BY d.day, d.kind, d.reference_type, d.credit HAVING COUNT(*) > 1)
    RETURNING s.day, s.kind, s.reference_type, s.credit, s.points
),
kept AS (
    INSERT INTO ledger_day_sums (programme_id, day, kind, reference_type, credit, points)
    SELECT $1, g.day, g.kind, g.reference_type, g.credit, SUM(g.points) FROM gone g
     GROUP BY g.day, g.kind, g.reference_type, g.credit
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM gone) AS folded, (SELECT COUNT(*) FROM kept) AS kept
"""

_LOCAL_DAY = "(t.created_at AT TIME ZONE p.timezone)::date"

_FORGET_ACTIVITY = "DELETE FROM member_activity WHERE programme_id = $1"
# Activity by the rule the trigger applies (db/sql/insights_texts.py's ACTIVE).
_REBUILD_ACTIVITY = f"""
INSERT INTO member_activity (programme_id, period, starts, member_id)
SELECT DISTINCT t.programme_id, v.period, v.starts, t.member_id
  FROM point_transactions t
  JOIN programmes p ON p.id = t.programme_id
 CROSS JOIN LATERAL (SELECT {_LOCAL_DAY} AS day) d
 CROSS JOIN LATERAL (VALUES ('D', d.day), ('W', date_trunc('week', d.day)::date),
                            ('M', date_trunc('month', d.day)::date),
                            ('Y', date_trunc('year', d.day)::date)) AS v(period, starts)
 WHERE t.programme_id = $1 AND {ACTIVE}
ON CONFLICT DO NOTHING
"""
_REBUILD_DAY_SUMS = f"""
WITH gone AS (DELETE FROM ledger_day_sums WHERE programme_id = $1 RETURNING 1),
made AS (
    INSERT INTO ledger_day_sums (programme_id, day, kind, reference_type, credit, points)
    SELECT t.programme_id, {_LOCAL_DAY}, t.kind, t.reference_type, t.amount > 0,
           SUM(t.amount)
      FROM point_transactions t
      JOIN programmes p ON p.id = t.programme_id
     WHERE t.programme_id = $1 AND t.bucket = 'AVAILABLE'
     GROUP BY 1, 2, 3, 4, 5
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM made) AS made
"""
_ACTIVITY_ROWS = "SELECT COUNT(*) AS n FROM member_activity WHERE programme_id = $1"
# A rebuild's statements in order, each taking the programme's id as $1 (scripts/bench_seed.py
# runs them on its own connection after a load that skipped the trigger).
REBUILD = (_FORGET_ACTIVITY, _REBUILD_ACTIVITY, _REBUILD_DAY_SUMS)


async def fold_ledger_days(programme_id: int) -> int:
    """Fold the programme's appended day sums; returns how many rows were folded away (the rows
    removed less the sums written). Nothing to do on SQLite, which keeps no rollups."""
    if not is_postgres():
        return 0
    async with in_transaction() as connection:
        await connection.execute_query(_LOCK, [programme_id])
        rows = await connection.execute_query_dict(_FOLD, [programme_id])
    return int(rows[0]["folded"]) - int(rows[0]["kept"])


async def rebuild(programme_id: int) -> tuple[int, int]:
    """Redo the programme's rollups from its ledger: (member_activity rows, day sums) made. The
    ledger is written on meanwhile as usual. Nothing to do on SQLite."""
    if not is_postgres():
        return (0, 0)
    async with in_transaction() as connection:
        await connection.execute_query(_LOCK, [programme_id])
        forget, activity_text, sums_text = REBUILD
        await connection.execute_query(forget, [programme_id])
        await connection.execute_query(activity_text, [programme_id])
        sums = await connection.execute_query_dict(sums_text, [programme_id])
        activity = await connection.execute_query_dict(_ACTIVITY_ROWS, [programme_id])
    return int(activity[0]["n"]), int(sums[0]["made"])
