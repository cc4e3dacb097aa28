from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from tortoise import connections

from db.connection import is_postgres
from db.models import PointHold


async def get(programme_id: int, hold_id: int) -> PointHold | None:
    return await PointHold.get_or_none(programme_id=programme_id, id=hold_id)


async def save(hold: PointHold, *fields: str) -> None:
    await hold.save(update_fields=list(fields))


async def members_with_holds_lapsed(
    programme_id: int, now: datetime, *, after_id: int, limit: int
) -> list[int]:
    rows = (
        await PointHold.filter(
            programme_id=programme_id, status="HELD", expires_at__lte=now, member_id__gt=after_id
        )
        .distinct()
        .order_by("member_id")
        .limit(limit)
        .values("member_id")
    )
    return [int(r["member_id"]) for r in rows]


async def first_lapsed_of(member_id: int, now: datetime) -> PointHold | None:
    """The member's open hold that ran out first (by `now`), locked."""
    return (
        await PointHold.filter(member_id=member_id, status="HELD", expires_at__lte=now)
        .order_by("expires_at", "id")
        .select_for_update(no_key=True)
        .first()
    )


async def open_for_order(programme_id: int, member_id: int, order_ref: str) -> list[PointHold]:
    return (
        await PointHold.filter(
            programme_id=programme_id, member_id=member_id, order_ref=order_ref, status="HELD"
        )
        .select_for_update(no_key=True)
        .order_by("id")
    )


# ---- the checkout hot path: raw SQL, one statement per step on PostgreSQL -------------------

_COLUMNS = (
    "id",
    "programme_id",
    "member_id",
    "order_ref",
    "amount",
    "captured",
    "status",
    "created_at",
    "expires_at",
    "closed_at",
)
_H_COLUMNS = ", ".join(f"h.{c}" for c in _COLUMNS)


@dataclass(frozen=True)
class Hold:
    """A hold as the checkout path reads and writes it (no model instance)."""

    id: int
    programme_id: int
    member_id: int
    order_ref: str
    amount: int
    captured: int
    status: str
    created_at: datetime
    expires_at: datetime
    closed_at: datetime | None
    # It pays a cash + points reward's points (read only by `lock_hold` with its order:
    # the capture path, which must then take it whole).
    for_reward: bool = False

    @classmethod
    def of(cls, row: PointHold) -> Hold:
        return cls(*(getattr(row, c) for c in _COLUMNS))

    @classmethod
    def new(
        cls,
        hold_id: int,
        programme_id: int,
        member_id: int,
        order_ref: str,
        amount: int,
        at: datetime,
        expires_at: datetime,
    ) -> Hold:
        """A HELD hold as written, its datetimes as a read of it would give them back."""
        return cls(
            hold_id,
            programme_id,
            member_id,
            order_ref,
            amount,
            0,
            "HELD",
            _as_read(at),
            _as_read(expires_at),
            None,
        )

    def closed(self, status: str, at: datetime, captured: int) -> Hold:
        """This hold as closing it `at` leaves it (its datetime as a read gives it back)."""
        return replace(self, status=status, closed_at=_as_read(at), captured=captured)


@dataclass(frozen=True)
class OrderOfHold:
    """The order a hold was taken for, as far as a capture needs it."""

    status: str
    member_id: int


def _as_read(moment: datetime) -> datetime:
    """A datetime as a read of it would give it back (in the database's time zone)."""
    value: datetime = PointHold._meta.fields_map["created_at"].to_python_value(moment)
    return value


def _hold_of(row: dict[str, Any], prefix: str = "") -> Hold:
    """A raw row, its datetimes read as the model reads them (SQLite stores text); its
    columns named with `prefix` (`PREFIXED_COLUMNS`) when read beside another table's."""
    fields = PointHold._meta.fields_map
    return Hold(
        *(
            fields[c].to_python_value(row[prefix + c]) if c.endswith("_at") else row[prefix + c]
            for c in _COLUMNS
        )
    )


PREFIX = "hold_"
# A hold's columns as `hold_of` reads them beside another table's (the hold as `h`).
PREFIXED_COLUMNS = ", ".join(f"h.{c} AS {PREFIX}{c}" for c in _COLUMNS)


def hold_of(row: dict[str, Any], *, for_reward: bool) -> Hold:
    """The hold of a row read with `PREFIXED_COLUMNS`."""
    return replace(_hold_of(row, PREFIX), for_reward=for_reward)


# The hold and the member's new held total in one statement (the caller holds the row lock
# and computed the total).
_CREATE_PG = """
WITH h AS (
    INSERT INTO point_holds
        (programme_id, member_id, order_ref, amount, captured, status, created_at, expires_at)
    VALUES ($1, $2, $3, $4, 0, 'HELD', $5, $6) RETURNING id
), m AS (
    UPDATE members SET points_held = $7 WHERE id = $2
)
SELECT id FROM h
"""
_CREATE_SQLITE = """
INSERT INTO point_holds
    (programme_id, member_id, order_ref, amount, captured, status, created_at, expires_at)
VALUES (?, ?, ?, ?, 0, 'HELD', ?, ?) RETURNING id
"""
_SET_HELD_SQLITE = "UPDATE members SET points_held = ? WHERE id = ?"


