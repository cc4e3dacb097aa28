"""recordOrder keeps its optimistic way (tests/graphql/test_order_round_trips.py) while no
campaign for orders runs at the order's time: the active campaigns come from memory, and only
an order a campaign may reward takes the member's lock to be judged."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from domain.auth import Role
from domain.campaigns import Audience, Channel, Conditions, Schedule
from tests.conftest import needs_postgres, needs_redis
from tests.graphql.campaigns.orders_helpers import campaign_rules, make_campaign
from tests.graphql.points.helpers import order_input, parse, programme_now
from tests.graphql.test_order_round_trips import _record, round_trips, warm

pytestmark = [needs_postgres, needs_redis]


async def test_campaigns_that_do_not_run_now_leave_record_order_at_three_round_trips(
    gql, programme, make_member, make_key, listening
):
    # given active campaigns that do not run at the order's time (one starts tomorrow, one
    # ended yesterday, one runs on other weekdays only), and a warm cache
    member = await make_member(programme)
    key = await make_key(programme, Role.STOREFRONT)
    now = await programme_now(gql, key)
    at = parse(now)
    day = timedelta(days=1)
    await make_campaign(programme, at, code="LATER", schedule=Schedule(at + day, at + 9 * day))
    await make_campaign(programme, at, code="OVER", schedule=Schedule(at - 9 * day, at - day))
    other_days = frozenset(range(1, 8)) - {at.astimezone(ZoneInfo(programme.timezone)).isoweekday()}
    await make_campaign(
        programme, at, code="WEEKDAYS", schedule=Schedule(at - day, at + 9 * day, other_days)
    )
    assert (await _record(gql, key, order_input(member.external_id, now)))["__typename"] == (
        "OrderSuccess"
    )
    order = order_input(member.external_id, now)
    await warm(gql, key)
    # when it records an order
    with round_trips() as sent:
        result = await _record(gql, key, order)
    # then it took the optimistic way: no more round trips than without campaigns
    assert result["__typename"] == "OrderSuccess", result
    assert len(sent) <= 3, sent
    assert result["order"]["points"] == 200


async def test_campaigns_running_now_that_reward_nothing_here_leave_the_optimistic_way(
    gql, programme, make_member, make_key, listening
):
    # given campaigns running now that this order does not meet: another category, the
    # offline channel, another tier — and one asking for a first order, which it is not
    member = await make_member(programme)
    key = await make_key(programme, Role.STOREFRONT)
    now = await programme_now(gql, key)
    at = parse(now)
    await make_campaign(
        programme, at, code="SHOES", conditions=Conditions(categories=frozenset({"shoes"}))
    )
    await make_campaign(
        programme, at, code="IN-STORE", conditions=Conditions(channels=frozenset({Channel.OFFLINE}))
    )
    await make_campaign(programme, at, code="GOLD", audience=Audience(tiers=frozenset({"GOLD"})))
    assert (await _record(gql, key, order_input(member.external_id, now)))["__typename"] == (
        "OrderSuccess"
    )
    await warm(gql, key)
    # when it records an order
    with round_trips() as sent:
        result = await _record(gql, key, order_input(member.external_id, now))
    # then no lock was taken and no more round trips than without campaigns
    assert result["__typename"] == "OrderSuccess", result
    assert result["order"]["points"] == 200
    assert not any(statement.startswith("BEGIN") for statement in sent), sent
    assert len(sent) <= 3, sent
    # and with a first-order campaign running too, its orders are counted by the same read
    await make_campaign(programme, at, code="FIRST", audience=Audience(nth_order=1))
    await warm(gql, key)
    with round_trips() as sent:
        result = await _record(gql, key, order_input(member.external_id, now))
    assert result["order"]["points"] == 200
    assert not any(statement.startswith("BEGIN") for statement in sent), sent
    assert len(sent) <= 3, sent


async def test_a_campaign_running_now_takes_the_locking_way_and_books_its_points(
    gql, programme, make_member, make_key, listening
):
    # given a campaign running now
    member = await make_member(programme)
    key = await make_key(programme, Role.STOREFRONT)
    now = await programme_now(gql, key)
    await make_campaign(programme, parse(now))
    await warm(gql, key)
    # when an order is recorded
    with round_trips() as sent:
        body = await gql(
            "mutation ($input: RecordOrderInput!) { recordOrder(input: $input) { __typename"
            " ... on OrderSuccess { order { points lines { sku rules { rule points"
            " campaignCode } } } } } }",
            {"input": order_input(member.external_id, now)},
            auth=key,
        )
    # then it was judged under the member's lock (a transaction: BEGIN ... COMMIT) and booked
    order = body["data"]["recordOrder"]["order"]
    assert order["points"] == 400 and campaign_rules(order) == [("sku-1", 200, "DOUBLE")]
    assert any(statement.startswith("BEGIN") for statement in sent), sent
