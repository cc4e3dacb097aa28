"""The catalogue's admin side: create, update, retire; every refusal changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from db.models import Reward as RewardRow
from domain.auth import Role
from tests.graphql.coupons.documents import RETIRE_TEMPLATE
from tests.graphql.coupons.helpers import create_template, top_level_code
from tests.graphql.partners.helpers import create_partner
from tests.graphql.points.helpers import new_key
from tests.graphql.rewards.documents import AUDIT, CREATE, RETIRE, REWARD, UPDATE
from tests.graphql.rewards.helpers import (
    create_result,
    create_reward,
    errors_of,
    retire,
    reward_code,
    reward_input,
    rows_of,
    run,
    update,
)
from tests.graphql.test_auth import token_for


async def test_an_admin_creates_a_reward_and_reads_it_back(gql, programme, keys):
    # given an admin key
    admin, _ = keys
    # when it creates a cash + points reward for Silver and Gold members
    reward = await create_reward(
        gql,
        admin,
        title="Tea set",
        description="Six cups\nand a pot",
        imageUrl="https://img.example.com/tea.png",
        cashPrice=3000,
        pointsPrice=500,
        totalStock=50,
        perMemberLimit=1,
        limitPeriod="MONTH",
        eligibleTierCodes=["SILVER", "GOLD"],
        validFrom="2026-01-01T00:00:00+00:00",
        validUntil="2030-01-01T00:00:00+00:00",
    )
    # then it is active, with its stock, prices and tiers as given
    assert reward["status"] == "ACTIVE"
    assert (reward["pointsPrice"], reward["cashPrice"], reward["currency"]) == (500, 3000, "CNY")
    assert (reward["totalStock"], reward["stockLeft"], reward["redeemed"]) == (50, 50, 0)
    assert (reward["perMemberLimit"], reward["limitPeriod"]) == (1, "MONTH")
    assert sorted(reward["eligibleTiers"]) == ["GOLD", "SILVER"]
    assert reward["description"] == "Six cups\nand a pot"
    assert reward["validFrom"].startswith("2026-01-01T00:00:00")
    # and it reads back by code, and by its global id
    body = await gql(REWARD, {"code": reward["code"]}, auth=admin)
    assert body["data"]["reward"] == reward


async def test_create_with_the_same_key_answers_the_first_and_writes_once(gql, programme, keys):
    admin, _ = keys
    given = reward_input()
    first = await run(gql, CREATE, "createReward", admin, given)
    again = await run(gql, CREATE, "createReward", admin, given)
    assert first == again and first["__typename"] == "RewardSuccess"
    assert len(await rows_of(programme.id)) == 1
    # the same key with another input is refused
    other = await run(gql, CREATE, "createReward", admin, {**given, "title": "Another"})
    assert errors_of(other) == [("idempotencyKey", "IDEMPOTENCY_KEY_REUSED")]


async def test_a_coupon_and_a_partner_reward_name_what_they_point_at(gql, programme, keys):
    admin, _ = keys
    template = await create_template(gql, admin)
    partner = (await create_partner(gql, admin))["partner"]
    coupon = await create_reward(
        gql, admin, kind="COUPON", couponTemplateCode=template["code"], pointsPrice=500
    )
    miles = await create_reward(
        gql, admin, kind="PARTNER", partnerCode=partner["code"], partnerUnits=800
    )
    assert (coupon["kind"], coupon["couponTemplateCode"]) == ("COUPON", template["code"])
    assert (miles["partnerCode"], miles["partnerUnits"]) == (partner["code"], 800)


async def test_a_code_taken_is_already_exists(gql, programme, keys):
    admin, _ = keys
    first = await create_reward(gql, admin)
    again = await create_result(gql, admin, code=first["code"])
    assert again["__typename"] == "CreateRewardError"
    assert errors_of(again) == [("code", "ALREADY_EXISTS")]
    assert len(await rows_of(programme.id)) == 1


BAD_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({"code": "lower case"}, "code"),
    ({"title": "  "}, "title"),
    ({"description": "x" * 1001}, "description"),
    ({"imageUrl": "ftp://img.example.com/a.png"}, "imageUrl"),
    ({"imageUrl": "not a url"}, "imageUrl"),
    ({"category": ""}, "category"),
    ({"pointsPrice": 0}, "pointsPrice"),
    ({"pointsPrice": -5}, "pointsPrice"),
    ({"cashPrice": -1}, "cashPrice"),
    ({"totalStock": -1}, "totalStock"),
    ({"perMemberLimit": 0}, "perMemberLimit"),
    ({"limitPeriod": "MONTH"}, "limitPeriod"),
    ({"eligibleTierCodes": ["GOLD", "GOLD"]}, "eligibleTierCodes"),
    ({"kind": "COUPON"}, "couponTemplateCode"),
    ({"couponTemplateCode": "T1"}, "couponTemplateCode"),
    ({"kind": "PARTNER", "partnerUnits": 5}, "partnerCode"),
    ({"kind": "PARTNER", "partnerCode": "AIR"}, "partnerUnits"),
    ({"kind": "PARTNER", "partnerCode": "AIR", "partnerUnits": 0}, "partnerUnits"),
    ({"partnerCode": "AIR"}, "partnerCode"),
    ({"partnerUnits": 3}, "partnerUnits"),
    (
        {"validFrom": "2027-01-01T00:00:00+00:00", "validUntil": "2027-01-01T00:00:00+00:00"},
        "validUntil",
    ),
    (
        {"validFrom": "2027-02-01T00:00:00+00:00", "validUntil": "2027-01-01T00:00:00+00:00"},
        "validUntil",
    ),
    ({"idempotencyKey": ""}, "idempotencyKey"),
]


@pytest.mark.parametrize(("bad", "field"), BAD_FIELDS)
async def test_each_bad_field_is_a_validation_error_and_writes_nothing(
    gql, programme, keys, bad, field
):
    admin, _ = keys
    result = await create_result(gql, admin, **bad)
    assert result["__typename"] == "CreateRewardError"
    assert (field, "VALIDATION") in errors_of(result), result
    assert await rows_of(programme.id) == []


async def test_every_bad_field_is_reported_at_once(gql, programme, keys):
    admin, _ = keys
    result = await create_result(gql, admin, title="", pointsPrice=0, category="")
    assert sorted(errors_of(result)) == [
        ("category", "VALIDATION"),
        ("pointsPrice", "VALIDATION"),
        ("title", "VALIDATION"),
    ]


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"kind": "COUPON", "couponTemplateCode": "NO-SUCH"}, "couponTemplateCode"),
        ({"kind": "PARTNER", "partnerCode": "NO-SUCH", "partnerUnits": 1}, "partnerCode"),
        ({"eligibleTierCodes": ["GOLD", "PLATINUM"]}, "eligibleTierCodes"),
    ],
)
async def test_an_unknown_reference_is_not_found_and_writes_nothing(
    gql, programme, keys, given, field
):
    admin, _ = keys
    result = await create_result(gql, admin, **given)
    assert errors_of(result) == [(field, "NOT_FOUND")], result
    assert await rows_of(programme.id) == []


async def test_another_programmes_template_and_partner_are_not_found(
    gql, programme, keys, make_programme, make_key
):
    # given a template and a partner of programme B
    admin, _ = keys
    other_admin = await make_key(await make_programme(), Role.ADMIN)
    template = await create_template(gql, other_admin)
    partner = (await create_partner(gql, other_admin))["partner"]
    # when A's admin names them, they are not found
    coupon = await create_result(gql, admin, kind="COUPON", couponTemplateCode=template["code"])
    miles = await create_result(
        gql, admin, kind="PARTNER", partnerCode=partner["code"], partnerUnits=1
    )
    assert errors_of(coupon) == [("couponTemplateCode", "NOT_FOUND")]
    assert errors_of(miles) == [("partnerCode", "NOT_FOUND")]
    assert await rows_of(programme.id) == []


async def test_a_retired_template_is_refused(gql, programme, keys):
    admin, _ = keys
    template = await create_template(gql, admin)
    retired = await gql(RETIRE_TEMPLATE, {"input": {"templateCode": template["code"]}}, auth=admin)
    assert retired["data"]["retireCouponTemplate"]["__typename"] == "CouponTemplateSuccess"
    result = await create_result(gql, admin, kind="COUPON", couponTemplateCode=template["code"])
    assert errors_of(result) == [("couponTemplateCode", "TEMPLATE_RETIRED")]
    assert await rows_of(programme.id) == []


async def test_an_update_changes_what_is_given_and_keeps_the_rest(gql, programme, keys):
    admin, _ = keys
    reward = await create_reward(gql, admin, totalStock=100, imageUrl="https://x.example/a.png")
    result = await update(
        gql,
        admin,
        reward["code"],
        title="Bigger tumbler",
        pointsPrice=1500,
        cashPrice=990,
        imageUrl=None,
        eligibleTierCodes=["GOLD"],
        perMemberLimit=2,
        limitPeriod="WEEK",
        validUntil="2031-01-01T00:00:00+00:00",
    )
    assert result["__typename"] == "RewardSuccess", result
    changed = result["reward"]
    assert (changed["title"], changed["pointsPrice"], changed["cashPrice"]) == (
        "Bigger tumbler",
        1500,
        990,
    )
    assert changed["imageUrl"] is None and changed["eligibleTiers"] == ["GOLD"]
    assert (changed["perMemberLimit"], changed["limitPeriod"]) == (2, "WEEK")
    assert changed["validUntil"].startswith("2031-01-01")
    # what was left out stayed
    assert (changed["category"], changed["totalStock"], changed["stockLeft"]) == ("home", 100, 100)


async def test_a_new_total_moves_stock_left_by_the_difference(gql, programme, keys):
    # given a reward of 100 of which 30 were redeemed (70 left)
    admin, _ = keys
    reward = await create_reward(gql, admin, totalStock=100)
    await RewardRow.filter(code=reward["code"]).update(redeemed=30, stock_left=70)
    # when the total goes to 120, then to 30 (all redeemed), then to unlimited and back to 50
    raised = await update(gql, admin, reward["code"], totalStock=120)
    assert (raised["reward"]["totalStock"], raised["reward"]["stockLeft"]) == (120, 90)
    cut = await update(gql, admin, reward["code"], totalStock=30)
    assert (cut["reward"]["totalStock"], cut["reward"]["stockLeft"]) == (30, 0)
    unlimited = await update(gql, admin, reward["code"], totalStock=None)
    assert (unlimited["reward"]["totalStock"], unlimited["reward"]["stockLeft"]) == (None, None)
    limited = await update(gql, admin, reward["code"], totalStock=50)
    assert (limited["reward"]["totalStock"], limited["reward"]["stockLeft"]) == (50, 20)


async def test_a_total_below_what_was_redeemed_is_refused_and_changes_nothing(gql, programme, keys):
    admin, _ = keys
    reward = await create_reward(gql, admin, totalStock=100)
    await RewardRow.filter(code=reward["code"]).update(redeemed=30, stock_left=70)
    result = await update(gql, admin, reward["code"], totalStock=29, title="Changed")
    assert result["__typename"] == "UpdateRewardError"
    assert errors_of(result) == [("totalStock", "VALIDATION")]
    row = (await rows_of(programme.id))[0]
    assert (row.total_stock, row.stock_left, row.title) == (100, 70, "Steel tumbler")


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"pointsPrice": 0}, ("pointsPrice", "VALIDATION")),
        ({"title": None}, ("title", "VALIDATION")),
        ({"limitPeriod": None}, ("limitPeriod", "VALIDATION")),
        ({"validFrom": "2032-01-01T00:00:00+00:00"}, ("validUntil", "VALIDATION")),
        ({"eligibleTierCodes": ["NOPE"]}, ("eligibleTierCodes", "NOT_FOUND")),
    ],
)
async def test_a_bad_update_is_refused_and_changes_nothing(gql, programme, keys, changes, error):
    admin, _ = keys
    reward = await create_reward(gql, admin, validUntil="2031-01-01T00:00:00+00:00")
    before = [dict(r) for r in await RewardRow.filter(programme_id=programme.id).values()]
    result = await update(gql, admin, reward["code"], **changes)
    assert errors_of(result) == [error], result
    after = [dict(r) for r in await RewardRow.filter(programme_id=programme.id).values()]
    assert after == before


async def test_retiring_hides_nothing_from_admins_and_twice_is_once(gql, programme, keys):
    admin, _ = keys
    reward = await create_reward(gql, admin)
    first = await retire(gql, admin, reward["code"])
    assert first["__typename"] == "RewardSuccess"
    assert first["reward"]["status"] == "RETIRED" and first["reward"]["retiredAt"]
    # retiring again changes nothing: the same reward, the same retiredAt
    again = await retire(gql, admin, reward["code"])
    assert again == first
    # and a retired reward changes no more
    changed = await update(gql, admin, reward["code"], title="Back again")
    assert errors_of(changed) == [("rewardCode", "REWARD_RETIRED")]
    assert (await rows_of(programme.id))[0].title == "Steel tumbler"


async def test_unknown_codes_are_not_found(gql, programme, keys):
    admin, _ = keys
    assert errors_of(await update(gql, admin, reward_code(), title="x")) == [
        ("rewardCode", "NOT_FOUND")
    ]
    assert errors_of(await retire(gql, admin, reward_code())) == [("rewardCode", "NOT_FOUND")]


async def test_another_programmes_admin_can_neither_see_nor_touch_a_reward(
    gql, programme, keys, make_programme, make_key
):
    # given programme A's reward, and programme B's admin key
    admin, _ = keys
    reward = await create_reward(gql, admin)
    other_admin = await make_key(await make_programme(), Role.ADMIN)
    before = [dict(r) for r in await RewardRow.filter(programme_id=programme.id).values()]
    # when B's admin reads, changes and retires it by its code and its id
    assert (await gql(REWARD, {"code": reward["code"]}, auth=other_admin))["data"]["reward"] is None
    node = await gql(
        "query ($id: ID!) { node(id: $id) { id } }", {"id": reward["id"]}, auth=other_admin
    )
    assert node["data"]["node"] is None
    changed = await update(gql, other_admin, reward["code"], title="Mine now")
    retired = await retire(gql, other_admin, reward["code"])
    # then it is not found, and nothing changed
    assert errors_of(changed) == [("rewardCode", "NOT_FOUND")]
    assert errors_of(retired) == [("rewardCode", "NOT_FOUND")]
    after = [dict(r) for r in await RewardRow.filter(programme_id=programme.id).values()]
    assert after == before
    # and B may take the same code for its own reward
    assert (await create_result(gql, other_admin, code=reward["code"]))["__typename"] == (
        "RewardSuccess"
    )


async def test_members_and_storefronts_may_not_write_the_catalogue(
    gql, programme, keys, make_member
):
    admin, storefront = keys
    reward = await create_reward(gql, admin)
    member = await make_member(programme)
    token = await token_for(gql, storefront, member.external_id)
    for auth in (storefront, token):
        for document, input in (
            (CREATE, reward_input()),
            (UPDATE, {"rewardCode": reward["code"], "title": None}),
            (RETIRE, {"rewardCode": reward["code"]}),
        ):
            body = await gql(document, {"input": input}, auth=auth)
            assert body["data"] is None, body
            assert top_level_code(body) == "FORBIDDEN"
    rows = await rows_of(programme.id)
    assert [(r.code, r.status, r.title) for r in rows] == [
        (reward["code"], "ACTIVE", "Steel tumbler")
    ]


async def test_each_admin_change_is_audited_with_before_and_after(gql, programme, keys):
    admin, _ = keys
    reward = await create_reward(gql, admin, totalStock=10, idempotencyKey=new_key())
    await update(gql, admin, reward["code"], totalStock=12)
    body = await gql(AUDIT, {"op": "updateReward"}, auth=admin)
    entry = body["data"]["auditLog"]["edges"][0]["node"]
    assert entry["outcome"] == "SUCCESS"
    assert (entry["before"]["total_stock"], entry["after"]["total_stock"]) == (10, 12)
    assert (entry["before"]["stock_left"], entry["after"]["stock_left"]) == (10, 12)
