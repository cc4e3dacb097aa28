"""completeOrder, cancelOrder and returnOrderLines write their audit row in their own
transaction on PostgreSQL (services.audit.recording.run_audited_inline; an outer transaction on
SQLite): the same rows either way, one per call, and a row that cannot be written undoes
the change with it."""

from __future__ import annotations

import uuid
from typing import Any

from db.models import AuditEntry, IdempotencyKey, Order, PointTransaction
from domain.auth import Role
from tests.fixtures.audit import fail_success_rows
from tests.graphql.points.documents import CANCEL_ORDER, COMPLETE_ORDER, RETURN_LINES
from tests.graphql.points.helpers import mutate, order_input, programme_now, record_order


async def _pending(gql: Any, key: str, member: Any) -> dict[str, Any]:
    recorded = await record_order(
        gql, key, order_input(member.external_id, await programme_now(gql, key))
    )
    assert recorded["__typename"] == "OrderSuccess", recorded
    return dict(recorded["order"])


async def _rows(programme: Any, operation: str) -> list[AuditEntry]:
    return list(
        await AuditEntry.filter(programme_id=programme.id, operation=operation).order_by("id")
    )


async def test_a_completion_its_replay_and_a_refusal_each_leave_one_row(
    gql, programme, make_member, make_key
):
    member = await make_member(programme)
    key = await make_key(programme, Role.STOREFRONT)
    order = await _pending(gql, key, member)
    once = uuid.uuid4().hex
    # when it completes, is replayed, and is completed again with another key
    done = await mutate(
        gql, COMPLETE_ORDER, "completeOrder", key, orderId=order["orderId"], idempotencyKey=once
    )
    again = await mutate(
        gql, COMPLETE_ORDER, "completeOrder", key, orderId=order["orderId"], idempotencyKey=once
    )
    refused = await mutate(gql, COMPLETE_ORDER, "completeOrder", key, orderId=order["orderId"])
    # then a row each: two successes naming the order, and the refusal's code
    assert done["__typename"] == again["__typename"] == "OrderSuccess", (done, again)
    assert refused["errors"][0]["code"] == "ORDER_CLOSED", refused
    rows = await _rows(programme, "completeOrder")
    assert [r.outcome for r in rows] == ["SUCCESS", "SUCCESS", "ORDER_CLOSED"]
    assert [r.target_ids.split() for r in rows[:2]] == [[done["order"]["id"]]] * 2
    assert rows[2].target_ids.split() == []
    assert {r.actor_role for r in rows} == {"storefront"}
    assert rows[0].input["input"]["orderId"] == order["orderId"]


async def test_a_cancel_and_a_return_leave_their_rows(gql, programme, make_member, make_key):
    member = await make_member(programme)
    key = await make_key(programme, Role.STOREFRONT)
    cancelled = await mutate(
        gql,
        CANCEL_ORDER,
        "cancelOrder",
        key,
        orderId=(await _pending(gql, key, member))["orderId"],
    )
    returned = await mutate(
        gql,
        RETURN_LINES,
        "returnOrderLines",
        key,
        orderId=(await _pending(gql, key, member))["orderId"],
        lines=[{"sku": "sku-1", "quantity": 1}],
    )
    assert cancelled["__typename"] == returned["__typename"] == "OrderSuccess", (
        cancelled,
        returned,
    )
    for operation, result in (("cancelOrder", cancelled), ("returnOrderLines", returned)):
        rows = await _rows(programme, operation)
        assert [(r.outcome, r.target_ids.split()) for r in rows] == [
            ("SUCCESS", [result["order"]["id"]])
        ]


async def test_an_audit_row_that_cannot_be_written_undoes_the_completion(
    gql, programme, make_member, make_key, monkeypatch
):
    member = await make_member(programme)
    key = await make_key(programme, Role.STOREFRONT)
    order = await _pending(gql, key, member)
    fail_success_rows(monkeypatch)
    # when the completion's row fails to be written
    body = await gql(
        COMPLETE_ORDER,
        {"input": {"orderId": order["orderId"], "idempotencyKey": "K-undone"}},
        auth=key,
    )
    # then the caller sees the failure, and nothing of the completion is left
    assert body["errors"][0]["message"], body
    assert (await Order.get(order_ref=order["orderId"])).status == "PENDING"
    assert not await PointTransaction.filter(member_id=member.id, bucket="AVAILABLE").exists()
    assert not await IdempotencyKey.filter(key="K-undone").exists()
    rows = await _rows(programme, "completeOrder")
    assert [r.outcome for r in rows] == ["INTERNAL_ERROR"]
