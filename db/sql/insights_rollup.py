"""Folding ledger_day_sums (migration 15, PostgreSQL): the trigger on the ledger appends one row
per AVAILABLE ledger row, so that writers never wait on a shared total; the jobs fold each day's
rows of one kind, reference type and sign into one, so insights read a few rows per day.

One statement deletes the rows it folds and inserts their sums: rows of transactions still
open are not visible to it and stay as they are, to be folded next time; two runs at once fold
disjoint rows (the second skips what the first deleted). Nothing is counted twice or lost."""

from __future__ import annotations

from tortoise import connections

from db.connection import is_postgres

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


async def fold_ledger_days(programme_id: int) -> int:
    """Fold the programme's appended day sums; returns how many rows were folded away (the rows
    removed less the sums written). Nothing to do on SQLite, which keeps no rollups."""
    if not is_postgres():
        return 0
    rows = await connections.get("default").execute_query_dict(_FOLD, [programme_id])
    return int(rows[0]["folded"]) - int(rows[0]["kept"])
