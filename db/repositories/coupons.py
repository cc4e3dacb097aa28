"""Every query of coupon templates and issued coupons."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from tortoise import connections
from tortoise.expressions import F, Q
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from db.models import Coupon, CouponTemplate, Member
from db.repositories import idempotency as key_repo
from db.repositories.audit import inline_cte, inline_values
from db.repositories.paging import keyset
from domain.coupons import CouponStatus
from domain.paging import PageRequest


async def create_template(**fields: Any) -> CouponTemplate:
    return await CouponTemplate.create(**fields)


def _templates(programme_id: int, *, members_only: bool) -> QuerySet[CouponTemplate]:
    query = CouponTemplate.filter(programme_id=programme_id)
    if members_only:  # what a member may get by itself: claim for free, or buy with points
        query = query.filter(Q(claimable=True) | Q(points_price__isnull=False), status="ACTIVE")
    return query


async def get_template(
    programme_id: int, template_id: int, *, members_only: bool = False
) -> CouponTemplate | None:
    return await _templates(programme_id, members_only=members_only).get_or_none(id=template_id)


async def get_templates(
    programme_id: int, ids: list[int], *, members_only: bool = False
) -> list[CouponTemplate]:
    return await _templates(programme_id, members_only=members_only).filter(id__in=ids)


async def get_template_by_code(programme_id: int, code: str) -> CouponTemplate | None:
    return await CouponTemplate.get_or_none(programme_id=programme_id, code=code)


async def open_to_members(programme_id: int) -> list[CouponTemplate]:
    return await _templates(programme_id, members_only=True).order_by("id")


async def templates_page(
    programme_id: int, request: PageRequest, *, members_only: bool
) -> list[CouponTemplate]:
    query = _templates(programme_id, members_only=members_only)
    return await keyset(query, request, list_descending=False)


async def templates_count(programme_id: int, *, members_only: bool) -> int:
    return int(await _templates(programme_id, members_only=members_only).count())


async def auto_issue_templates(programme_id: int) -> list[CouponTemplate]:
    return (
        await CouponTemplate.filter(programme_id=programme_id, status="ACTIVE")
        .exclude(auto_issue="NONE")
        .order_by("id")
    )


async def save_template(template: CouponTemplate, *fields: str) -> None:
    await template.save(update_fields=list(fields))


async def take_stock(template_id: int, count: int) -> bool:
    """Count coupons' worth of stock, all or none, by one conditional UPDATE: concurrent takers
    queue on the row and each re-reads `stock_left` after the one before commits, so the cap
    holds across processes. A template without a cap only counts what it issued. False when
    the stock is short or the template is no longer active."""
    active = {"id": template_id, "status": "ACTIVE"}  # a retire that just committed wins
    capped = await CouponTemplate.filter(**active, stock_left__gte=count).update(
        stock_left=F("stock_left") - count, issued=F("issued") + count
    )
    if capped:
        return True
    uncapped = await CouponTemplate.filter(**active, stock_left__isnull=True).update(
        issued=F("issued") + count
    )
    return bool(uncapped)


async def template_status(template_id: int) -> str:
    row = await CouponTemplate.get(id=template_id).only("id", "status")
    return row.status


async def stock_left(template_id: int) -> int | None:
    row = await CouponTemplate.get(id=template_id).only("id", "stock_left")
    return row.stock_left


async def held(template_ids: list[int], member_ids: list[int]) -> dict[tuple[int, int], int]:
    """How many coupons of each template each member has (any status), by (template, member)."""
    rows = (
        await Coupon.filter(template_id__in=template_ids, member_id__in=member_ids)
        .annotate(held=Count("id"))
        .group_by("template_id", "member_id")
        .values_list("template_id", "member_id", "held")
    )
    return {(int(t), int(m)): int(n) for t, m, n in rows}


async def insert(rows: list[dict[str, Any]]) -> list[Coupon]:
    """Insert and read back (bulk inserts do not return ids on every backend)."""
    if len(rows) == 1:
        return [await Coupon.create(**rows[0])]
    await Coupon.bulk_create([Coupon(**row) for row in rows], batch_size=500)
    codes = [row["code"] for row in rows]
    found = await Coupon.filter(programme_id=rows[0]["programme_id"], code__in=codes)
    return sorted(found, key=lambda c: c.id)


async def codes_taken(programme_id: int, codes: list[str]) -> set[str]:
    found = await Coupon.filter(programme_id=programme_id, code__in=codes).values_list(
        "code", flat=True
    )
    return {str(code) for code in found}


async def get_by_code(programme_id: int, code: str) -> Coupon | None:
    return (
        await Coupon.filter(programme_id=programme_id, code=code).select_related("template").first()
    )


async def get_by_codes(programme_id: int, codes: list[str]) -> list[Coupon]:
    return await Coupon.filter(programme_id=programme_id, code__in=codes).select_related("template")


async def get_by_ids(programme_id: int, ids: list[int]) -> list[Coupon]:
    return await Coupon.filter(programme_id=programme_id, id__in=ids).select_related("template")


async def lock(programme_id: int, coupon_id: int) -> Coupon:
    """The coupon's row lock, then its template (PostgreSQL will not lock through the outer
    join a select_related makes)."""
    row = (
        await Coupon.filter(programme_id=programme_id, id=coupon_id)
        .select_for_update(no_key=True)
        .get()
    )
    await row.fetch_related("template")
    return row


async def save(coupon: Coupon, *fields: str) -> None:
    await coupon.save(update_fields=list(fields))


def _lapsed(now: datetime) -> Q:
    """Stored AVAILABLE, or LOCKED by a lock that has run out: the member has it to use."""
    return Q(status="AVAILABLE") | Q(status="LOCKED", lock_expires_at__lte=now)


def status_filter(status: CouponStatus, now: datetime) -> Q:
    """`domain.coupons.effective_status` as SQL (a test holds the two to each other)."""
    if status is CouponStatus.USED:
        return Q(status="USED")
    if status is CouponStatus.LOCKED:
        return Q(status="LOCKED", lock_expires_at__gt=now)
    if status is CouponStatus.AVAILABLE:
        return Q(_lapsed(now), ends_at__gt=now)
    return Q(_lapsed(now), ends_at__lte=now)


def _wallet(member_id: int, status: CouponStatus | None, now: datetime) -> QuerySet[Coupon]:
    query = Coupon.filter(member_id=member_id)
    return query.filter(status_filter(status, now)) if status is not None else query


async def wallet_page(
    member_id: int, request: PageRequest, *, status: CouponStatus | None, now: datetime
) -> list[Coupon]:
    """Soonest-expiring first, keyset-paged on (ends_at, id); the cursor is such a pair."""
    query = _wallet(member_id, status, now)
    if request.cursor is not None:
        ends_at, coupon_id = request.cursor
        if request.backward:
            query = query.filter(Q(ends_at__lt=ends_at) | Q(ends_at=ends_at, id__lt=coupon_id))
        else:
            query = query.filter(Q(ends_at__gt=ends_at) | Q(ends_at=ends_at, id__gt=coupon_id))
    order = ("-ends_at", "-id") if request.backward else ("ends_at", "id")
    rows = await query.order_by(*order).limit(request.size + 1)
    await _with_templates(rows)
    return rows


async def wallet_count(member_id: int, *, status: CouponStatus | None, now: datetime) -> int:
    return int(await _wallet(member_id, status, now).count())


async def _with_templates(rows: list[Coupon]) -> None:
    """Each coupon with its template, one instance per distinct template. A join would build
    one per coupon, each decoding the template's JSON columns; a wallet mostly holds a few
    templates, and the extra statement costs less (a 20-coupon page: 1.4-1.5 ms -> 1.1 ms)."""
    if not rows:
        return
    found = await CouponTemplate.filter(id__in={row.template_id for row in rows})
    templates = {template.id: template for template in found}
    for row in rows:
        row.template = templates[row.template_id]


async def live_locks_for_order(member_id: int, order_ref: str, now: datetime) -> list[Coupon]:
    return await Coupon.filter(
        member_id=member_id, order_ref=order_ref, status="LOCKED", lock_expires_at__gt=now
    ).select_related("template")


async def lock_on_order(programme_id: int, member_id: int, order_ref: str) -> list[Coupon]:
    """The member's coupons locked to or used on this order, row-locked in id order."""
    return (
        await Coupon.filter(
            programme_id=programme_id,
            member_id=member_id,
            order_ref=order_ref,
            status__in=["LOCKED", "USED"],
        )
        .select_for_update(no_key=True)
        .order_by("id")
    )


