"""Attacks on campaigns on the order path: each answers a clear result, never a masked or
top-level error, and the preview agrees with what recordOrder books."""

from __future__ import annotations

from typing import Any

from db.models import AbuseFlag, CampaignAward, Coupon, CouponTemplate
from domain.auth import Role
from domain.campaigns import Effects, Limits
from domain.points import MAX_POINTS
from tests.fixtures.coupons import make_template
from tests.graphql.campaigns.orders_helpers import (
    PREVIEW,
    RECORD,
    RETURN,
    campaign_rules,
    make_campaign,
    spent_of,
)
from tests.graphql.points.helpers import (
    line,
    new_key,
    order_input,
    parse,
    preview_of,
    programme_now,
)
from tests.graphql.test_abuse import SET_POLICY


async def test_campaigns_worth_more_than_an_int_neither_break_the_preview_nor_refuse_the_order(
    gql, programme, make_member, make_key
):
    # given a campaign of the most bonus per item (1,000,000) and an order of the most items
    # (10,000): 10 billion points, beyond GraphQL's 32-bit Int and the most one operation books
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    now = await programme_now(gql, storefront)
    await make_campaign(programme, parse(now), code="BIG", effects=Effects(bonus_per_item=10**6))
    order = order_input(member.external_id, now, lines=[line("a", 100, 10_000)])
    # when it is previewed and recorded
    preview = await gql(PREVIEW, {"input": preview_of(order)}, auth=storefront)
    recorded = await gql(RECORD, {"input": order}, auth=storefront)
    # then the preview answers (no top-level error), the campaign is cut to what one order
    # may earn, and the order books exactly what the preview showed
    assert "errors" not in preview, preview
    shown: dict[str, Any] = preview["data"]["previewOrderPoints"]
    assert shown["total"] <= MAX_POINTS
    assert [(c["code"], c["applied"], c["capped"]) for c in shown["campaigns"]] == [
        ("BIG", True, True)
    ]
    result = recorded["data"]["recordOrder"]
    assert result["__typename"] == "OrderSuccess", result
    assert result["order"]["points"] == shown["total"]


async def test_stacked_campaigns_never_make_an_order_worth_more_than_one_operation_books(
    gql, programme, make_member, make_key
):
    # given five stackable 10x campaigns with a large per-item bonus each
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    now = await programme_now(gql, storefront)
    for code in ("ONE", "TWO", "THREE", "FOUR", "FIVE"):
        effects = Effects(multiplier=100_000, bonus_per_item=500_000)
        await make_campaign(programme, parse(now), code=code, effects=effects)
    order = order_input(member.external_id, now, lines=[line("a", 100, 1_000)])
    # when the preview is asked (each alone fits an Int, together they do not)
    preview = await gql(PREVIEW, {"input": preview_of(order)}, auth=storefront)
    # then it answers, within what one operation books
    assert "errors" not in preview, preview
    assert preview["data"]["previewOrderPoints"]["total"] <= MAX_POINTS


async def _record(gql, key: str, order: dict[str, Any]) -> dict[str, Any]:
    body = await gql(RECORD, {"input": order}, auth=key)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["recordOrder"]
    assert result["__typename"] == "OrderSuccess", result
    booked: dict[str, Any] = result["order"]
    return booked


async def test_a_returned_order_gives_back_member_cap_room_as_it_takes_back_its_points(
    gql, programme, make_member, make_key
):
    # given double points capped at 300 per member, and an order that got +200 of it
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    now = await programme_now(gql, storefront)
    await make_campaign(programme, parse(now), limits=Limits(member_cap=300))
    first = order_input(member.external_id, now, lines=[line("a", 5_000, 2)])
    assert campaign_rules(await _record(gql, storefront, first)) == [("a", 200, "DOUBLE")]
    # when half of it comes back (+100 taken back)
    body = await gql(
        RETURN,
        {
            "input": {
                "orderId": first["orderId"],
                "lines": [{"sku": "a", "quantity": 1}],
                "idempotencyKey": new_key(),
            }
        },
        auth=storefront,
    )
    assert body["data"]["returnOrderLines"]["__typename"] == "OrderSuccess", body
    # then the next order has 300 - 100 of room: the preview says so and the order books it
    second = order_input(member.external_id, now, lines=[line("b", 10_000, 3)])
    shown = (await gql(PREVIEW, {"input": preview_of(second)}, auth=storefront))["data"]
    assert [(c["points"], c["capped"]) for c in shown["previewOrderPoints"]["campaigns"]] == [
        (200, True)
    ]
    assert campaign_rules(await _record(gql, storefront, second)) == [("b", 200, "DOUBLE")]


