"""captureHold's optimistic way (PostgreSQL through the API: services/points/captures.py)
against its locking way: refusals that close the hold, a hold closed between the read and
the write, the rows a capture leaves, captures racing the order's cancel, the audit row of a
refusal that changed something, and the read's plan. From a second reader's probes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from strawberry.relay import GlobalID

from tests.conftest import needs_postgres
from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.points.documents import CANCEL_ORDER, CAPTURE_HOLD, HOLD_POINTS, RELEASE_HOLD
from tests.graphql.points.helpers import (
    advance,
    codes,
    fund,
    hold,
    mutate,
    new_key,
    parse,
    placed_order,
    programme_now,
)

pytestmark = needs_postgres


def _id(global_id: str) -> int:
    return int(GlobalID.from_id(global_id).node_id)


@pytest.fixture(params=["optimistic", "locking"])
def way(request: Any, monkeypatch: Any) -> str:
    if request.param == "locking":
        from services.points import spending

        monkeypatch.setattr(spending, "outside_a_transaction_on_postgres", lambda: False)
    return str(request.param)


async def _capture_twice(gql: Any, shop: str, hold_id: str, amount: int) -> tuple[Any, Any]:
    """A capture, and the same one again under its idempotency key."""
    key = new_key()
    answers = [
        await mutate(
            gql,
            CAPTURE_HOLD,
            "captureHold",
            shop,
            holdId=hold_id,
            amount=amount,
            idempotencyKey=key,
        )
        for _ in range(2)
    ]
    return answers[0], answers[1]


async def test_refusals_that_close_the_hold_either_way(gql, programme, make_member, keys, way):
    from db.models import AuditEntry, Member, PointHold

    admin, shop = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 500)
    # ORDER_CLOSED: a hold taken for an order already cancelled
    order = await placed_order(gql, shop, member.external_id)
    cancelled = await mutate(gql, CANCEL_ORDER, "cancelOrder", shop, orderId=order["orderId"])
    assert cancelled["__typename"] == "OrderSuccess", cancelled
    late = await mutate(
        gql,
        HOLD_POINTS,
        "holdPoints",
        shop,
        memberExternalId=member.external_id,
        amount=50,
        orderId=order["orderId"],
    )
    assert late["__typename"] == "HoldSuccess", late
    closed, again = await _capture_twice(gql, shop, late["hold"]["id"], 50)
    assert codes(closed) == ["ORDER_CLOSED"], closed
    assert codes(again) == ["ORDER_CLOSED"], again
    row = await PointHold.get(id=_id(late["hold"]["id"]))
    assert (row.status, row.captured, row.closed_at is not None) == ("RELEASED", 0, True)
    # HOLD_EXPIRED
    held = await hold(gql, shop, member.external_id, 60)
    expires_in = parse(held["hold"]["expiresAt"]) - parse(await programme_now(gql, shop))
    await advance(gql, admin, seconds=int(expires_in.total_seconds()) + 1)
    lapsed, again = await _capture_twice(gql, shop, held["hold"]["id"], 60)
    assert codes(lapsed) == ["HOLD_EXPIRED"], lapsed
    assert codes(again) == ["HOLD_EXPIRED"], again
    row = await PointHold.get(id=_id(held["hold"]["id"]))
    assert (row.status, row.captured) == ("EXPIRED", 0)
    m = await Member.get(id=member.id)
    assert (m.points_available, m.points_held) == (500, 0)
    audit = await AuditEntry.filter(programme_id=programme.id, operation="captureHold").order_by(
        "id"
    )
    assert [a.outcome for a in audit] == ["ORDER_CLOSED"] * 2 + ["HOLD_EXPIRED"] * 2
    await assert_ledger_consistent(member)


async def _read_capture(programme: Any, hold_id: int, amount: int, key: str) -> tuple[Any, Any]:
    """What an optimistic capture read, and its write (as captures.capture_with_member's)."""
    from db.repositories import spending
    from domain.points import TxKind
    from services.points import ledger_rows
    from services.points.ledger import Entry

    at = datetime.now(UTC)
    claim = [programme.id, "test", key, "captureHold", "f", at]
    found = await spending.seen_capture(claim, hold_id)
    seen, held = found.seen, found.hold
    assert held is not None and held.status == "HELD" and seen.member is not None
    member = seen.member
    member.points_held -= held.amount
    entry = Entry("ORDER", held.order_ref, "points paid at checkout", "test", key, at)
    row, event, takes = ledger_rows.available_debit(member, entry, amount, TxKind.REDEEM, seen.lots)
    member.points_available = row.available_after
    if event is not None:
        member.event_seq += 1

    async def write() -> int | None:
        return await spending.debit_unless_changed(
            member,
            version=seen.version,
            transaction_id=seen.new_id,
            claim=claim,
            row=row,
            event=event,
            takes=takes,
            audit=None,
            result={"holdId": held.id},
            captures=held,
        )

    return seen, write


@pytest.mark.parametrize("meanwhile", ["released", "captured with another key"])
async def test_a_capture_whose_hold_closed_since_its_read_writes_nothing(
    gql, programme, make_member, keys, meanwhile
):
    from db.models import Member, PointHold, PointTransaction

    admin, shop = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 500)
    held = await hold(gql, shop, member.external_id, 100)
    hold_id = _id(held["hold"]["id"])
    seen, write = await _read_capture(programme, hold_id, 100, "K-race")
    if meanwhile == "released":
        done = await mutate(gql, RELEASE_HOLD, "releaseHold", shop, holdId=held["hold"]["id"])
    else:
        done = await mutate(
            gql, CAPTURE_HOLD, "captureHold", shop, holdId=held["hold"]["id"], amount=100
        )
    assert done["__typename"] == "HoldSuccess", done
    status = (await PointHold.get(id=hold_id)).status
    assert await write() is None
    assert (await PointHold.get(id=hold_id)).status == status
    assert not await PointTransaction.filter(id=seen.new_id).exists()
    row = await assert_ledger_consistent(member)
    assert row.points_held == 0
    assert (await Member.get(id=member.id)).points_available == (
        500 if meanwhile == "released" else 400
    )


