"""What a campaign's audience asks of a member beyond its own row (domain.campaigns.Audience):
when it joined, its lifecycle segment as of the last build, and how many of its orders count.
Read for orders (services.campaigns.judging) and the other facts (services.campaigns.facts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise import connections

from db.connection import is_postgres

# One statement for all three, on either dialect: the member, then the most orders to count
# (0: none). The count stops there, so an Nth-order audience reads no more of a long history.
_AUDIENCE = {
    True: """
SELECT m.joined_at, s.lifecycle,
    (SELECT count(*) FROM (SELECT 1 FROM orders o WHERE o.member_id = $1::int
        AND o.status <> 'CANCELLED' LIMIT $2::int) AS x) AS orders
FROM members m LEFT JOIN member_segments s ON s.member_id = m.id
WHERE m.id = $1::int
""",
    False: """
SELECT m.joined_at, s.lifecycle,
    (SELECT count(*) FROM (SELECT 1 FROM orders o WHERE o.member_id = ?1
        AND o.status <> 'CANCELLED' LIMIT ?2) AS x) AS orders
FROM members m LEFT JOIN member_segments s ON s.member_id = m.id
WHERE m.id = ?1
""",
}


@dataclass(frozen=True)
class Audience:
    joined_at: datetime
    segment: str | None  # None: not segmented yet, or its profiling consent withdrawn
    orders: int  # the member's orders recorded, not cancelled, counted up to `orders_up_to`


async def audience_of(member_id: int, *, orders_up_to: int) -> Audience:
    """The member's join date and segment, and how many of its orders (not cancelled) are
    recorded, counted no further than `orders_up_to`. One statement."""
    rows = await connections.get("default").execute_query_dict(
        _AUDIENCE[is_postgres()], [member_id, orders_up_to]
    )
    row = rows[0]
    joined_at = row["joined_at"]
    if not isinstance(joined_at, datetime):  # SQLite's driver gives the stored UTC text
        joined_at = datetime.fromisoformat(joined_at)
    return Audience(joined_at=joined_at, segment=row["lifecycle"], orders=int(row["orders"] or 0))
