"""Campaigns on orders through the API: what recordOrder books, what the preview shows, what
returns and cancellations take back, and the budget after each."""

from __future__ import annotations

from typing import Any

from tortoise.transactions import in_transaction

from db.models import CampaignAward, Coupon, Order
from domain.auth import Role
from domain.campaigns import Audience, Channel, Conditions, Effects, Stacking
from services.points.order_recording import ReferenceReused
from tests.fixtures.coupons import make_template
from tests.fixtures.factories import create_programme
from tests.fixtures.points import assert_ledger_consistent, place_order
from tests.graphql.campaigns.orders_helpers import (
    CANCEL,
    PREVIEW,
    RECORD,
    RETURN,
    campaign_rules,
    make_campaign,
    spent_of,
)
from tests.graphql.points.helpers import (
    history,
    line,
    new_key,
    order_input,
    parse,
    points_of,
    preview_of,
    programme_now,
)


async def _record(gql, key: str, order: dict[str, Any]) -> dict[str, Any]:
    body = await gql(RECORD, {"input": order}, auth=key)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["recordOrder"]
    assert result["__typename"] == "OrderSuccess", result
    booked: dict[str, Any] = result["order"]
    return booked


async def _preview(gql, key: str, order: dict[str, Any]) -> dict[str, Any]:
    body = await gql(PREVIEW, {"input": preview_of(order)}, auth=key)
    assert "errors" not in body, body
    preview: dict[str, Any] = body["data"]["previewOrderPoints"]
    return preview


async def _given(gql, programme, make_member, make_key) -> tuple[str, str, Any, str]:
    """(admin key, storefront key, a member, the programme's now)."""
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    return admin, storefront, member, await programme_now(gql, storefront)


async def test_double_points_books_campaign_rules_per_line_and_names_the_campaign_in_the_ledger(
    gql, programme, make_member, make_key
):
    # given a double-points campaign and a two-line order (200 + 100 base points)
    _, storefront, member, now = await _given(gql, programme, make_member, make_key)
    campaign = await make_campaign(programme, parse(now), code="DOUBLE-WEEKEND")
    order = order_input(member.external_id, now, lines=[line("a", 10_000, 1), line("b", 2_500, 2)])
    # when it is recorded
    booked = await _record(gql, storefront, order)
    # then each line earns its base again as a CAMPAIGN rule naming the campaign
    assert booked["points"] == 600
    assert campaign_rules(booked) == [("a", 200, "DOUBLE-WEEKEND"), ("b", 100, "DOUBLE-WEEKEND")]
    assert [x["points"] for x in booked["lines"]] == [400, 200]
    rule = booked["lines"][0]["rules"][-1]
    assert rule["campaignId"] is not None and rule["rule"] == "CAMPAIGN"
    assert booked["lines"][0]["rules"][0] == {
        "rule": "FULL_PRICE",
        "points": 200,
        "campaignId": None,
        "campaignCode": None,
    }
    # and the ledger row names the campaign, the pending balance holds it all
    rows = [e["node"] for e in (await history(gql, storefront, member.external_id))["edges"]]
    assert [(r["amount"], r["reason"]) for r in rows] == [
        (600, "order placed; campaigns DOUBLE-WEEKEND +300")
    ]
    assert (await points_of(gql, storefront, member.external_id))["pending"] == 600
    # and one award records the campaign's share per line, the order's spend and moment
    award = await CampaignAward.get(campaign_id=campaign.id)
    stored = await Order.get(order_ref=order["orderId"], programme_id=programme.id)
    assert (award.member_id, award.order_id, award.points, award.spend) == (
        member.id,
        stored.id,
        300,
        15_000,
    )
    assert award.lines == [["a", 200, 0], ["b", 100, 0]]
    assert award.awarded_at == parse(now)
    await assert_ledger_consistent(member)


