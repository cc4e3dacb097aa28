"""A challenge's reward under real concurrent requests through the ASGI app, on PostgreSQL
(issue 20.4): facts of one member that each reach the target at once reward exactly once."""

from __future__ import annotations

import asyncio

from db.models import Event, MemberBadge, PointTransaction
from tests.conftest import needs_postgres
from tests.graphql.challenges.helpers import check_in, create_challenge, progress_of
from tests.graphql.points.documents import COMPLETE_ORDER
from tests.graphql.points.helpers import new_key, placed_order

pytestmark = needs_postgres


async def test_orders_completing_at_once_each_enough_reward_once(
    gql, programme, admin, storefront, make_member
):
    # given "one order" for 100 points and a badge, and a member with six pending orders
    challenge = await create_challenge(
        gql,
        admin,
        target=1,
        reward={"points": 100, "badge": {"code": "FIRST", "title": "First order"}},
    )
    member = await make_member(programme)
    orders = [await placed_order(gql, storefront, member.external_id) for _ in range(6)]
    # when all of them complete at once
    bodies = await asyncio.gather(
        *(
            gql(
                COMPLETE_ORDER,
                {"input": {"orderId": o["orderId"], "idempotencyKey": new_key()}},
                auth=storefront,
            )
            for o in orders
        )
    )
    assert [b["data"]["completeOrder"]["__typename"] for b in bodies] == ["OrderSuccess"] * 6
    # then every order counted, and the reward was given once
    progress = await progress_of(gql, storefront, member.external_id, challenge["code"])
    assert progress is not None and progress["current"] == 6
    rewards = await PointTransaction.filter(member_id=member.id, reference_type="CHALLENGE")
    assert [t.amount for t in rewards] == [100]
    assert await MemberBadge.filter(member_id=member.id).count() == 1
    assert await Event.filter(member_id=member.id, type="challenge.completed").count() == 1
    assert await Event.filter(member_id=member.id, type="badge.awarded").count() == 1


async def test_twenty_check_ins_at_once_count_one_day(
    gql, programme, admin, storefront, make_member
):
    challenge = await create_challenge(
        gql, admin, goal="CHECK_IN_STREAK", target=1, reward={"points": 5}
    )
    member = await make_member(programme)
    results = await asyncio.gather(
        *(check_in(gql, storefront, member.external_id) for _ in range(20)),
        return_exceptions=True,
    )
    assert sum(r is None for r in results) == 1
    progress = await progress_of(gql, storefront, member.external_id, challenge["code"])
    assert progress is not None and progress["current"] == 1
    rewards = await PointTransaction.filter(member_id=member.id, reference_type="CHALLENGE")
    assert [t.amount for t in rewards] == [5]
