"""Bad input to the coupon API: refused with the field at fault, and changing nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.graphql.coupons.helpers import (
    cart_line,
    claim,
    claimed,
    create_template,
    errors_of,
    exchange,
    grant,
    template_state,
    validate,
    wallet_codes,
)
from tests.graphql.points.helpers import fund, history, points_of


def errors_only(result: dict[str, Any]) -> list[tuple[str | None, str]]:
    assert result["__typename"] == "ValidateCouponsError", result
    return errors_of(result)


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([cart_line(unit_price=-1)], "cart.lines.0.unitPrice"),
        ([cart_line(), cart_line(quantity=0)], "cart.lines.1.quantity"),
        ([], "cart.lines"),
        ([cart_line(category="")], "cart.lines.0.category"),
    ],
    ids=["negative-price", "zero-quantity", "no-lines", "blank-category"],
)
async def test_a_malformed_cart_is_a_validation_error_naming_the_line(
    gql, programme, make_member, keys, lines, field
):
    # given a member with a coupon
    admin, storefront = keys
    member = await make_member(programme)
    template = await create_template(gql, admin)
    code = (await claimed(gql, storefront, template["id"], member.external_id))["code"]
    # when
    result = await validate(gql, storefront, [code], lines, member=member.external_id)
    # then
    assert errors_only(result) == [(field, "VALIDATION")]


async def test_a_negative_shipping_fee_is_a_validation_error(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await make_member(programme)
    template = await create_template(gql, admin)
    code = (await claimed(gql, storefront, template["id"], member.external_id))["code"]
    result = await validate(gql, storefront, [code], shipping_fee=-1, member=member.external_id)
    assert errors_only(result) == [("cart.shippingFee", "VALIDATION")]


@pytest.mark.parametrize(
    "codes",
    [
        [],
        [f"ZZZZ-ZZZZ-ZZZZ-{n:04d}" for n in range(21)],
        ["ZZZZ-ZZZZ-ZZZZ-ZZZZ", "ZZZZ-ZZZZ-ZZZZ-ZZZZ"],
    ],
    ids=["none", "twenty-one", "twice"],
)
async def test_too_few_too_many_or_repeated_codes_are_a_validation_error(
    gql, programme, make_member, keys, codes
):
    _, storefront = keys
    member = await make_member(programme)
    result = await validate(gql, storefront, codes, member=member.external_id)
    assert errors_only(result) == [("codes", "VALIDATION")]


async def test_one_code_sent_twice_in_different_case_is_a_repeated_code(
    gql, programme, make_member, keys
):
    # given a stackable 50-off coupon on a cart of 100
    admin, storefront = keys
    member = await make_member(programme)
    template = await create_template(gql, admin, stackable=True)
    code = (await claimed(gql, storefront, template["id"], member.external_id))["code"]
    # when the same code is sent once as printed and once in lower case
    result = await validate(gql, storefront, [code, code.lower()], member=member.external_id)
    # then it is refused as a repeated code (codes are case-insensitive), rather than
    # counted twice: one coupon cannot take 100 off a cart of 100
    assert result["__typename"] == "ValidateCouponsError", result
    assert errors_of(result) == [("codes", "VALIDATION")]


async def test_a_staff_validation_without_the_member_is_not_found(gql, programme, keys):
    _, storefront = keys
    result = await validate(gql, storefront, ["ZZZZ-ZZZZ-ZZZZ-ZZZZ"])
    assert result["__typename"] == "ValidateCouponsError", result
    assert errors_of(result) == [("cart.memberExternalId", "NOT_FOUND")]


async def test_a_refused_claim_leaves_the_stock_and_the_wallet_as_they_were(
    gql, programme, make_member, keys
):
    # given a template of two with a limit of one, and a member holding one
    admin, storefront = keys
    member = await make_member(programme)
    template = await create_template(gql, admin, totalStock=2, perMemberLimit=1)
    code = (await claimed(gql, storefront, template["id"], member.external_id))["code"]
    # when the member claims again
    refused = await claim(gql, storefront, template["id"], member.external_id)
    # then
    assert refused["__typename"] == "ClaimCouponError"
    assert errors_of(refused) == [("templateId", "LIMIT_REACHED")]
    assert await template_state(gql, admin, template["id"]) == (1, 1)
    assert await wallet_codes(gql, storefront, member.external_id) == [code]


async def test_an_exchange_short_of_points_spends_nothing_and_issues_nothing(
    gql, programme, make_member, keys
):
    # given 299 points and a coupon for 300
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 299)
    template = await create_template(gql, admin, claimable=False, pointsPrice=300, totalStock=5)
    # when
    result = await exchange(gql, storefront, template["id"], member.external_id)
    # then
    assert result["__typename"] == "ExchangePointsForCouponError"
    assert errors_of(result) == [("templateId", "INSUFFICIENT_POINTS")]
    assert (await points_of(gql, storefront, member.external_id))["available"] == 299
    assert await wallet_codes(gql, storefront, member.external_id) == []
    kinds = [
        e["node"]["kind"] for e in (await history(gql, storefront, member.external_id))["edges"]
    ]
    assert kinds == ["ADJUST"]
    assert await template_state(gql, admin, template["id"]) == (5, 0)


async def test_an_exchange_that_is_out_of_stock_keeps_the_points(gql, programme, make_member, keys):
    # given the one coupon for points already sold
    admin, storefront = keys
    alice, bob = await make_member(programme), await make_member(programme)
    for member in (alice, bob):
        await fund(gql, admin, member.external_id, 500)
    template = await create_template(gql, admin, claimable=False, pointsPrice=300, totalStock=1)
    sold = await exchange(gql, storefront, template["id"], alice.external_id)
    assert sold["__typename"] == "ExchangePointsForCouponSuccess", sold
    # when bob buys one
    result = await exchange(gql, storefront, template["id"], bob.external_id)
    # then his points are not taken
    assert result["__typename"] == "ExchangePointsForCouponError"
    assert errors_of(result) == [("templateId", "OUT_OF_STOCK")]
    assert (await points_of(gql, storefront, bob.external_id))["available"] == 500
    assert [
        e["node"]["kind"] for e in (await history(gql, storefront, bob.external_id))["edges"]
    ] == ["ADJUST"]


@pytest.mark.parametrize(
    "ids",
    [[], [f"m-{n}" for n in range(1_001)], ["m-1", "m-1"]],
    ids=["none", "over-1000", "twice"],
)
async def test_a_grant_to_no_one_too_many_or_someone_twice_is_a_validation_error(
    gql, programme, keys, ids
):
    admin, _ = keys
    template = await create_template(gql, admin)
    result = await grant(gql, admin, template["id"], ids)
    assert result["__typename"] == "GrantCouponsError"
    assert errors_of(result) == [("memberExternalIds", "VALIDATION")]
    assert await template_state(gql, admin, template["id"]) == (None, 0)
