"""A member's coupon wallet through the API: order, pages, status and expiry on the clock."""

from __future__ import annotations

import pytest

from tests.graphql.coupons.documents import WALLET
from tests.graphql.coupons.helpers import (
    claimed,
    coupon_of,
    create_template,
    locked,
    order_id,
    redeem,
    wallet,
    wallet_codes,
)
from tests.graphql.points.helpers import advance
from tests.graphql.test_auth import token_for


async def test_the_wallet_lists_the_soonest_expiring_coupon_first(
    gql, programme, make_member, keys
):
    # given coupons claimed in the order 10, 3, 7 days of validity
    admin, storefront = keys
    member = await make_member(programme)
    by_days = {}
    for days in (10, 3, 7):
        template = await create_template(gql, admin, validDays=days)
        by_days[days] = (await claimed(gql, storefront, template["id"], member.external_id))["code"]
    # when
    codes = await wallet_codes(gql, storefront, member.external_id)
    # then
    assert codes == [by_days[3], by_days[7], by_days[10]]


async def test_each_coupon_in_the_wallet_shows_its_own_template(gql, programme, make_member, keys):
    # given two coupons of each of three templates, claimed in turn
    admin, storefront = keys
    member = await make_member(programme)
    templates = [await create_template(gql, admin, validDays=days) for days in (3, 5, 7)]
    template_of = {}
    for template in templates * 2:
        coupon = await claimed(gql, storefront, template["id"], member.external_id)
        template_of[coupon["code"]] = template["code"]
    # when
    edges = (await wallet(gql, storefront, member.external_id))["edges"]
    # then
    shown = {e["node"]["code"]: e["node"]["template"]["code"] for e in edges}
    assert shown == template_of


async def test_the_wallet_pages_by_cursor_without_overlap(gql, programme, make_member, keys):
    # given five coupons, two of them expiring at the same moment
    admin, storefront = keys
    member = await make_member(programme)
    await advance(gql, admin, seconds=1)  # the clock stands still: equal expiries
    for days in (5, 1, 4, 2, 2):
        template = await create_template(gql, admin, validDays=days)
        await claimed(gql, storefront, template["id"], member.external_id)
    everything = await wallet_codes(gql, storefront, member.external_id)
    # when read two at a time
    seen, after, pages = [], None, 0
    while True:
        page = await wallet(gql, storefront, member.external_id, first=2, after=after)
        seen += [e["node"]["code"] for e in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
    # then
    assert pages == 3
    assert seen == everything and len(set(seen)) == 5


async def test_the_wallet_filters_by_status(gql, programme, make_member, keys):
    # given one coupon each available, locked and used
    admin, storefront = keys
    member = await make_member(programme)
    template = await create_template(gql, admin)
    available, held, used = [
        (await claimed(gql, storefront, template["id"], member.external_id))["code"]
        for _ in range(3)
    ]
    await locked(gql, storefront, held, order_id())
    spent_on = order_id()
    await locked(gql, storefront, used, spent_on)
    assert (await redeem(gql, storefront, used, spent_on))["__typename"] == "CouponSuccess"
    # when / then
    by_status = {
        status: await wallet_codes(gql, storefront, member.external_id, status=status)
        for status in ("AVAILABLE", "LOCKED", "USED", "EXPIRED")
    }
    assert by_status == {"AVAILABLE": [available], "LOCKED": [held], "USED": [used], "EXPIRED": []}


async def test_a_coupon_past_its_end_on_the_programme_clock_is_expired(
    gql, programme, make_member, keys
):
    # given a coupon valid one day
    admin, storefront = keys
    member = await make_member(programme)
    template = await create_template(gql, admin, validDays=1)
    code = (await claimed(gql, storefront, template["id"], member.external_id))["code"]
    # when the test clock moves two days on
    await advance(gql, admin, days=2)
    # then it reads EXPIRED, and is listed as expired and not as available
    assert (await coupon_of(gql, storefront, code))["status"] == "EXPIRED"
    e = member.external_id
    assert await wallet_codes(gql, storefront, e, status="EXPIRED") == [code]
    assert await wallet_codes(gql, storefront, e, status="AVAILABLE") == []
    [edge] = (await wallet(gql, storefront, e))["edges"]
    assert edge["node"]["status"] == "EXPIRED"


@pytest.mark.parametrize("first", [0, 101])
async def test_a_wallet_page_outside_1_to_100_is_a_validation_error(
    gql, programme, make_member, keys, first
):
    _, storefront = keys
    member = await make_member(programme)
    body = await gql(WALLET, {"e": member.external_id, "first": first}, auth=storefront)
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert body["errors"][0]["path"][-1] == "coupons"


async def test_a_coupon_is_found_by_its_code_in_any_case(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await make_member(programme)
    template = await create_template(gql, admin)
    code = (await claimed(gql, storefront, template["id"], member.external_id))["code"]
    found = await coupon_of(gql, storefront, code.lower())
    assert found is not None and found["code"] == code
    assert await coupon_of(gql, storefront, "ZZZZ-ZZZZ-ZZZZ-ZZZZ") is None
    assert await coupon_of(gql, storefront, "not a code!") is None


async def test_a_member_token_sees_its_own_coupons_only(gql, programme, make_member, keys):
    # given alice and bob each with a coupon
    admin, storefront = keys
    alice, bob = await make_member(programme), await make_member(programme)
    template = await create_template(gql, admin)
    mine = (await claimed(gql, storefront, template["id"], alice.external_id))["code"]
    theirs = (await claimed(gql, storefront, template["id"], bob.external_id))["code"]
    token = await token_for(gql, storefront, alice.external_id)
    # when / then
    assert (await coupon_of(gql, token, mine))["code"] == mine
    assert await coupon_of(gql, token, theirs) is None
    body = await gql(WALLET, {"e": bob.external_id, "first": 10}, auth=token)
    assert body["data"]["member"] is None


async def test_a_cursor_with_an_impossible_date_is_a_validation_error(
    gql, programme, make_member, keys
):
    import base64

    _, storefront = keys
    member = await make_member(programme)
    cursor = base64.urlsafe_b64encode(b"cpn:9999999999999999999:1").decode()
    query = "query ($e: String!, $a: String) { member(externalId: $e) { coupons(first: 5, after: $a) { edges { cursor } } } }"
    body = await gql(query, {"e": member.external_id, "a": cursor}, auth=storefront)
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"