async def test_preview_shows_exactly_what_record_books_and_why_other_campaigns_do_not_apply(
    gql, programme, make_member, make_key
):
    # given two stackable campaigns that apply, one whose conditions fail, one exhausted
    _, storefront, member, now = await _given(gql, programme, make_member, make_key)
    at = parse(now)
    await make_campaign(programme, at, code="DOUBLE", priority=5)
    await make_campaign(
        programme,
        at,
        code="FRIDGES",
        effects=Effects(bonus_per_item=30),
        conditions=Conditions(categories=frozenset({"appliances"})),
    )
    await make_campaign(
        programme,
        at,
        code="BIG-SPEND",
        effects=Effects(bonus_per_order=500),
        conditions=Conditions(min_spend=1_000_000),
    )
    await make_campaign(programme, at, code="TINY", budget=10, effects=Effects(bonus_per_order=50))
    order = order_input(
        member.external_id,
        now,
        lines=[line("tv", 10_000, 1), line("fridge", 20_000, 2, category="appliances")],
    )
    # when it is previewed, then recorded
    preview = await _preview(gql, storefront, order)
    booked = await _record(gql, storefront, order)
    # then the preview's lines and total are those booked, campaign rules included
    assert [(x["sku"], x["points"], x["rules"]) for x in preview["lines"]] == [
        (x["sku"], x["points"], x["rules"]) for x in booked["lines"]
    ]
    assert preview["total"] == booked["points"]
    assert campaign_rules(booked) == [
        ("tv", 200, "DOUBLE"),
        ("fridge", 810, "DOUBLE"),  # 800 base + 2 x 5 category bonus, doubled
        ("fridge", 60, "FRIDGES"),
    ]
    # and it lists every campaign: applied ones with their points, the others with why
    shown = {c["code"]: (c["applied"], c["points"], c["notApplied"]) for c in preview["campaigns"]}
    assert shown == {
        "DOUBLE": (True, 1010, None),
        "FRIDGES": (True, 60, None),
        "BIG-SPEND": (False, 0, "CONDITIONS_NOT_MET"),
        "TINY": (False, 0, "BUDGET_EXHAUSTED"),
    }
    assert [c["code"] for c in preview["campaigns"][:2]] == ["DOUBLE", "FRIDGES"]


async def test_exhausted_budget_leaves_the_order_its_base_points_and_the_preview_says_why(
    gql, programme, make_member, make_key
):
    # given a campaign whose budget (150) cannot cover its 200 points
    _, storefront, member, now = await _given(gql, programme, make_member, make_key)
    campaign = await make_campaign(programme, parse(now), budget=150)
    order = order_input(member.external_id, now)
    # when previewed and recorded
    preview = await _preview(gql, storefront, order)
    booked = await _record(gql, storefront, order)
    # then the order earns its base only, and nothing of the budget is spent
    assert [(c["code"], c["notApplied"]) for c in preview["campaigns"]] == [
        ("DOUBLE", "BUDGET_EXHAUSTED")
    ]
    assert preview["total"] == booked["points"] == 200
    assert campaign_rules(booked) == []
    assert await spent_of(campaign) == 0
    assert await CampaignAward.filter(campaign_id=campaign.id).count() == 0


async def test_a_partial_return_takes_back_campaign_points_per_line_and_gives_the_budget_back(
    gql, programme, make_member, make_key
):
    # given a 3-item line doubled by a budgeted campaign (+300 of 1,000)
    _, storefront, member, now = await _given(gql, programme, make_member, make_key)
    campaign = await make_campaign(programme, parse(now), budget=1_000)
    order = order_input(member.external_id, now, lines=[line("cup", 5_000, 3), line("pen")])
    booked = await _record(gql, storefront, order)
    assert campaign_rules(booked) == [("cup", 300, "DOUBLE"), ("pen", 200, "DOUBLE")]
    assert await spent_of(campaign) == 500
    # when one cup comes back, then another
    for n in (1, 2):
        body = await gql(
            RETURN,
            {
                "input": {
                    "orderId": order["orderId"],
                    "lines": [{"sku": "cup", "quantity": 1}],
                    "idempotencyKey": new_key(),
                }
            },
            auth=storefront,
        )
        returned = body["data"]["returnOrderLines"]
        assert returned["__typename"] == "OrderSuccess", body
        # then each takes back a third of the line, base and campaign alike: 200 of 600
        cup = returned["order"]["lines"][0]
        assert cup["pointsReversed"] == 200 * n
        award = await CampaignAward.get(campaign_id=campaign.id)
        assert award.points_reversed == 100 * n
        assert award.lines == [["cup", 300, 100 * n], ["pen", 200, 0]]
        # and the budget gets the campaign's share back
        assert await spent_of(campaign) == 500 - 100 * n
    assert (await points_of(gql, storefront, member.external_id))["pending"] == 1_000 - 400
    await assert_ledger_consistent(member)


