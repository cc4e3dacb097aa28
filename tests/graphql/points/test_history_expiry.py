"""A member's points history, and points expiring, through the API."""

from __future__ import annotations

from datetime import timedelta

from services.jobs import run_all
from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.points.documents import ADJUST_POINTS, EXPIRING, TRANSACTIONS
from tests.graphql.points.helpers import (
    advance,
    completed_order,
    fund,
    history,
    mutate,
    parse,
    points_of,
    programme_now,
    redeem,
)


async def test_history_is_newest_first_paginates_without_overlap_and_filters_by_kind(
    gql, programme, make_member, keys
):
    # given three adjustments and then two redemptions
    admin, storefront = keys
    member = await make_member(programme)
    for amount in (10, 20, 30):
        result = await mutate(
            gql,
            ADJUST_POINTS,
            "adjustPoints",
            admin,
            memberExternalId=member.external_id,
            amount=amount,
            reason=f"adjust {amount}",
            idempotencyKey=f"adj-{amount}",
        )
        assert result["__typename"] == "TransactionSuccess", result
    for amount in (5, 6):
        result = await redeem(
            gql,
            storefront,
            memberExternalId=member.external_id,
            amount=amount,
            reason=f"redeem {amount}",
            reward=f"reward-{amount}",
        )
        assert result["__typename"] == "TransactionSuccess", result
    # when read two at a time
    pages, after = [], None
    while True:
        page = await history(gql, storefront, member.external_id, first=2, after=after)
        pages.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then
    nodes = [edge["node"] for page in pages for edge in page["edges"]]
    assert [len(page["edges"]) for page in pages] == [2, 2, 1]
    assert [(n["kind"], n["amount"]) for n in nodes] == [
        ("REDEEM", -6),
        ("REDEEM", -5),
        ("ADJUST", 30),
        ("ADJUST", 20),
        ("ADJUST", 10),
    ]
    assert len({n["id"] for n in nodes}) == 5
    assert [(n["reason"], n["reference"]) for n in nodes] == [
        ("redeem 6", "reward-6"),
        ("redeem 5", "reward-5"),
        ("adjust 30", "adj-30"),
        ("adjust 20", "adj-20"),
        ("adjust 10", "adj-10"),
    ]
    # and filtered by kind
    adjustments = await history(gql, storefront, member.external_id, kinds=["ADJUST"])
    assert [e["node"]["amount"] for e in adjustments["edges"]] == [30, 20, 10]
    redemptions = await history(gql, storefront, member.external_id, kinds=["REDEEM", "EXPIRE"])
    assert [e["node"]["amount"] for e in redemptions["edges"]] == [-6, -5]


async def test_a_history_page_over_100_is_a_validation_error(gql, programme, make_member, keys):
    _, storefront = keys
    member = await make_member(programme)
    body = await gql(TRANSACTIONS, {"e": member.external_id, "first": 101}, auth=storefront)
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert body["errors"][0]["path"][-1] == "transactions"


async def test_an_order_leaves_its_reason_and_reference_on_the_ledger(
    gql, programme, make_member, keys
):
    _, storefront = keys
    member = await make_member(programme)
    order = await completed_order(gql, storefront, member.external_id)
    nodes = [e["node"] for e in (await history(gql, storefront, member.external_id))["edges"]]
    assert {(n["kind"], n["bucket"], n["amount"]) for n in nodes} == {
        ("EARN", "PENDING", 200),
        ("EARN", "PENDING", -200),
        ("EARN", "AVAILABLE", 200),
    }
    assert all(n["reference"] == order["orderId"] and n["reason"] for n in nodes)


async def test_points_expire_twelve_months_after_they_became_available(
    gql, programme, make_member, keys
):
    # given a completed order's 200 points
    admin, storefront = keys
    member = await make_member(programme)
    await completed_order(gql, storefront, member.external_id)
    now = parse(await programme_now(gql, storefront))
    # when the member asks what expires
    soon = await gql(EXPIRING, {"e": member.external_id, "days": 30}, auth=storefront)
    year = await gql(EXPIRING, {"e": member.external_id, "days": 400}, auth=storefront)
    # then nothing within a month, all 200 in about a year
    assert soon["data"]["member"]["points"]["expiringWithin"] == []
    [expiring] = year["data"]["member"]["points"]["expiringWithin"]
    assert expiring["amount"] == 200
    assert timedelta(days=365) <= parse(expiring["expiresAt"]) - now <= timedelta(days=366)
    # when the clock passes that date and the jobs run
    await advance(gql, admin, days=367)
    await run_all()
    # then the points are gone, by an EXPIRE row
    after = await gql(EXPIRING, {"e": member.external_id, "days": 400}, auth=storefront)
    assert after["data"]["member"]["points"] == {"available": 0, "expiringWithin": []}
    expired = await history(gql, storefront, member.external_id, kinds=["EXPIRE"])
    assert [e["node"]["amount"] for e in expired["edges"]] == [-200]
    await assert_ledger_consistent(member)


async def test_points_do_not_expire_before_their_date(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await make_member(programme)
    await completed_order(gql, storefront, member.external_id)
    await advance(gql, admin, days=300)
    await run_all()
    assert (await points_of(gql, storefront, member.external_id))["available"] == 200


async def test_points_past_their_expiry_are_gone_from_the_page_and_cannot_be_spent(
    gql, programme, make_member, keys
):
    # given 100 points that expired 35 days ago, and no job run since
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    await advance(gql, admin, days=400)
    # when the member's page is read and a redemption is tried
    points = await points_of(gql, storefront, member.external_id)
    soon = await gql(EXPIRING, {"e": member.external_id, "days": 30}, auth=storefront)
    refused = await redeem(gql, storefront, memberExternalId=member.external_id, amount=100)
    # then the page shows none of them, and spending them is refused
    assert (points["available"], points["spendable"]) == (0, 0)
    assert soon["data"]["member"]["points"]["expiringWithin"] == []
    assert refused["__typename"] == "RedeemPointsError"
    assert refused["errors"][0]["code"] == "INSUFFICIENT_POINTS"
