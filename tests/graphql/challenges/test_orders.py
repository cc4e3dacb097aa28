"""Challenges of orders through the API (issue 20.3-4): completed orders, their spend and their
categories move the member's progress in completeOrder's own transaction; returns move it back;
the reward is given once, taken back only by an undoOnReturn challenge, and earned again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from db.models import ChallengeContribution, Event, MemberBadge, Programme
from services.jobs import JobReport, run_programme
from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.challenges.helpers import create_challenge, member_view, progress_of
from tests.graphql.coupons.helpers import create_template
from tests.graphql.points.documents import RETURN_LINES
from tests.graphql.points.helpers import (
    advance,
    completed_order,
    history,
    line,
    mutate,
    parse,
    placed_order,
    points_of,
    programme_now,
)

WALLET = """
query ($e: String!) {
  member(externalId: $e) { coupons(first: 10) { edges { node { source status } } } }
}
"""
BADGE = {"code": "REGULAR", "title": "Regular", "imageUrl": "https://x.test/regular.png"}


async def returned(gql, key: str, order: dict[str, Any], sku: str, quantity: int) -> None:
    result = await mutate(
        gql,
        RETURN_LINES,
        "returnOrderLines",
        key,
        orderId=order["orderId"],
        lines=[{"sku": sku, "quantity": quantity}],
    )
    assert result["__typename"] == "OrderSuccess", result


async def challenge_rows(gql, key: str, external_id: str) -> list[tuple[str, int]]:
    edges = (await history(gql, key, external_id))["edges"]
    return sorted(
        (e["node"]["kind"], e["node"]["amount"])
        for e in edges
        if e["node"]["referenceType"] == "CHALLENGE"
    )


async def wallet(gql, key: str, external_id: str) -> list[tuple[str, str]]:
    body = await gql(WALLET, {"e": external_id}, auth=key)
    edges = body["data"]["member"]["coupons"]["edges"]
    return [(e["node"]["source"], e["node"]["status"]) for e in edges]


async def events_of(member_id: int, type: str) -> int:
    return await Event.filter(member_id=member_id, type=type).count()


async def test_orders_reach_the_target_and_the_reward_comes_once(
    gql, programme, admin, storefront, make_member
):
    # given "two orders" for 100 points, a coupon and a badge
    template = await create_template(gql, admin)
    challenge = await create_challenge(
        gql,
        admin,
        target=2,
        reward={"points": 100, "couponTemplate": template["code"], "badge": BADGE},
    )
    member = await make_member(programme)
    e = member.external_id
    # when one order completes: 1 of 2, nothing given
    await completed_order(gql, storefront, e)
    progress = await progress_of(gql, storefront, e, challenge["code"])
    assert progress is not None
    assert (progress["current"], progress["target"], progress["completedAt"]) == (1, 2, None)
    assert progress["deadline"] == challenge["endsAt"]
    assert await challenge_rows(gql, admin, e) == []
    # when the second completes: reached, rewarded with all three
    await completed_order(gql, storefront, e)
    progress = await progress_of(gql, storefront, e, challenge["code"])
    assert progress is not None and progress["current"] == 2
    assert progress["completedAt"] is not None
    assert progress["reward"] == f"100 points, a coupon ({template['code']}), the badge Regular"
    assert await challenge_rows(gql, admin, e) == [("EARN", 100)]
    assert (await points_of(gql, storefront, e))["available"] == 200 + 200 + 100
    assert await wallet(gql, storefront, e) == [("CHALLENGE", "AVAILABLE")]
    badges = (await member_view(gql, storefront, e))["badges"]
    assert [(b["code"], b["title"], b["imageUrl"]) for b in badges] == [
        ("REGULAR", "Regular", "https://x.test/regular.png")
    ]
    # when a third completes: counted, not rewarded again
    await completed_order(gql, storefront, e)
    progress = await progress_of(gql, storefront, e, challenge["code"])
    assert progress is not None and progress["current"] == 3
    assert await challenge_rows(gql, admin, e) == [("EARN", 100)]
    assert await wallet(gql, storefront, e) == [("CHALLENGE", "AVAILABLE")]
    assert await events_of(member.id, "challenge.completed") == 1
    assert await events_of(member.id, "badge.awarded") == 1
    await assert_ledger_consistent(member)


async def test_a_return_undoes_the_order_and_an_undo_on_return_challenge_its_reward(
    gql, programme, admin, storefront, make_member
):
    # given "two orders" with undoOnReturn, completed
    template = await create_template(gql, admin)
    challenge = await create_challenge(
        gql,
        admin,
        target=2,
        reward={"points": 100, "couponTemplate": template["code"], "badge": BADGE},
        undoOnReturn=True,
    )
    member = await make_member(programme)
    e = member.external_id
    first = await completed_order(gql, storefront, e, lines=[line("a"), line("b")])
    await completed_order(gql, storefront, e)
    # when one line of the first order comes back, the order still counts
    await returned(gql, storefront, first, "a", 1)
    progress = await progress_of(gql, storefront, e, challenge["code"])
    assert progress is not None
    assert (progress["current"], progress["completedAt"] is not None) == (2, True)
    # when the rest of it comes back: 1 of 2, and the reward goes
    await returned(gql, storefront, first, "b", 1)
    progress = await progress_of(gql, storefront, e, challenge["code"])
    assert progress is not None
    assert (progress["current"], progress["completedAt"]) == (1, None)
    assert await challenge_rows(gql, admin, e) == [("EARN", 100), ("REVERSE", -100)]
    assert await wallet(gql, storefront, e) == [("CHALLENGE", "EXPIRED")]
    assert (await member_view(gql, storefront, e))["badges"] == []
    assert await MemberBadge.filter(member_id=member.id).count() == 1  # kept, revoked
    # when another order completes: reached again, rewarded again
    await completed_order(gql, storefront, e)
    progress = await progress_of(gql, storefront, e, challenge["code"])
    assert progress is not None and progress["completedAt"] is not None
    assert await challenge_rows(gql, admin, e) == [("EARN", 100), ("EARN", 100), ("REVERSE", -100)]
    assert [b["code"] for b in (await member_view(gql, storefront, e))["badges"]] == ["REGULAR"]
    assert sorted(await wallet(gql, storefront, e)) == [
        ("CHALLENGE", "AVAILABLE"),
        ("CHALLENGE", "EXPIRED"),
    ]
    await assert_ledger_consistent(member)


async def test_without_undo_on_return_the_reward_stays(
    gql, programme, admin, storefront, make_member
):
    challenge = await create_challenge(gql, admin, target=1, reward={"badge": BADGE})
    member = await make_member(programme)
    order = await completed_order(gql, storefront, member.external_id)
    await returned(gql, storefront, order, "sku-1", 1)
    progress = await progress_of(gql, storefront, member.external_id, challenge["code"])
    assert progress is not None
    assert progress["current"] == 0 and progress["completedAt"] is not None
    badges = (await member_view(gql, storefront, member.external_id))["badges"]
    assert [b["code"] for b in badges] == ["REGULAR"]


async def test_spend_counts_what_was_paid_for_kept_items(
    gql, programme, admin, storefront, make_member
):
    # given "spend 250" (25,000 minor units) for 50 points, undone by returns
    challenge = await create_challenge(
        gql, admin, goal="SPEND", target=25_000, reward={"points": 50}, undoOnReturn=True
    )
    member = await make_member(programme)
    e = member.external_id
    two = await completed_order(gql, storefront, e, lines=[line("a", 10_000, 2)])
    progress = await progress_of(gql, storefront, e, challenge["code"])
    assert progress is not None and progress["current"] == 20_000
    await completed_order(gql, storefront, e, lines=[line("b", 6_000)])
    progress = await progress_of(gql, storefront, e, challenge["code"])
    assert progress is not None
    assert progress["current"] == 26_000 and progress["completedAt"] is not None
    # when one of the two items comes back: the spend less what it cost, below the target
    await returned(gql, storefront, two, "a", 1)
    progress = await progress_of(gql, storefront, e, challenge["code"])
    assert progress is not None
    assert (progress["current"], progress["completedAt"]) == (16_000, None)
    assert await challenge_rows(gql, admin, e) == [("EARN", 50), ("REVERSE", -50)]


async def test_categories_count_once_each_and_leave_when_all_their_lines_return(
    gql, programme, admin, storefront, make_member
):
    challenge = await create_challenge(
        gql, admin, goal="CATEGORIES", target=3, reward={"points": 30}
    )
    member = await make_member(programme)
    e = member.external_id
    await completed_order(
        gql, storefront, e, lines=[line("a", category="shoes"), line("b", category="hats")]
    )
    await completed_order(gql, storefront, e, lines=[line("c", category="hats")])
    progress = await progress_of(gql, storefront, e, challenge["code"])
    assert progress is not None and progress["current"] == 2
    bags = await completed_order(gql, storefront, e, lines=[line("d", quantity=2, category="bags")])
    progress = await progress_of(gql, storefront, e, challenge["code"])
    assert progress is not None
    assert progress["current"] == 3 and progress["completedAt"] is not None
    await returned(gql, storefront, bags, "d", 1)  # one bag kept
    progress = await progress_of(gql, storefront, e, challenge["code"])
    assert progress is not None and progress["current"] == 3
    await returned(gql, storefront, bags, "d", 1)
    progress = await progress_of(gql, storefront, e, challenge["code"])
    assert progress is not None and progress["current"] == 2
    # no undoOnReturn: the points stay
    assert await challenge_rows(gql, admin, e) == [("EARN", 30)]


async def test_orders_the_job_completes_count_as_completeOrder_counts_them(
    gql, programme, admin, storefront, make_member
):
    # given "two orders", and two members' orders pending (one member has two)
    now = parse(await programme_now(gql, admin))
    challenge = await create_challenge(
        gql,
        admin,
        target=2,
        reward={"badge": BADGE},
        endsAt=(now + timedelta(days=40)).isoformat(),
    )
    one, two = await make_member(programme), await make_member(programme)
    for member in (one, one, two):
        await placed_order(gql, storefront, member.external_id)
    # when the return window closes and the jobs run (twice)
    await advance(gql, admin, days=31)
    for _ in range(2):
        await run_programme(await Programme.get(id=programme.id), JobReport())
    # then each member's completed orders were counted once, dated when their window closed
    first = await progress_of(gql, storefront, one.external_id, challenge["code"])
    assert first is not None
    assert first["current"] == 2 and first["completedAt"] is not None
    assert [b["code"] for b in (await member_view(gql, storefront, one.external_id))["badges"]] == [
        "REGULAR"
    ]
    second = await progress_of(gql, storefront, two.external_id, challenge["code"])
    assert second is not None and (second["current"], second["completedAt"]) == (1, None)
    assert await ChallengeContribution.filter(progress__member_id=one.id).count() == 2