async def test_a_capture_of_a_hold_closed_behind_its_members_back_writes_nothing(
    gql, programme, make_member, keys
):
    # every writer of a hold updates its member row too; one that did not (a raw UPDATE here)
    # must make the capture write nothing, not capture a closed hold
    from tortoise import connections

    from db.models import PointHold, PointTransaction

    admin, shop = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 500)
    held = await hold(gql, shop, member.external_id, 100)
    hold_id = _id(held["hold"]["id"])
    seen, write = await _read_capture(programme, hold_id, 100, "K-guard")
    await connections.get("default").execute_query(
        "UPDATE point_holds SET status = 'RELEASED', closed_at = now() WHERE id = $1", [hold_id]
    )
    assert await write() is None
    assert (await PointHold.get(id=hold_id)).status == "RELEASED"
    assert not await PointTransaction.filter(id=seen.new_id).exists()


async def test_the_capture_read_uses_indexes_in_a_generic_plan(programme):
    from db.repositories.spending import _SEEN_CAPTURE
    from tests.conftest import DATABASE_URL, asyncpg_dsn
    from tests.graphql.test_hot_path_plans import full_scans, planning, schema_of

    connection = await asyncpg.connect(asyncpg_dsn(DATABASE_URL))
    try:
        schema = await schema_of(connection)
        async with planning(connection):
            await connection.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            await connection.execute(f"PREPARE seen_plan AS {_SEEN_CAPTURE}")
            found = await connection.fetchval(
                "EXPLAIN (FORMAT JSON) EXECUTE seen_plan"
                " (1, 'p', 'k', 1, 'point_transactions_id_seq', true)"
            )
    finally:
        await connection.close()
    plan = (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]
    assert not list(full_scans(plan, schema)), json.dumps(plan, indent=1)


@pytest.mark.parametrize("way", ["inline (PostgreSQL)", "an outer transaction"])
async def test_a_hold_a_capture_found_lapsed_and_its_audit_row_commit_together(
    gql, programme, make_member, keys, monkeypatch, way
):
    # a capture that finds its hold lapsed closes it (a change) and is refused: when its audit
    # row cannot be written, neither is the change (both or neither, either way)
    from db.models import AuditEntry, PointHold
    from schema import audit as schema_audit
    from services.audit import recording as audit_recording

    admin, shop = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    held = await hold(gql, shop, member.external_id, 60)
    expires_in = parse(held["hold"]["expiresAt"]) - parse(await programme_now(gql, shop))
    await advance(gql, admin, seconds=int(expires_in.total_seconds()) + 1)
    if way == "an outer transaction":
        monkeypatch.setattr(schema_audit, "is_postgres", lambda: False)
    real = audit_recording._write

    async def failing(principal: Any, request: Any, **kw: Any) -> Any:
        if request.operation == "captureHold" and kw.get("outcome") == "HOLD_EXPIRED":
            raise RuntimeError("audit write failed")
        return await real(principal, request, **kw)

    monkeypatch.setattr(audit_recording, "_write", failing)
    body = await gql(
        CAPTURE_HOLD,
        {"input": {"idempotencyKey": new_key(), "holdId": held["hold"]["id"], "amount": 60}},
        auth=shop,
    )
    assert body["errors"], body
    status = (await PointHold.get(id=_id(held["hold"]["id"]))).status
    outcomes = await AuditEntry.filter(
        programme_id=programme.id, operation="captureHold"
    ).values_list("outcome", flat=True)
    assert (status, list(outcomes)) == ("HELD", ["INTERNAL_ERROR"])
    # and without the failure, the lapsed hold's close and its row commit together
    monkeypatch.setattr(audit_recording, "_write", real)
    refused = await mutate(
        gql, CAPTURE_HOLD, "captureHold", shop, holdId=held["hold"]["id"], amount=60
    )
    assert codes(refused) == ["HOLD_EXPIRED"]
    rows = await AuditEntry.filter(
        programme_id=programme.id, operation="captureHold", outcome="HOLD_EXPIRED"
    )
    assert [r.target_ids.split() for r in rows] == [[held["hold"]["id"]]]
    assert (await PointHold.get(id=_id(held["hold"]["id"]))).status == "EXPIRED"