async def test_a_coupon_campaign_whose_template_was_retired_leaves_orders_their_points(
    gql, programme, make_member, make_key
):
    # given an active campaign giving a coupon per order, and its template retired since
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    now = await programme_now(gql, storefront)
    template = await make_template(programme, code="GONE-20")
    await CouponTemplate.filter(id=template.id).update(status="RETIRED")
    campaign = await make_campaign(
        programme, parse(now), code="COUPONS", effects=Effects(coupon_template="GONE-20")
    )
    # when an order is recorded
    booked = await _record(gql, storefront, order_input(member.external_id, now))
    # then it keeps its base points, gets no coupon, and the campaign rewarded nothing
    assert booked["points"] == 200
    assert await Coupon.filter(member_id=member.id).count() == 0
    assert await CampaignAward.filter(campaign_id=campaign.id).count() == 0


async def _order_under_a_cap(gql, programme, make_member, make_key, cap: int):
    """An order of 200 base points (+200 from a budgeted double-points campaign) recorded
    under an abuse cap of `cap` order points a day: (its answer, the campaign)."""
    admin = await make_key(programme, Role.ADMIN)
    policy = {"caps": [{"source": "ORDER", "period": "DAY", "points": cap}]}
    body = await gql(SET_POLICY, {"input": policy}, auth=admin)
    assert body["data"]["setAbusePolicy"]["__typename"] == "SetAbusePolicySuccess", body
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    now = await programme_now(gql, storefront)
    campaign = await make_campaign(programme, parse(now), budget=1_000)
    return await _record(gql, storefront, order_input(member.external_id, now)), campaign


async def test_an_order_the_abuse_cap_cuts_spends_no_budget_on_points_the_member_never_got(
    gql, programme, make_member, make_key
):
    # given a cap of 100 a day, when an order of 200 (+200 from the campaign) is recorded
    booked, campaign = await _order_under_a_cap(gql, programme, make_member, make_key, 100)
    # then the cap credits 100 in all, which leaves the campaign nothing beyond the base:
    # no award, no budget spent
    assert booked["points"] == 100
    assert await CampaignAward.filter(campaign_id=campaign.id).count() == 0
    assert await spent_of(campaign) == 0
    # and only the base points over the cap wait for review: the campaign's are gone, not held
    assert [f.points_held for f in await AbuseFlag.filter(programme_id=programme.id)] == [100]


async def test_an_abuse_cap_above_the_base_leaves_the_campaign_what_is_left_of_it(
    gql, programme, make_member, make_key
):
    # given a cap of 300 a day, when an order of 200 (+200 from the campaign) is recorded
    booked, campaign = await _order_under_a_cap(gql, programme, make_member, make_key, 300)
    # then it is credited 300: the campaign's award and budget count the 100 it kept
    assert booked["points"] == 300
    award = await CampaignAward.get(campaign_id=campaign.id)
    assert (award.points, award.lines) == (100, [["sku-1", 100, 0]])
    assert await spent_of(campaign) == 100
    assert await AbuseFlag.filter(programme_id=programme.id, points_held__gt=0).count() == 0


async def test_a_replayed_order_spends_its_campaign_budget_once(
    gql, programme, make_member, make_key
):
    # given a budgeted campaign and an order sent twice with one idempotency key
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    now = await programme_now(gql, storefront)
    campaign = await make_campaign(programme, parse(now), budget=1_000)
    order = order_input(member.external_id, now)
    first = await _record(gql, storefront, order)
    again = await _record(gql, storefront, order)
    # then the replay answers the same order, and the budget and awards count it once
    assert again == first
    assert await spent_of(campaign) == 200
    assert await CampaignAward.filter(campaign_id=campaign.id).count() == 1
