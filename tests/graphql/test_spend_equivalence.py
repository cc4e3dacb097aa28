"""redeemPoints, holdPoints and captureHold give the same answers and leave the same rows whether they go
the optimistic way (two statements, PostgreSQL through the API) or the locking way (which
they take inside a transaction, on SQLite, and whenever the optimistic way gives up): the
ledger row, lots and movements, the event, the balances, replays, reused keys, refusals
and audit rows."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.relay import GlobalID

from domain.auth import Role
from tests.conftest import needs_postgres
from tests.graphql.points.documents import CAPTURE_HOLD
from tests.graphql.points.helpers import fund, hold, mutate, redeem
from tests.graphql.test_auth import token_for

pytestmark = needs_postgres


def _ids_left_out(value: Any) -> Any:
    """What an answer says, without the ids, keys and times that differ between two runs
    (an actor kept as its kind: key, member)."""
    if isinstance(value, dict):
        return {
            k: v.split(":")[0] if k == "actor" else _ids_left_out(v)
            for k, v in value.items()
            if k not in ("id", "holdId", "orderId", "expiresAt", "externalId", "idempotencyKey")
        }
    if isinstance(value, list):
        return [_ids_left_out(v) for v in value]
    return value


async def _story(gql: Any, programme: Any, make_member: Any, make_key: Any) -> dict[str, Any]:
    """Spends, holds, a replay, a reused key and refusals of one member; what each left."""
    from db.models import AuditEntry, Event, LotMovement, Member, PointLot, PointTransaction

    admin = await make_key(programme, Role.ADMIN)
    shop = await make_key(programme, Role.STOREFRONT)
    member, other = await make_member(programme), await make_member(programme)
    await fund(gql, admin, member.external_id, 500)
    await fund(gql, admin, member.external_id, 500)
    await fund(gql, admin, other.external_id, 50)
    token = await token_for(gql, shop, member.external_id)
    first_audit = await AuditEntry.filter(programme_id=programme.id).count()
    before = (await Member.get(id=member.id)).event_seq
    seen: dict[str, Any] = {}
    spend = {"memberExternalId": member.external_id, "reward": "R-1", "reason": "  a mug  "}
    done = await redeem(gql, shop, **spend, amount=300, idempotencyKey="K1")
    seen["spent"] = _ids_left_out(done)
    tx = await PointTransaction.get(id=int(GlobalID.from_id(done["transaction"]["id"]).node_id))
    seen["ledger row"] = _ids_left_out(
        {
            k: getattr(tx, k)
            for k in (
                "kind",
                "bucket",
                "amount",
                "available_after",
                "pending_after",
                "reference_type",
                "reference",
                "reason",
                "actor",
                "shortfall",
                "reverses_id",
            )
        }
    )
    seen["movements"] = list(
        await LotMovement.filter(transaction_id=tx.id)
        .order_by("id")
        .values_list("amount", flat=True)
    )
    seen["lots"] = sorted(
        await PointLot.filter(member_id=member.id).values_list("remaining", flat=True)
    )
    event = await Event.filter(member_id=member.id).order_by("-sequence").first()
    assert event is not None
    payload = {k: v for k, v in event.payload.items() if k != "member"}
    seen["event"] = (
        event.type,
        event.sequence - before,
        payload,
        event.occurred_at == tx.created_at,
    )
    seen["replayed"] = await redeem(gql, shop, **spend, amount=300, idempotencyKey="K1") == done
    seen["reused"] = await redeem(gql, shop, **spend, amount=301, idempotencyKey="K1")
    held = await hold(gql, shop, member.external_id, 100)
    seen["held"] = _ids_left_out(held)
    capture = {"holdId": held["hold"]["id"], "amount": 60}
    seen["captured"] = _ids_left_out(
        await mutate(gql, CAPTURE_HOLD, "captureHold", shop, **capture)
    )
    seen["captured again"] = await mutate(gql, CAPTURE_HOLD, "captureHold", shop, **capture)
    another = await hold(gql, shop, member.external_id, 100)
    seen["captured beyond the hold"] = await mutate(
        gql, CAPTURE_HOLD, "captureHold", shop, holdId=another["hold"]["id"], amount=150
    )
    seen["too much"] = await redeem(gql, shop, memberExternalId=member.external_id, amount=601)
    await Member.filter(id=member.id).update(points_pending=500)
    seen["pending"] = await redeem(gql, shop, memberExternalId=member.external_id, amount=601)
    await Member.filter(id=member.id).update(points_pending=0)
    seen["nobody"] = await redeem(gql, shop, memberExternalId="nobody-here", amount=1)
    seen["another's by token"] = await redeem(
        gql, token, memberExternalId=other.external_id, amount=1
    )
    seen["own by token"] = _ids_left_out(await redeem(gql, token, amount=5))
    row = await Member.get(id=member.id)
    seen["member row"] = (row.points_available, row.points_held, row.event_seq - before)
    audit = await AuditEntry.filter(programme_id=programme.id).order_by("id")
    seen["audit"] = [
        (r.operation, r.outcome, len(r.target_ids.split()), r.actor_role, _ids_left_out(r.input))
        for r in audit[first_audit:]
    ]
    return seen


@pytest.mark.parametrize("part", ["answers and rows", "audit"])
async def test_either_way_the_same(gql, programme, make_member, make_key, monkeypatch, part):
    from services.points import spending

    optimistic = await _story(gql, programme, make_member, make_key)
    monkeypatch.setattr(spending, "outside_a_transaction_on_postgres", lambda: False)
    locking = await _story(gql, programme, make_member, make_key)
    keys = ["audit"] if part == "audit" else [k for k in optimistic if k != "audit"]
    assert {k: optimistic[k] for k in keys} == {k: locking[k] for k in keys}
    # and the story is the one told: the refusals are refusals, the spend a spend
    assert optimistic["too much"]["errors"][0]["code"] == "INSUFFICIENT_POINTS"
    assert optimistic["pending"]["errors"][0]["code"] == "POINTS_PENDING"
    assert optimistic["reused"]["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert optimistic["nobody"]["errors"][0]["code"] == "NOT_FOUND"
    assert optimistic["another's by token"]["errors"][0]["code"] == "NOT_FOUND"
    assert optimistic["captured again"]["errors"][0]["code"] == "HOLD_CLOSED"
    assert optimistic["captured beyond the hold"]["errors"][0]["code"] == "VALIDATION"
    assert optimistic["member row"][:2] == (1000 - 300 - 60 - 5, 100)
