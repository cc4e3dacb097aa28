"""Order maturity in a run-jobs batch: the pending orders whose return window closed, locked
as the member-by-member path locks them (DueOrder), and their completion in one statement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.repositories.jobs.batch import _db

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
