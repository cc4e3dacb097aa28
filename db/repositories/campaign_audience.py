"""What a campaign's audience asks of a member beyond its own row (domain.campaigns.Audience):
its lifecycle segment as of the last build, and how many of its orders count."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise import connections

from db.connection import is_postgres

# One statement for both: a fact judged by a campaign that needs either pays one round trip.
_AUDIENCE = {
    True: "SELECT (SELECT lifecycle FROM member_segments WHERE member_id = $1) AS segment,"
    " (SELECT COUNT(*) FROM orders WHERE member_id = $1 AND status <> 'CANCELLED') AS orders",
    False: "SELECT (SELECT lifecycle FROM member_segments WHERE member_id = ?1) AS segment,"
    " (SELECT COUNT(*) FROM orders WHERE member_id = ?1 AND status <> 'CANCELLED') AS orders",
}


@dataclass(frozen=True)
class Audience:
    segment: str | None  # None: not segmented yet, or its profiling consent withdrawn
    orders: int  # the member's orders recorded, not cancelled


async def audience_of(member_id: int) -> Audience:
    rows = await connections.get("default").execute_query_dict(
        _AUDIENCE[is_postgres()], [member_id]
    )
    row = rows[0]
    return Audience(segment=row["segment"], orders=int(row["orders"] or 0))
