"""recordOrder without a transaction (PostgreSQL): one statement reads, locking nothing, what
the order needs (the key stored before, the member with its row version, whether the order id
is taken, the new order's id, what campaigns' audiences ask), and one more writes the order
with everything it brings only if the member row is still the version read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise import connections

from db.connection import rows_unless_unique_violation
from db.repositories.audit import inline_cte, inline_values
from db.repositories.campaign_audience import Audience as AudienceFacts
from db.repositories.idempotency import Stored, _json, key_lock_cte, stored_key_cte
from db.repositories.members import LOCKED_COLUMNS, LockedMember, locked_of
from db.repositories.order_writes import _dumps, _order_values
from db.repositories.orders import NewOrder, OrderRecord, record_of_new
from db.repositories.points import NewEvent, NewRow


@dataclass(frozen=True)
class Seen:
    """What an optimistic recordOrder reads in one statement, locking nothing: the key's row
    stored before (a replay), the member with its row version (`xmin`), whether the order id
    is taken, and the id the new order will have (drawn from its sequence only when there is
    an order to write: a gap in the ids is harmless)."""

    stored: Stored | None
    member: LockedMember | None
    version: str | None
    ref_taken: bool
    order_id: int | None
    # what campaigns' audiences ask beyond the member row (services.campaigns.common), read
    # with it when a campaign running now may reward orders, so judging needs no more reads
    audience: AudienceFacts | None = None


# $1 programme, $2 principal, $3 key, $4 the member's externalId, $5 the order id, $6 the
# most orders of the member to count for campaigns (0: none; see campaign_audience).
_SEEN = f"""
SELECT k.operation AS old_operation, k.fingerprint AS old_fingerprint, k.result AS old_result,
    m.xmin::text AS version, {", ".join(f"m.{c}" for c in LOCKED_COLUMNS.split(", "))},
    r.taken AS ref_taken,
    CASE WHEN k.id IS NULL AND m.id IS NOT NULL AND NOT r.taken
        THEN nextval('orders_id_seq') END AS order_id,
    m.joined_at, s.lifecycle,
    CASE WHEN $6::int > 0 THEN (SELECT count(*) FROM (SELECT 1 FROM orders o
        WHERE o.member_id = m.id AND o.status <> 'CANCELLED' LIMIT $6::int) AS x) END AS orders
FROM (SELECT EXISTS (SELECT 1 FROM orders WHERE programme_id = $1::int AND order_ref = $5::text)
        AS taken) r
LEFT JOIN idempotency_keys k ON k.programme_id = $1::int AND k.principal = $2::text
    AND k.key = $3::text
