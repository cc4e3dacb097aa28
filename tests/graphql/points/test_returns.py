"""Returns through the API: the points of returned lines go, points paid come back."""

from __future__ import annotations

import uuid

from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.points.documents import CAPTURE_HOLD, HOLD_POINTS, ORDER, RETURN_LINES
from tests.graphql.points.helpers import (
    codes,
    completed_order,
    fund,
    history,
    line,
    mutate,
    placed_order,
    points_of,
    redeem,
)


async def test_returning_one_of_two_lines_takes_back_exactly_that_lines_points(
    gql, programme, make_member, keys
):
    # given a pending order: 200 points on one line, 210 on the other (an appliance, 2 items)
    _, storefront = keys
    member = await make_member(programme)
    order = await placed_order(
        gql,
        storefront,
        member.external_id,
        lines=[line("shirt", 10_000, 1), line("fan", 5_000, 2, category="appliances")],
    )
    assert [x["points"] for x in order["lines"]] == [200, 210]
    # when the shirt comes back
    result = await mutate(
        gql,
        RETURN_LINES,
        "returnOrderLines",
        storefront,
        orderId=order["orderId"],
        lines=[{"sku": "shirt", "quantity": 1}],
    )
    # then exactly its 200 go (not 205, the pro rata share by amount)
    assert result["__typename"] == "OrderSuccess", result
    assert result["order"]["pointsReversed"] == 200
    shirt, fan = result["order"]["lines"]
    assert (shirt["returnedQuantity"], shirt["pointsReversed"]) == (1, 200)
    assert (fan["returnedQuantity"], fan["pointsReversed"]) == (0, 0)
    assert (await points_of(gql, storefront, member.external_id))["pending"] == 210
    await assert_ledger_consistent(member)


async def test_returning_more_than_was_bought_is_refused_and_changes_nothing(
    gql, programme, make_member, keys
):
    # given an order of two fans
    _, storefront = keys
    member = await make_member(programme)
    order = await placed_order(gql, storefront, member.external_id, lines=[line("fan", 5_000, 2)])
    # when three come back
    result = await mutate(
        gql,
        RETURN_LINES,
        "returnOrderLines",
        storefront,
        orderId=order["orderId"],
        lines=[{"sku": "fan", "quantity": 3}],
    )
    # then
    assert result["__typename"] == "ReturnOrderLinesError"
    assert codes(result) == ["RETURN_EXCEEDS_PURCHASE"]
    assert result["errors"][0]["field"] == "lines.0.quantity"
    assert (await points_of(gql, storefront, member.external_id))["pending"] == 200
    shown = (await gql(ORDER, {"o": order["orderId"]}, auth=storefront))["data"]["order"]
    assert (shown["pointsReversed"], shown["lines"][0]["returnedQuantity"]) == (0, 0)


async def test_returning_lines_of_an_unknown_order_is_not_found(gql, programme, keys):
    _, storefront = keys
    result = await mutate(
        gql,
        RETURN_LINES,
        "returnOrderLines",
        storefront,
        orderId="no-such-order",
        lines=[{"sku": "x", "quantity": 1}],
    )
    assert result["__typename"] == "ReturnOrderLinesError"
    assert codes(result) == ["NOT_FOUND"]


async def test_a_whole_order_return_gives_back_the_points_paid_for_it(
    gql, programme, make_member, keys
):
    # given 500 points, 100 of them paid at checkout (2 yuan) for a 50-yuan order
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 500)
    order_id = f"o-{uuid.uuid4().hex[:10]}"
    held = await mutate(
        gql,
        HOLD_POINTS,
        "holdPoints",
        storefront,
        memberExternalId=member.external_id,
        amount=100,
        orderId=order_id,
    )
    captured = await mutate(
        gql, CAPTURE_HOLD, "captureHold", storefront, holdId=held["hold"]["id"], amount=100
    )
    assert captured["__typename"] == "HoldSuccess", captured
    order = await completed_order(
        gql,
        storefront,
        member.external_id,
        order_id=order_id,
        lines=[line("shoes", 5_000)],
        payments=[{"method": "CARD", "amount": 4_800}, {"method": "POINTS", "amount": 200}],
    )
    assert order["points"] == 96  # the 2 yuan paid with points earn nothing
    assert (await points_of(gql, storefront, member.external_id))["available"] == 496
    # when everything comes back
    result = await mutate(
        gql,
        RETURN_LINES,
        "returnOrderLines",
        storefront,
        orderId=order_id,
        lines=[{"sku": "shoes", "quantity": 1}],
    )
    # then the 96 earned go and the 100 paid return
    assert result["__typename"] == "OrderSuccess", result
    assert (result["order"]["status"], result["order"]["pointsReversed"]) == ("RETURNED", 96)
    assert (await points_of(gql, storefront, member.external_id))["available"] == 500
    [paid] = (await history(gql, storefront, member.external_id, kinds=["REDEEM"]))["edges"]
    reversals = (await history(gql, storefront, member.external_id, kinds=["REVERSE"]))["edges"]
    assert sorted(e["node"]["amount"] for e in reversals) == [-96, 100]
    assert [e["node"]["reverses"] for e in reversals if e["node"]["amount"] == 100] == [
        paid["node"]["id"]
    ]
    await assert_ledger_consistent(member)


async def test_a_return_after_the_points_were_spent_leaves_a_debt_that_earning_repays(
    gql, programme, make_member, keys
):
    # given 120 points earned, 100 of them spent (the demo policy is ALLOW_NEGATIVE)
    _, storefront = keys
    member = await make_member(programme)
    order = await completed_order(gql, storefront, member.external_id, lines=[line("lamp", 6_000)])
    spent = await redeem(gql, storefront, memberExternalId=member.external_id, amount=100)
    assert spent["__typename"] == "TransactionSuccess", spent
    # when the lamp comes back
    result = await mutate(
        gql,
        RETURN_LINES,
        "returnOrderLines",
        storefront,
        orderId=order["orderId"],
        lines=[{"sku": "lamp", "quantity": 1}],
    )
    # then the member owes 100
    assert result["__typename"] == "OrderSuccess", result
    assert (await points_of(gql, storefront, member.external_id))["available"] == -100
    # and the next earning pays the debt first
    await completed_order(gql, storefront, member.external_id, lines=[line("bulb", 7_000)])
    assert (await points_of(gql, storefront, member.external_id))["available"] == 40
    await assert_ledger_consistent(member)
