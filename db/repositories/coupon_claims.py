"""The coupon claim's hot path (perf-spend) as raw SQL: the stock take with the template read
back in one conditional UPDATE (`take_stock_of`), the coupon as a read would give it back
(`new_coupon`) and its write (`insert_one`), which on PostgreSQL also writes the member's event,
the idempotency key's result and the audit row in the same statement."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from tortoise import connections

from db.models import Coupon, CouponTemplate
from db.repositories import idempotency as key_repo
from db.repositories.audit import inline_cte, inline_values

_TAKE_ONE = {
    # Stock taken (capped or not) and the template read back in one conditional UPDATE: the
    # row lock queues concurrent takers, each re-checking the WHERE after the one before.
    "postgres": """
UPDATE coupon_templates SET stock_left = stock_left - $3, issued = issued + $3
WHERE programme_id = $1 AND id = $2 AND status = 'ACTIVE'
    AND (stock_left IS NULL OR stock_left >= $3) {members_only}
RETURNING *, nextval('coupons_id_seq') AS new_coupon_id
""",
    "sqlite": """
UPDATE coupon_templates SET stock_left = stock_left - ?3, issued = issued + ?3
WHERE programme_id = ?1 AND id = ?2 AND status = 'ACTIVE'
    AND (stock_left IS NULL OR stock_left >= ?3) {members_only}
RETURNING *
""",
}
# What `coupon_templates._templates(members_only=True)` admits (besides ACTIVE, which the take
# requires anyway).
_MEMBERS_ONLY = "AND (claimable OR points_price IS NOT NULL)"


def _dialect() -> str:
    return "postgres" if connections.get("default").capabilities.dialect == "postgres" else "sqlite"


async def take_stock_of(
    programme_id: int, template_id: int, count: int, *, members_only: bool
) -> tuple[CouponTemplate, int | None] | None:
    """`coupon_templates.take_stock`, for a template of the programme (one a member may get by
    itself, with `members_only`), returning it as it is after the take, and on PostgreSQL the
    id the coupon to write will have (so its audit row can name it before it is written); None
    when nothing was taken (no such template, not active, or short of stock: the caller reads
    it to say which)."""
    sql = _TAKE_ONE[_dialect()].format(members_only=_MEMBERS_ONLY if members_only else "")
    rows = await connections.get("default").execute_query_dict(
        sql, [programme_id, template_id, count]
    )
    if not rows:
        return None
    row = dict(rows[0])
    new_id = row.pop("new_coupon_id", None)
    return CouponTemplate._init_from_db(**row), new_id


_INSERT_ONE = {
    "postgres": """
INSERT INTO coupons (programme_id, template_id, member_id, code, status, source, issued_at,
    starts_at, ends_at, points_transaction_id)
VALUES ($1, $2, $3, $4, 'AVAILABLE', $5, $6, $7, $8, $9)
ON CONFLICT (programme_id, code) DO NOTHING RETURNING id
""",
    "sqlite": """
INSERT INTO coupons (programme_id, template_id, member_id, code, status, source, issued_at,
    starts_at, ends_at, points_transaction_id)