LEFT JOIN members m ON m.programme_id = $1::int AND m.external_id = $4::text
LEFT JOIN member_segments s ON $7::bool AND s.member_id = m.id
"""


async def seen_for_order(
    claim: list[Any],
    external_id: str,
    order_ref: str,
    *,
    orders_up_to: int = 0,
    audience: bool = False,
) -> Seen:
    """One statement, no transaction (see `Seen`). `claim` is the key's `claim_values`. With
    `audience` (a campaign may reward orders now), the member's join date, segment and
    orders counted up to `orders_up_to` come with it."""
    rows = await connections.get("default").execute_query_dict(
        _SEEN, [*claim[:3], external_id, order_ref, orders_up_to, audience]
    )
    row = rows[0]
    stored = None
    if row["old_operation"] is not None:
        stored = Stored(row["old_operation"], row["old_fingerprint"], _json(row["old_result"]))
    member = locked_of(row) if row["id"] is not None else None
    order_id = row["order_id"]
    return Seen(
        stored=stored,
        member=member,
        version=row["version"],
        ref_taken=bool(row["ref_taken"]),
        order_id=int(order_id) if order_id is not None else None,
        audience=AudienceFacts(row["joined_at"], row["lifecycle"], int(row["orders"] or 0))
        if audience and member is not None
        else None,
    )


# Everything in one statement run on its own (autocommit), and only if the member row is
# still the version read ($29): the member's update comes first, and every other write
# selects from it, so a member changed meanwhile (any ledger write updates its row) writes
# nothing. Before it, the key's advisory lock that a locking claim of it takes
# (db.repositories.idempotency, same name), without waiting: a twin holding it makes this
# write nothing too. So a twin with the key never waits on this statement's member row
# while this one waits on its key (a deadlock: a locking claim takes the key, then the
# member), and a locking twin that finds the lock taken waits for this one's commit. The
# key's row is inserted with its result; a twin's key, or an order id taken meanwhile, is a
# unique violation that undoes the whole statement. The member's balances are written even
# when the order earns nothing, for the version check and its row lock. The audit row ($35:
# one to write) goes with it.
_RECORD_UNLESS_CHANGED = f"""
WITH {key_lock_cte(30)},
m AS (
    UPDATE members SET points_available = $20::bigint, points_pending = $21::bigint,
        event_seq = event_seq + CASE WHEN $19::bigint > 0 THEN 1 ELSE 0 END
    FROM lk WHERE lk.got AND members.id = $2::int AND members.xmin::text = $29::text
    RETURNING members.event_seq
),
{stored_key_cte(30, result="jsonb_build_object('orderId', $18::bigint)", after="m")},
o AS (
    INSERT INTO orders (id, programme_id, member_id, order_ref, status, currency, placed_at,
        recorded_at, matures_at, completed_at, closed_at, amount, returned_amount,
        paid_with_points, points, points_reversed, channel)
    SELECT $18::bigint, $1::int, $2::int, $3::text, 'PENDING', $4::text, $5::timestamptz,
        $6::timestamptz, $7::timestamptz, NULL, NULL, $8::bigint, 0, $9::bigint, $10::bigint, 0,
        $47::text
    FROM k
    RETURNING id
),
l AS (
    INSERT INTO order_lines (order_id, sku, category, unit_price, quantity, discounted, points,
        rules, returned_quantity, points_reversed)
    SELECT o.id, t.sku, t.category, t.unit_price, t.quantity, t.discounted, t.points,
        t.rules::jsonb, 0, 0
    FROM o, unnest($11::text[], $12::text[], $13::bigint[], $14::int[], $15::bool[],
        $16::bigint[], $17::text[]) AS t(sku, category, unit_price, quantity, discounted,
        points, rules)
),
tx AS (
    INSERT INTO point_transactions (programme_id, member_id, kind, bucket, amount,
        available_after, pending_after, reference_type, reference, reason, actor,
        idempotency_key, reverses_id, shortfall, created_at)
    SELECT $1::int, $2::int, 'EARN', 'PENDING', $19::bigint, $20::bigint, $21::bigint,
        'ORDER', $3::text, $22::text, $23::text, $24::text, NULL, 0, $6::timestamptz
    FROM o WHERE $19::bigint > 0
),
e AS (
    INSERT INTO events
        (event_id, programme_id, member_id, type, sequence, occurred_at, recorded_at, payload)
    SELECT $25::uuid, $1::int, $2::int, $26::text, m.event_seq, $6::timestamptz,
        $27::timestamptz, $28::jsonb
    FROM m, o WHERE $19::bigint > 0
),
{inline_cte(36, after="o", wanted=35)}
SELECT id FROM o
"""


async def record_unless_changed(
    order: NewOrder,
    *,
    order_id: int,
    version: str,
    claim: list[Any],
    credit: NewRow | None,
    event: NewEvent | None,
    available: int,
    pending: int,
    audit: dict[str, Any] | None,
) -> OrderRecord | None:
    """Write a PENDING order as above (PostgreSQL, outside a transaction); None when nothing
    was written: the member changed since `version` was read, or a twin's key or an order id
    was written meanwhile (read again). `available`/`pending` are the member's balances after
    it (as read, when the order earns nothing); `claim` the key's `claim_values`; `audit` the
    audit row's columns (`db.repositories.audit.insert`'s), None for none."""
    assert (credit is None) == (event is None) and order.status == "PENDING"
    assert credit is None or (
        (credit.kind, credit.bucket, credit.reference_type, credit.reference, credit.created_at)
        == ("EARN", "PENDING", "ORDER", order.order_ref, order.recorded_at)
        and (credit.available_after, credit.pending_after) == (available, pending)
    )
    assert event is None or event.occurred_at == order.recorded_at
    programme_id, principal, key, operation, fingerprint, now = claim
    assert programme_id == order.programme_id
    values = [
        *_order_values(order),
        order_id,
        credit.amount if credit else 0,
        available,
        pending,
        credit.reason if credit else "",
        credit.actor if credit else "",
        credit.idempotency_key if credit else None,
        event.event_id if event else None,
        event.type if event else "",
        event.recorded_at if event else order.recorded_at,
        _dumps(event.payload) if event else "{}",
        version,
        principal,
        key,
        operation,
        fingerprint,
        now,
        audit is not None,
        *inline_values(audit, now),
        order.channel,
    ]
    rows = await rows_unless_unique_violation(_RECORD_UNLESS_CHANGED, values)
    return record_of_new(order, int(rows[0]["id"])) if rows else None
