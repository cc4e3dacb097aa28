"""recordOrder and completeOrder at the database's pace: the round trips one request makes to
PostgreSQL through the GraphQL API, counted on the driver (asyncpg) so that BEGIN, SAVEPOINT,
RELEASE and COMMIT count as the round trips they are, not only the ORM's statements.

What is counted is every statement the request sends, with a warm cache (the API key and the
tiers answered by the cache). recordOrder is counted in total, with the programme row served
from memory (this process listening for invalidations, as `loyalty serve` does); the others
leave out the programme's read (`PROGRAMME_READS`) and the audit's transaction (`AUDIT`)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from db.challenge_cache import active_challenges
from domain.auth import Role
from tests.conftest import needs_postgres, needs_redis
from tests.graphql.points.helpers import line, order_input, programme_now

pytestmark = needs_postgres

# The programme row, read per request until it is cached in process (not this change's).
PROGRAMME_READS = 1
# Staff mutations are audited in an outer transaction (schema/audit.py): BEGIN and COMMIT of
# it, and the audit row.
AUDIT = 3

RECORD = """
mutation ($input: RecordOrderInput!) {
  recordOrder(input: $input) {
    __typename
    ... on OrderSuccess { order { id orderId status points placedAt } }
    ... on RecordOrderError { errors { code } }
  }
}
"""
COMPLETE = """
mutation ($input: OrderActionInput!) {
  completeOrder(input: $input) {
    __typename
    ... on OrderSuccess { order { id orderId status points completedAt } }
    ... on CompleteOrderError { errors { code } }
  }
}
"""


@contextmanager
def round_trips() -> Iterator[list[str]]:
    """Every statement sent on any asyncpg connection while open, each one round trip: the
    simple-query path (`execute` without arguments: BEGIN, COMMIT, SAVEPOINT, scripts) and
    the extended one (`fetch`, `fetchrow`, `fetchval`, `execute` with arguments,
    `executemany`). The public methods do not call one another, so none is counted twice."""
    from asyncpg.connection import Connection

    sent: list[str] = []
    names = ("execute", "executemany", "fetch", "fetchrow", "fetchval")
    originals = {name: getattr(Connection, name) for name in names}

    def counting(name: str) -> Any:
        original = originals[name]

        async def wrapper(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            sent.append(" ".join(str(query).split())[:90])
            return await original(self, query, *args, **kwargs)

        return wrapper

    for name in names:
        setattr(Connection, name, counting(name))
    try:
        yield sent
    finally:
        for name, original in originals.items():
            setattr(Connection, name, original)


async def _record(gql: Any, key: str, order: dict[str, Any]) -> dict[str, Any]:
    body = await gql(RECORD, {"input": order}, auth=key)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["recordOrder"]
    return result


async def warm(gql: Any, key: str) -> None:
    """Once the invalidations published by the set-up have been heard (each drops what was
    loaded before it), the programme read once more, into memory."""
    await asyncio.sleep(0.05)
    await programme_now(gql, key)


@needs_redis
@pytest.mark.parametrize("role", [Role.STOREFRONT, Role.ADMIN])
async def test_record_order_round_trips(gql, programme, make_member, make_key, role, listening):
    # given a member, and a warm cache (the key, the programme and the tiers read once already)
    member = await make_member(programme)
    key = await make_key(programme, role)
    now = await programme_now(gql, key)
    assert (await _record(gql, key, order_input(member.external_id, now)))["__typename"] == (
        "OrderSuccess"
    )
    order = order_input(member.external_id, now)
    await warm(gql, key)
    # when it records an order
    with round_trips() as sent:
        result = await _record(gql, key, order)
    assert result["__typename"] == "OrderSuccess", result
    # then it is at most 3 round trips IN TOTAL, the audit's included (2: the member, the key
    # and the order id read; then everything written, the audit row with it, unless the member
    # changed meanwhile. Was 6: BEGIN, the programme, the key claimed with the member locked,
    # the writes, the audit row, COMMIT; and 11 for the order's own work before that)
    assert len(sent) <= 3, sent
    # and a replay of it reads what was stored, and writes only its audit row
    with round_trips() as replayed:
        again = await _record(gql, key, order)
    assert again == result
    assert len(replayed) <= 3, replayed  # the key, the order, the audit row


async def test_complete_order_round_trips(gql, programme, make_member, make_key):
    # given a pending order (below the next tier: no upgrade to book), and a warm cache
    member = await make_member(programme)
    key = await make_key(programme, Role.STOREFRONT)
    recorded = await _record(
        gql,
        key,
        order_input(
            member.external_id, await programme_now(gql, key), lines=[line(unit_price=1_000)]
        ),
    )
    ref = recorded["order"]["orderId"]
    await active_challenges(programme.id)  # cached as the campaigns are (recording warmed those)
    # when it completes
    with round_trips() as sent:
        body = await gql(
            COMPLETE, {"input": {"orderId": ref, "idempotencyKey": uuid.uuid4().hex}}, auth=key
        )
    assert body["data"]["completeOrder"]["__typename"] == "OrderSuccess", body
    # then at most 11 in total: BEGIN, the key, the order with its member's inviter, the
    # programme, the member locked, the order locked, the ledger's rows with the order and the
    # balances, the tier's activity with its total, the referral under the lock, the key's
    # result with the audit row, COMMIT. (Was 12 with the audit row on its own; 16: the audit row in an outer transaction, whose
    # BEGIN, COMMIT, SAVEPOINT and RELEASE made four where BEGIN and COMMIT now make two; the
    # order and the referral read apart; the activity and its total read apart. Before that
    # 21: the order read, locked and read again after the commit, the ledger's two rows, lot
    # and balances in five statements, the order and the spend in two more, the lock timeout
    # set and reset.)
    assert len(sent) <= 11, sent
    assert sum(s.startswith("SAVEPOINT") for s in sent) == 0, sent


async def test_twenty_orders_of_one_member_at_once_all_count(gql, programme, make_member, make_key):
    # given one member (its row is locked by the statement that claims each order's key)
    import asyncio

    from db.models import Event, Member
    from db.repositories import points as points_repo

    member = await make_member(programme)
    key = await make_key(programme, Role.STOREFRONT)
    now = await programme_now(gql, key)
    # when twenty orders of it arrive at once
    results = await asyncio.gather(
        *(_record(gql, key, order_input(member.external_id, now)) for _ in range(20))
    )
    # then each is booked on the balance the one before it left: none is lost
    assert {r["__typename"] for r in results} == {"OrderSuccess"}
    earned = sum(r["order"]["points"] for r in results)
    row = await Member.get(id=member.id)
    assert row.points_pending == earned
    assert await points_repo.ledger_sums(member.id) == {"PENDING": earned}
    sequences = (
        await Event.filter(member_id=member.id)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )
    assert list(sequences) == list(range(sequences[0], sequences[0] + len(sequences)))
    # and the events tell balances one after another: 1x, 2x, ... 20x the same order's points
    each = {r["order"]["points"] for r in results}
    assert len(each) == 1 and each.pop() > 0
    told = await Event.filter(member_id=member.id, type="points.earned").values_list(
        "payload", flat=True
    )
    assert sorted(p["balance"]["pending"] for p in told) == [earned * n // 20 for n in range(1, 21)]


async def test_a_refused_order_inside_the_audit_leaves_its_key_free_and_its_audit_row(
    gql, programme, make_member, make_key
):
    # given an order id taken already, and a staff key (audited: one outer transaction)
    from db.models import AuditEntry, IdempotencyKey

    first, second = await make_member(programme), await make_member(programme)
    key = await make_key(programme, Role.STOREFRONT)
    now = await programme_now(gql, key)
    taken = await _record(gql, key, order_input(first.external_id, now))
    ref = taken["order"]["orderId"]
    # when another member's order comes with that id
    refused = await _record(gql, key, order_input(second.external_id, now, order_id=ref, key="K2"))
    # then it is refused, its audit row says why, and its key was not kept
    assert refused == {"__typename": "RecordOrderError", "errors": [{"code": "REFERENCE_REUSED"}]}
    outcomes = await AuditEntry.filter(
        programme_id=programme.id, operation="recordOrder"
    ).values_list("outcome", flat=True)
    assert sorted(outcomes) == ["REFERENCE_REUSED", "SUCCESS"]
    assert not await IdempotencyKey.filter(programme_id=programme.id, key="K2").exists()
    # and the corrected retry with the same key is booked
    retried = await _record(gql, key, order_input(second.external_id, now, key="K2"))
    assert retried["__typename"] == "OrderSuccess"


async def test_record_order_round_trips_with_an_abuse_policy_for_orders(
    gql, programme, make_member, make_key
):
    # given a cap on order points and an order velocity rule, neither reached
    from tests.graphql.test_abuse import SET_POLICY

    admin = await make_key(programme, Role.ADMIN)
    policy = {
        "caps": [{"source": "ORDER", "period": "DAY", "points": 1_000_000}],
        "orderVelocity": {"orders": 100, "minutes": 60},
    }
    body = await gql(SET_POLICY, {"input": policy}, auth=admin)
    assert body["data"]["setAbusePolicy"]["__typename"] == "SetAbusePolicySuccess", body
    member = await make_member(programme)
    key = await make_key(programme, Role.STOREFRONT)
    now = await programme_now(gql, key)
    await _record(gql, key, order_input(member.external_id, now))
    # when
    with round_trips() as sent:
        result = await _record(gql, key, order_input(member.external_id, now))
    # then the rules cost one read, under the member's lock (the cap's sum, the order count)
    assert result["__typename"] == "OrderSuccess", result
    assert len(sent) - PROGRAMME_READS - AUDIT <= 3, sent