async def test_cancelling_an_order_gives_its_campaign_points_back_to_the_budget(
    gql, programme, make_member, make_key
):
    # given an order a budgeted campaign gave 200 points
    _, storefront, member, now = await _given(gql, programme, make_member, make_key)
    campaign = await make_campaign(programme, parse(now), budget=1_000)
    order = order_input(member.external_id, now)
    await _record(gql, storefront, order)
    assert await spent_of(campaign) == 200
    # when it is cancelled
    body = await gql(
        CANCEL,
        {"input": {"orderId": order["orderId"], "idempotencyKey": new_key()}},
        auth=storefront,
    )
    # then its points are gone, the award is cancelled and the budget is whole again
    assert body["data"]["cancelOrder"]["__typename"] == "OrderSuccess", body
    assert body["data"]["cancelOrder"]["order"]["pointsReversed"] == 400
    assert await spent_of(campaign) == 0
    award = await CampaignAward.get(campaign_id=campaign.id)
    assert award.cancelled and award.points_reversed == 0
    assert (await points_of(gql, storefront, member.external_id))["pending"] == 0
    await assert_ledger_consistent(member)


async def test_an_exclusive_campaign_worth_more_outweighs_the_stackable_ones(
    gql, programme, make_member, make_key
):
    # given an exclusive triple-points campaign and a stackable +50 bonus
    _, storefront, member, now = await _given(gql, programme, make_member, make_key)
    at = parse(now)
    await make_campaign(
        programme,
        at,
        code="TRIPLE",
        stacking=Stacking.EXCLUSIVE,
        effects=Effects(multiplier=30_000),
    )
    await make_campaign(programme, at, code="BONUS", effects=Effects(bonus_per_order=50))
    order = order_input(member.external_id, now)
    # when
    preview = await _preview(gql, storefront, order)
    booked = await _record(gql, storefront, order)
    # then only the exclusive one is booked, and the preview says the other was outweighed
    assert campaign_rules(booked) == [("sku-1", 400, "TRIPLE")]
    assert {c["code"]: c["notApplied"] for c in preview["campaigns"]} == {
        "TRIPLE": None,
        "BONUS": "OUTWEIGHED",
    }


async def test_channel_is_stored_and_a_channel_condition_is_honoured(
    gql, programme, make_member, make_key
):
    # given a campaign for orders placed in a physical store
    _, storefront, member, now = await _given(gql, programme, make_member, make_key)
    await make_campaign(
        programme,
        parse(now),
        code="IN-STORE",
        conditions=Conditions(channels=frozenset({Channel.OFFLINE})),
    )
    online = order_input(member.external_id, now)
    offline = order_input(member.external_id, now, channel="OFFLINE")
    # when an online order (the default channel) and an offline one are previewed and recorded
    online_preview = await _preview(gql, storefront, online)
    online_booked = await _record(gql, storefront, online)
    offline_booked = await _record(gql, storefront, offline)
    # then each order keeps its channel, and only the offline one gets the campaign
    assert online_booked["channel"] == "ONLINE" and offline_booked["channel"] == "OFFLINE"
    assert [(c["code"], c["notApplied"]) for c in online_preview["campaigns"]] == [
        ("IN-STORE", "CONDITIONS_NOT_MET")
    ]
    assert (online_booked["points"], offline_booked["points"]) == (200, 400)
    assert campaign_rules(offline_booked) == [("sku-1", 200, "IN-STORE")]
    stored = await Order.get(order_ref=offline["orderId"], programme_id=programme.id)
    assert stored.channel == "OFFLINE"


async def test_a_campaign_of_another_programme_never_applies_to_this_programmes_orders(
    gql, programme, make_member, make_key
):
    # given programme B runs double points, and programme A (ours) runs nothing
    _, storefront, member, now = await _given(gql, programme, make_member, make_key)
    other = await create_programme()
    campaign = await make_campaign(other, parse(now), budget=10_000)
    order = order_input(member.external_id, now)
    # when A's member orders
    preview = await _preview(gql, storefront, order)
    booked = await _record(gql, storefront, order)
    # then B's campaign is not seen, not booked, and its budget is untouched
    assert preview["campaigns"] == []
    assert booked["points"] == 200 and campaign_rules(booked) == []
    assert await spent_of(campaign) == 0
    assert await CampaignAward.filter(campaign_id=campaign.id).count() == 0