async def create_held(
    *,
    programme_id: int,
    member_id: int,
    order_ref: str,
    amount: int,
    at: datetime,
    expires_at: datetime,
    points_held: int,
) -> Hold:
    """A new HELD hold, and the locked member's `points_held` set to `points_held`."""
    db = connections.get("default")
    args: list[Any] = [programme_id, member_id, order_ref, amount, at, expires_at]
    if is_postgres():
        rows = await db.execute_query_dict(_CREATE_PG, [*args, points_held])
    else:
        rows = await db.execute_query_dict(_CREATE_SQLITE, args)
        await db.execute_query(_SET_HELD_SQLITE, [points_held, member_id])
    return Hold.new(int(rows[0]["id"]), programme_id, member_id, order_ref, amount, at, expires_at)


# The hold (locked) and, when asked, its order (locked after it, as every path orders them).
_LOCK_PG = f"""
SELECT {_H_COLUMNS} FROM point_holds h WHERE h.programme_id = $1 AND h.id = $2
FOR NO KEY UPDATE
"""
_LOCK_WITH_ORDER_PG = f"""
WITH h AS (
    SELECT {", ".join(_COLUMNS)} FROM point_holds WHERE programme_id = $1 AND id = $2
    FOR NO KEY UPDATE
), o AS (
    SELECT o.status, o.member_id FROM orders o, h
    WHERE o.programme_id = $1 AND o.order_ref = h.order_ref
    FOR NO KEY UPDATE OF o
)
SELECT {_H_COLUMNS}, o.status AS order_status, o.member_id AS order_member_id,
    (SELECT true FROM reward_redemptions r WHERE r.hold_id = h.id LIMIT 1) IS NOT NULL
        AS for_reward
FROM h LEFT JOIN o ON true
"""
# (for_reward a scalar subquery, not EXISTS: PostgreSQL may plan an EXISTS as a hash of the whole
# index while reward_redemptions is small, and keep that plan as it grows)
_LOCK_SQLITE = f"""
SELECT {_H_COLUMNS} FROM point_holds h WHERE h.programme_id = ? AND h.id = ?
"""
_LOCK_WITH_ORDER_SQLITE = f"""
SELECT {_H_COLUMNS}, o.status AS order_status, o.member_id AS order_member_id,
    EXISTS (SELECT 1 FROM reward_redemptions r WHERE r.hold_id = h.id) AS for_reward
FROM point_holds h
LEFT JOIN orders o ON o.programme_id = h.programme_id AND o.order_ref = h.order_ref
WHERE h.programme_id = ? AND h.id = ?
"""


async def lock_hold(
    programme_id: int, hold_id: int, *, with_order: bool
) -> tuple[Hold | None, OrderOfHold | None]:
    """The hold's row lock (the caller holds its member's), and with `with_order` its order's
    too, in one statement."""
    if is_postgres():
        sql = _LOCK_WITH_ORDER_PG if with_order else _LOCK_PG
    else:
        sql = _LOCK_WITH_ORDER_SQLITE if with_order else _LOCK_SQLITE
    rows = await connections.get("default").execute_query_dict(sql, [programme_id, hold_id])
    if not rows:
        return None, None
    row = rows[0]
    order = None
    held = _hold_of(row)
    if with_order:
        held = replace(held, for_reward=bool(row["for_reward"]))
        if row["order_status"] is not None:
            order = OrderOfHold(str(row["order_status"]), int(row["order_member_id"]))
    return held, order


_CLOSE_PG = """
WITH h AS (
    UPDATE point_holds SET status = $2, closed_at = $3, captured = $4 WHERE id = $1
), m AS (
    UPDATE members SET points_held = $5 WHERE id = $6
)
SELECT 1
"""
_CLOSE_ONLY_PG = "UPDATE point_holds SET status = $2, closed_at = $3, captured = $4 WHERE id = $1"
_CLOSE_SQLITE = "UPDATE point_holds SET status = ?, closed_at = ?, captured = ? WHERE id = ?"


async def close(
    hold: Hold, *, status: str, at: datetime, captured: int, points_held: int | None
) -> Hold:
    """Close a locked hold; with `points_held`, set its member's held total too (in the same
    statement on PostgreSQL). None: the caller saves the member's balances itself."""
    db = connections.get("default")
    if is_postgres():
        if points_held is None:
            await db.execute_query(_CLOSE_ONLY_PG, [hold.id, status, at, captured])
        else:
            await db.execute_query_dict(
                _CLOSE_PG, [hold.id, status, at, captured, points_held, hold.member_id]
            )
    else:
        await db.execute_query(_CLOSE_SQLITE, [status, at, captured, hold.id])
        if points_held is not None:
            await db.execute_query(_SET_HELD_SQLITE, [points_held, hold.member_id])
    return hold.closed(status, at, captured)


_MEMBER_OF = {
    "postgres": "SELECT member_id FROM point_holds WHERE programme_id = $1 AND id = $2",
    "sqlite": "SELECT member_id FROM point_holds WHERE programme_id = ? AND id = ?",
}


async def member_of(programme_id: int, hold_id: int) -> int | None:
    """Whose hold this is (unlocked: the caller locks that member, then the hold)."""
    sql = _MEMBER_OF["postgres" if is_postgres() else "sqlite"]
    rows = await connections.get("default").execute_query_dict(sql, [programme_id, hold_id])
    return int(rows[0]["member_id"]) if rows else None