async def lapsed_lock_ids(programme_id: int, now: datetime, limit: int) -> list[int]:
    """Coupons whose lock ran out, row-locked in id order like every other path; rows a
    checkout holds right now are skipped (the next run gets them), so the job never waits
    on one, nor one on it."""
    rows = (
        await Coupon.filter(programme_id=programme_id, status="LOCKED", lock_expires_at__lte=now)
        .order_by("id")
        .limit(limit)
        .select_for_update(no_key=True, skip_locked=True)
        .only("id")
    )
    return [row.id for row in rows]


async def unlock(ids: list[int]) -> int:
    return await Coupon.filter(id__in=ids, status="LOCKED").update(
        status="AVAILABLE", order_ref=None, locked_at=None, lock_expires_at=None, discount=None
    )


async def members_page(
    programme_id: int,
    *,
    tier_ids: list[int] | None,
    birthday_month: int | None,
    after_id: int,
    limit: int,
) -> list[Member]:
    """Members the job may owe a coupon: in these tiers, born in this month, by id."""
    query = Member.filter(programme_id=programme_id, id__gt=after_id)
    if tier_ids is not None:
        query = query.filter(tier_id__in=tier_ids)
    if birthday_month is not None:
        query = query.filter(birthday_month=birthday_month)
    return await query.order_by("id").limit(limit)


async def issued_in_period(
    template_id: int, member_ids: list[int], period: str
) -> set[tuple[int, int]]:
    rows = await Coupon.filter(
        template_id=template_id, member_id__in=member_ids, period=period
    ).values_list("member_id", "period_seq")
    return {(int(m), int(s)) for m, s in rows}


# ---- the claim hot path (perf-spend): raw SQL, the template read folded into the stock take ---

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
# What `_templates(members_only=True)` admits (besides ACTIVE, which the take requires anyway).
_MEMBERS_ONLY = "AND (claimable OR points_price IS NOT NULL)"


def _dialect() -> str:
    return "postgres" if connections.get("default").capabilities.dialect == "postgres" else "sqlite"


async def take_stock_of(
    programme_id: int, template_id: int, count: int, *, members_only: bool
) -> tuple[CouponTemplate, int | None] | None:
    """`take_stock`, for a template of the programme (one a member may get by itself, with
    `members_only`), returning it as it is after the take, and on PostgreSQL the id the
    coupon to write will have (so its audit row can name it before it is written); None when
    nothing was taken (no such template, not active, or short of stock: the caller reads it
    to say which)."""
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