async def test_a_coupon_campaign_issues_one_coupon_to_orders_above_299_yuan(
    gql, programme, make_member, make_key
):
    # given a campaign issuing a coupon from a template for orders of 299 yuan and more
    _, storefront, member, now = await _given(gql, programme, make_member, make_key)
    template = await make_template(programme, code="THANKS-20")
    campaign = await make_campaign(
        programme,
        parse(now),
        code="BIG-BASKET",
        effects=Effects(coupon_template="THANKS-20"),
        conditions=Conditions(min_spend=29_900),
    )
    small = order_input(member.external_id, now, lines=[line("mug", 10_000)])
    big = order_input(member.external_id, now, lines=[line("tv", 30_000)])
    # when both are previewed and recorded
    previews = [await _preview(gql, storefront, o) for o in (small, big)]
    booked = [await _record(gql, storefront, o) for o in (small, big)]
    # then only the big one is rewarded, with the coupon and no extra points
    assert [
        (c["code"], c["applied"], c["couponTemplate"], c["notApplied"])
        for p in previews
        for c in p["campaigns"]
    ] == [
        ("BIG-BASKET", False, None, "CONDITIONS_NOT_MET"),
        ("BIG-BASKET", True, "THANKS-20", None),
    ]
    assert [o["points"] for o in booked] == [200, 600]
    assert campaign_rules(booked[1]) == []
    award = await CampaignAward.get(campaign_id=campaign.id)
    coupon = await Coupon.get(member_id=member.id, template_id=template.id)
    assert (award.points, award.coupon_id, coupon.source) == (0, coupon.id, "CAMPAIGN")


async def test_a_first_order_bonus_goes_to_the_first_order_only_and_the_preview_says_why_not(
    gql, programme, make_member, make_key
):
    # given +100 points on a member's first order, for members who joined within 30 days
    _, storefront, member, now = await _given(gql, programme, make_member, make_key)
    await make_campaign(
        programme,
        parse(now),
        code="FIRST-ORDER",
        effects=Effects(bonus_per_order=100),
        audience=Audience(nth_order=1, joined_within_days=30),
    )
    first, second = (order_input(member.external_id, now) for _ in range(2))
    # when two orders are previewed and recorded one after the other
    first_preview = await _preview(gql, storefront, first)
    first_booked = await _record(gql, storefront, first)
    second_preview = await _preview(gql, storefront, second)
    second_booked = await _record(gql, storefront, second)
    # then the first gets the bonus, the second its base only, each as its preview said
    assert (first_preview["total"], second_preview["total"]) == (300, 200)
    assert (first_booked["points"], second_booked["points"]) == (300, 200)
    assert campaign_rules(first_booked) == [("sku-1", 100, "FIRST-ORDER")]
    assert [c["notApplied"] for c in second_preview["campaigns"]] == ["NOT_IN_AUDIENCE"]


async def test_an_order_id_taken_already_is_refused_and_spends_nothing_of_the_budget(
    gql, programme, make_member, make_key
):
    # given a budgeted campaign and an order of one member rewarded by it
    _, storefront, member, now = await _given(gql, programme, make_member, make_key)
    campaign = await make_campaign(programme, parse(now), budget=1_000)
    first = await _record(gql, storefront, order_input(member.external_id, now))
    other = await make_member(programme)
    # when another member's order comes with the same order id, through the API and (as a
    # script would) inside a transaction of its own that goes on after the refusal
    body = await gql(
        RECORD,
        {"input": order_input(other.external_id, now, order_id=first["orderId"])},
        auth=storefront,
    )
    refused_inside = None
    async with in_transaction():
        try:
            await place_order(programme, other, order_ref=first["orderId"])
        except ReferenceReused as error:
            refused_inside = error
    # then both are refused, and the budget holds only the first order's points
    assert [e["code"] for e in body["data"]["recordOrder"]["errors"]] == ["REFERENCE_REUSED"]
    assert refused_inside is not None
    assert await spent_of(campaign) == 200
    assert await CampaignAward.filter(campaign_id=campaign.id).count() == 1