@pytest.mark.parametrize("round_", range(3))
async def test_captures_racing_an_order_cancel_give_everything_back(
    gql, programme, make_member, keys, round_
):
    import asyncio

    from db.models import Member, PointHold

    admin, shop = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 1000)
    order = await placed_order(gql, shop, member.external_id)
    holds = []
    for _ in range(6):
        h = await mutate(
            gql,
            HOLD_POINTS,
            "holdPoints",
            shop,
            memberExternalId=member.external_id,
            amount=50,
            orderId=order["orderId"],
        )
        holds.append(h)
    other = await hold(gql, shop, member.external_id, 70)
    captures = [
        mutate(gql, CAPTURE_HOLD, "captureHold", shop, holdId=h["hold"]["id"], amount=40)
        for h in holds
    ]
    cancel = mutate(gql, CANCEL_ORDER, "cancelOrder", shop, orderId=order["orderId"])
    extra = mutate(gql, CAPTURE_HOLD, "captureHold", shop, holdId=other["hold"]["id"], amount=70)
    results = await asyncio.gather(*captures[:3], cancel, *captures[3:], extra)
    assert results[3]["__typename"] == "OrderSuccess", results[3]
    statuses = [(await PointHold.get(id=_id(h["hold"]["id"]))).status for h in holds]
    await assert_ledger_consistent(member)
    m = await Member.get(id=member.id)
    # the order's spends all came back (captured before the cancel) or never happened
    assert (m.points_available, m.points_held) == (1000 - 70, 0), (statuses, results)


async def test_a_capture_leaves_the_same_rows_either_way(gql, programme, make_member, keys, way):
    from db.models import Event, LotMovement, Member, PointHold, PointTransaction

    admin, shop = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 300)
    await fund(gql, admin, member.external_id, 300)
    before = (await Member.get(id=member.id)).event_seq
    held = await hold(gql, shop, member.external_id, 400)
    done = await mutate(
        gql, CAPTURE_HOLD, "captureHold", shop, holdId=held["hold"]["id"], amount=350
    )
    assert done["__typename"] == "HoldSuccess", done
    row = await PointHold.get(id=_id(held["hold"]["id"]))
    tx = await PointTransaction.filter(member_id=member.id, kind="REDEEM").order_by("-id").first()
    moved = list(
        await LotMovement.filter(transaction_id=tx.id)
        .order_by("id")
        .values_list("amount", flat=True)
    )
    ev = await Event.filter(member_id=member.id).order_by("-sequence").first()
    m = await Member.get(id=member.id)
    seen = (
        row.status,
        row.captured,
        row.closed_at == tx.created_at,
        tx.amount,
        tx.available_after,
        tx.reference_type,
        tx.reference == row.order_ref,
        tx.reason,
        tx.idempotency_key is not None,
        moved,
        ev.type,
        ev.sequence - before,
        {k: v for k, v in ev.payload.items() if k != "member"},
        ev.occurred_at == tx.created_at,
        m.points_available,
        m.points_held,
        m.event_seq - before,
        done["member"],
    )
    payload = {
        "version": ev.payload["version"],
        "points": -350,
        "balance": ev.payload["balance"],
        "source": "ORDER",
        "reference": row.order_ref,
        "reason": "points paid at checkout",
    }
    assert seen[:12] == (
        "CAPTURED",
        350,
        True,
        -350,
        250,
        "ORDER",
        True,
        "points paid at checkout",
        True,
        [300, 50],
        "points.redeemed",
        1,
    ), (way, seen)
    assert {k: seen[12].get(k) for k in payload} == payload, (way, seen[12])
    assert seen[13:17] == (True, 250, 0, 1), (way, seen)
