"""Coupon templates through the API: creating, retiring and listing them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.graphql.coupons.documents import CREATE_TEMPLATE, RETIRE_TEMPLATE, TEMPLATES
from tests.graphql.coupons.helpers import (
    claim,
    claimed,
    create_result,
    create_template,
    errors_of,
    frozen_now,
    global_id,
    locked,
    order_id,
    template_codes,
    template_input,
    top_level_code,
)
from tests.graphql.points.helpers import codes, mutate, new_key
from tests.graphql.test_auth import token_for


async def test_an_admin_creates_a_template_with_all_its_rules(gql, programme, keys):
    # given
    admin, _ = keys
    # when
    result = await create_result(
        gql,
        admin,
        code="SPRING-20",
        title="  20 off 199  ",
        amountOff=2_000,
        threshold=19_900,
        validDays=14,
        totalStock=50,
        perMemberLimit=2,
        eligibleTierCodes=["SILVER", "GOLD"],
        eligibleCategories=["shoes", "bags"],
        eligibleSkus=["sku-9"],
        stackable=True,
        pointsPrice=300,
        claimable=False,
        autoIssue="MONTHLY_ALLOWANCE",
    )
    # then
    assert result["__typename"] == "CouponTemplateSuccess", result
    t = result["template"]
    assert (t["code"], t["title"], t["kind"]) == ("SPRING-20", "20 off 199", "AMOUNT_OFF")
    assert (t["amountOff"], t["threshold"], t["validDays"]) == (2_000, 19_900, 14)
    assert (t["totalStock"], t["stockLeft"], t["issued"], t["perMemberLimit"]) == (50, 50, 0, 2)
    assert sorted(t["eligibleTierCodes"]) == ["GOLD", "SILVER"]
    assert t["eligibleCategories"] == ["bags", "shoes"]
    assert t["eligibleSkus"] == ["sku-9"]
    assert (t["stackable"], t["pointsPrice"], t["claimable"]) == (True, 300, False)
    assert (t["autoIssue"], t["status"], t["retiredAt"]) == ("MONTHLY_ALLOWANCE", "ACTIVE", None)


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        (
            {"kind": "PERCENT_OFF", "amountOff": 0, "percentOff": 1_500, "cap": 3_000},
            {"percentOff": 1_500, "cap": 3_000},
        ),
        ({"kind": "NO_THRESHOLD", "amountOff": 500, "threshold": 0}, {"amountOff": 500}),
        ({"kind": "FREE_SHIPPING", "amountOff": 0, "threshold": 0}, {"amountOff": 0}),
        ({"kind": "GIFT", "amountOff": 0, "threshold": 0, "giftSku": "tote"}, {"giftSku": "tote"}),
    ],
    ids=["percent-off", "no-threshold", "free-shipping", "gift"],
)
async def test_every_kind_of_template_can_be_created(gql, programme, keys, fields, shown):
    admin, _ = keys
    template = await create_template(gql, admin, **fields)
    assert template["kind"] == fields["kind"]
    assert {name: template[name] for name in shown} == shown


async def test_a_fixed_window_template_keeps_its_window(gql, programme, keys):
    admin, _ = keys
    now = await frozen_now(gql, admin)
    start, end = now + timedelta(days=1), now + timedelta(days=8)
    template = await create_template(
        gql, admin, validDays=None, validFrom=start.isoformat(), validUntil=end.isoformat()
    )
    assert template["validDays"] is None
    assert (template["validFrom"], template["validUntil"]) == (start.isoformat(), end.isoformat())


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"amountOff": 5_000, "threshold": 4_999}, [("threshold", "VALIDATION")]),
        ({"kind": "GIFT", "amountOff": 0, "threshold": 0}, [("giftSku", "VALIDATION")]),
        ({"validDays": None}, [("validDays", "VALIDATION")]),
        ({"validUntil": "2030-01-01T00:00:00+00:00"}, [("validDays", "VALIDATION")]),
        (
            {"validDays": None, "validFrom": "2030-01-01T00:00:00+00:00"},
            [("validUntil", "VALIDATION")],
        ),
        ({"validDays": 0}, [("validDays", "VALIDATION")]),
        ({"eligibleTierCodes": ["PLATINUM"]}, [("eligibleTierCodes", "VALIDATION")]),
        ({"code": "lower-case"}, [("code", "VALIDATION")]),
        ({"totalStock": 0}, [("totalStock", "VALIDATION")]),
        ({"pointsPrice": 0}, [("pointsPrice", "VALIDATION")]),
    ],
    ids=[
        "threshold-below-amount",
        "gift-without-sku",
        "no-validity",
        "days-and-window",
        "window-without-end",
        "zero-days",
        "unknown-tier",
        "lower-case-code",
        "zero-stock",
        "zero-price",
    ],
)
async def test_a_template_that_makes_no_sense_is_refused_and_not_created(
    gql, programme, keys, fields, expected
):
    # given
    admin, _ = keys
    # when
    result = await create_result(gql, admin, **fields)
    # then
    assert result["__typename"] == "CreateCouponTemplateError", result
    assert errors_of(result) == expected
    assert await template_codes(gql, admin) == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "NO_THRESHOLD", "amountOff": 0, "threshold": 0}, "amountOff"),
        ({"kind": "PERCENT_OFF", "amountOff": 0, "percentOff": 10_001}, "percentOff"),
    ],
    ids=["amount-off-zero", "percent-over-100"],
)
async def test_an_out_of_range_amount_or_percent_names_the_input_field(
    gql, programme, keys, fields, field
):
    # given an AMOUNT_OFF/NO_THRESHOLD/PERCENT_OFF template whose value is out of range
    admin, _ = keys
    # when
    result = await create_result(gql, admin, **fields)
    # then the error names the input field the client sent (`amountOff`, `percentOff`),
    # as every other UserError.field does
    assert result["__typename"] == "CreateCouponTemplateError", result
    assert errors_of(result) == [(field, "VALIDATION")]


async def test_a_second_template_with_a_code_in_use_already_exists(gql, programme, keys):
    admin, _ = keys
    first = await create_template(gql, admin)
    again = await create_result(gql, admin, code=first["code"], title="another")
    assert again["__typename"] == "CreateCouponTemplateError"
    assert errors_of(again) == [("code", "ALREADY_EXISTS")]
    assert await template_codes(gql, admin) == [first["code"]]


async def test_a_create_retried_with_its_key_replays_and_other_input_is_key_reused(
    gql, programme, keys
):
    # given
    admin, _ = keys
    sent = {**template_input(), "idempotencyKey": new_key()}
    # when sent twice, then with the key reused for another title
    first = await mutate(gql, CREATE_TEMPLATE, "createCouponTemplate", admin, **sent)
    second = await mutate(gql, CREATE_TEMPLATE, "createCouponTemplate", admin, **sent)
    reused = await mutate(
        gql, CREATE_TEMPLATE, "createCouponTemplate", admin, **{**sent, "title": "other"}
    )
    # then one template exists
    assert first["__typename"] == second["__typename"] == "CouponTemplateSuccess"
    assert first["template"]["id"] == second["template"]["id"]
    assert reused["__typename"] == "CreateCouponTemplateError"
    assert codes(reused) == ["IDEMPOTENCY_KEY_REUSED"]
    assert await template_codes(gql, admin) == [sent["code"]]


async def test_only_an_admin_creates_or_retires_templates(gql, programme, make_member, keys):
    # given
    admin, storefront = keys
    member = await make_member(programme)
    token = await token_for(gql, storefront, member.external_id)
    template = await create_template(gql, admin)
    # when the storefront and a member try
    for auth in (storefront, token):
        created = await gql(
            CREATE_TEMPLATE, {"input": {**template_input(), "idempotencyKey": "k"}}, auth=auth
        )
        retired = await gql(RETIRE_TEMPLATE, {"input": {"templateId": template["id"]}}, auth=auth)
        # then both are forbidden
        assert top_level_code(created) == "FORBIDDEN"
        assert top_level_code(retired) == "FORBIDDEN"
    assert await template_codes(gql, admin) == [template["code"]]


async def test_a_retired_template_issues_no_more_but_its_coupons_stay_usable(
    gql, programme, make_member, keys
):
    # given a coupon claimed from a template
    admin, storefront = keys
    alice, bob = await make_member(programme), await make_member(programme)
    template = await create_template(gql, admin)
    coupon = await claimed(gql, storefront, template["id"], alice.external_id)
    # when the template is retired (twice)
    first = await gql(RETIRE_TEMPLATE, {"input": {"templateId": template["id"]}}, auth=admin)
    again = await gql(RETIRE_TEMPLATE, {"input": {"templateId": template["id"]}}, auth=admin)
    # then
    retired = first["data"]["retireCouponTemplate"]
    assert retired["__typename"] == "CouponTemplateSuccess", retired
    assert retired["template"]["status"] == "RETIRED"
    assert retired["template"]["retiredAt"] is not None
    assert again["data"]["retireCouponTemplate"]["template"]["status"] == "RETIRED"
    refused = await claim(gql, storefront, template["id"], bob.external_id)
    assert refused["__typename"] == "ClaimCouponError"
    assert errors_of(refused) == [("templateId", "TEMPLATE_RETIRED")]
    # and the coupon issued before still locks
    assert (await locked(gql, storefront, coupon["code"], order_id()))["status"] == "LOCKED"


async def test_retiring_an_unknown_template_is_not_found(gql, programme, keys):
    admin, _ = keys
    body = await gql(
        RETIRE_TEMPLATE,
        {"input": {"templateId": global_id("CouponTemplate", 2_000_000_000)}},
        auth=admin,
    )
    result = body["data"]["retireCouponTemplate"]
    assert result["__typename"] == "RetireCouponTemplateError"
    assert errors_of(result) == [("templateId", "NOT_FOUND")]


async def test_staff_see_every_template_and_a_member_those_it_may_get(
    gql, programme, make_member, keys
):
    # given a claimable, a points-only, a grant-only and a retired template
    admin, storefront = keys
    free = await create_template(gql, admin)
    for_points = await create_template(gql, admin, claimable=False, pointsPrice=100)
    granted = await create_template(gql, admin, claimable=False)
    gone = await create_template(gql, admin)
    await gql(RETIRE_TEMPLATE, {"input": {"templateId": gone["id"]}}, auth=admin)
    member = await make_member(programme)
    token = await token_for(gql, storefront, member.external_id)
    # when
    by_staff = await template_codes(gql, storefront)
    by_member = await template_codes(gql, token)
    # then
    assert by_staff == [free["code"], for_points["code"], granted["code"], gone["code"]]
    assert by_member == [free["code"], for_points["code"]]


async def test_templates_page_by_cursor_without_overlap(gql, programme, keys):
    # given three templates
    admin, _ = keys
    made = [(await create_template(gql, admin))["code"] for _ in range(3)]
    # when read two at a time
    first = (await gql(TEMPLATES, {"first": 2}, auth=admin))["data"]["couponTemplates"]
    after = first["pageInfo"]["endCursor"]
    rest = (await gql(TEMPLATES, {"first": 2, "after": after}, auth=admin))["data"][
        "couponTemplates"
    ]
    # then
    assert first["pageInfo"]["hasNextPage"] is True
    assert rest["pageInfo"]["hasNextPage"] is False
    assert [e["node"]["code"] for e in first["edges"] + rest["edges"]] == made