VALUES (?, ?, ?, ?, 'AVAILABLE', ?, ?, ?, ?, ?)
ON CONFLICT (programme_id, code) DO NOTHING RETURNING id
""",
}


# On PostgreSQL the coupon's event goes in the same statement, numbered as events.py numbers
# a member's events (the member's `event_seq` raised under the row lock the caller holds),
# and only if the coupon went in; so do its idempotency key's result (the key's row $15,
# claimed before) and its audit row (wanted: $16). The coupon's id is $14 when the caller
# drew it beforehand (`take_stock_of`), else the column's own.
_INSERT_ONE_WITH_EVENT_PG = f"""
WITH c AS (
    INSERT INTO coupons (id, programme_id, template_id, member_id, code, status, source,
        issued_at, starts_at, ends_at, points_transaction_id)
    VALUES (COALESCE($14::bigint, nextval('coupons_id_seq')), $1, $2, $3, $4, 'AVAILABLE', $5,
        $6, $7, $8, $9)
    ON CONFLICT (programme_id, code) DO NOTHING RETURNING id
), seq AS (
    UPDATE members SET event_seq = event_seq + 1
    WHERE id = $3 AND EXISTS (SELECT 1 FROM c) RETURNING event_seq
), e AS (
    INSERT INTO events
        (event_id, programme_id, member_id, type, sequence, occurred_at, recorded_at, payload)
    SELECT $10, $1, $3, $11, seq.event_seq, $6, $12, $13::jsonb FROM seq
), k AS (
    UPDATE idempotency_keys SET result = jsonb_build_object('couponId', c.id)
    FROM c WHERE idempotency_keys.id = $15::bigint
), {inline_cte(17, after="c", wanted=16)}
SELECT id FROM c
"""


@dataclass(frozen=True)
class CouponEvent:
    """The event of a coupon issued, for `insert_one` to write with it."""

    event_id: UUID
    type: str
    payload: dict[str, Any]
    recorded_at: datetime


def as_read(moment: datetime) -> datetime:
    """A datetime as a read of the column gives it back (in the database's time zone)."""
    value: datetime = Coupon._meta.fields_map["issued_at"].to_python_value(moment)
    return value


def new_coupon(
    template: CouponTemplate,
    *,
    coupon_id: int | None,
    member_id: int,
    code: str,
    source: str,
    issued_at: datetime,
    starts_at: datetime | None,
    ends_at: datetime,
    points_transaction_id: int | None = None,
) -> Coupon:
    """An AVAILABLE coupon as `insert_one` writes it and a read gives it back, its template
    set; its id is None until written unless the caller drew it (`take_stock_of`)."""
    coupon = Coupon(
        **({"id": coupon_id} if coupon_id is not None else {}),
        programme_id=template.programme_id,
        template_id=template.id,
        member_id=member_id,
        code=code,
        status="AVAILABLE",
        source=source,
        issued_at=as_read(issued_at),
        starts_at=as_read(starts_at) if starts_at is not None else None,
        ends_at=as_read(ends_at),
        points_transaction_id=points_transaction_id,
    )
    coupon.template = template
    return coupon


async def insert_one(
    coupon: Coupon,
    *,
    event: CouponEvent | None = None,
    key_id: int | None = None,
    audit: dict[str, Any] | None = None,
) -> tuple[Coupon | None, bool]:
    """Write a `new_coupon`: None (and nothing written) when the programme has a coupon with
    its code already. With `key_id`, the idempotency key's row claimed for it keeps its
    result ({"couponId": ...}). On PostgreSQL, with `event`, one statement writes the event,
    the key's result and `audit` (the columns of its audit row: the coupon's id must be drawn
    then) with the coupon: the flag says whether the event was written."""
    args: list[Any] = [
        coupon.programme_id,
        coupon.template_id,
        coupon.member_id,
        coupon.code,
        coupon.source,
        coupon.issued_at,
        coupon.starts_at,
        coupon.ends_at,
        coupon.points_transaction_id,
    ]
    db = connections.get("default")
    told = event is not None and _dialect() == "postgres"
    if told:
        assert event is not None and (audit is None or coupon.id is not None)
        body = json.dumps(event.payload, separators=(",", ":"))
        args += [event.event_id, event.type, event.recorded_at, body, coupon.id, key_id]
        args += [audit is not None, *inline_values(audit, coupon.issued_at)]
        rows = await db.execute_query_dict(_INSERT_ONE_WITH_EVENT_PG, args)
    else:
        assert audit is None, "an audit row goes with the coupon's event, on PostgreSQL"
        rows = await db.execute_query_dict(_INSERT_ONE[_dialect()], args)
    if not rows:
        return None, False
    coupon.id = int(rows[0]["id"])
    if key_id is not None and not told:
        await key_repo.store_result(key_id, {"couponId": coupon.id})
    return coupon, told
