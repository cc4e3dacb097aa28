"""Orders through the API: recording, previewing, completing and cancelling."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.points.documents import (
    CANCEL_ORDER,
    COMPLETE_ORDER,
    ORDER,
    PREVIEW_ORDER,
    RECORD_ORDER,
    UPSERT_BENEFIT,
)
from tests.graphql.points.helpers import (
    codes,
    completed_order,
    line,
    mutate,
    order_input,
    parse,
    placed_order,
    points_of,
    preview_of,
    programme_now,
    record_order,
)
from tests.graphql.test_auth import token_for


async def test_demo_order_earns_200_pending_points_which_completion_makes_available(
    gql, programme, make_member, keys
):
    # given a member and a 100-yuan full-price line paid by card
    _, storefront = keys
    member = await make_member(programme)
    order = order_input(member.external_id, await programme_now(gql, storefront))
    # when
    recorded = await record_order(gql, storefront, order)
    # then the points are pending
    assert recorded["__typename"] == "OrderSuccess", recorded
    assert recorded["order"]["status"] == "PENDING"
    assert recorded["order"]["points"] == 200
    assert recorded["order"]["lines"][0]["rules"] == [{"rule": "FULL_PRICE", "points": 200}]
    before = await points_of(gql, storefront, member.external_id)
    assert (before["available"], before["pending"]) == (0, 200)
    # when the order completes
    done = await mutate(gql, COMPLETE_ORDER, "completeOrder", storefront, orderId=order["orderId"])
    # then they are available
    assert done["__typename"] == "OrderSuccess", done
    after = await points_of(gql, storefront, member.external_id)
    assert (after["available"], after["pending"]) == (200, 0)
    shown = await gql(ORDER, {"o": order["orderId"]}, auth=storefront)
    assert shown["data"]["order"]["status"] == "COMPLETED"
    await assert_ledger_consistent(member)


async def test_preview_gives_the_same_lines_and_rules_as_record_and_writes_nothing(
    gql, programme, make_member, keys
):
    # given an order with a full-price, a discounted and an appliance line, partly by gift card
    _, storefront = keys
    member = await make_member(programme)
    lines = [
        line("full", 10_000, 1),
        line("sale", 3_000, 2, discounted=True),
        line("fridge", 20_000, 1, category="appliances"),
    ]
    order = order_input(
        member.external_id,
        await programme_now(gql, storefront),
        lines=lines,
        payments=[{"method": "CARD", "amount": 26_000}, {"method": "GIFT_CARD", "amount": 10_000}],
    )
    # when
    body = await gql(PREVIEW_ORDER, {"input": preview_of(order)}, auth=storefront)
    preview = body["data"]["previewOrderPoints"]
    pending_after_preview = (await points_of(gql, storefront, member.external_id))["pending"]
    recorded = await record_order(gql, storefront, order)
    # then
    assert "errors" not in body, body
    assert pending_after_preview == 0
    assert recorded["__typename"] == "OrderSuccess", recorded
    booked = recorded["order"]
    assert [(x["sku"], x["points"], x["rules"]) for x in preview["lines"]] == [
        (x["sku"], x["points"], x["rules"]) for x in booked["lines"]
    ]
    assert preview["total"] == booked["points"] > 0
    assert preview["amount"] == booked["amount"] == 36_000
    rules = {x["sku"]: {r["rule"] for r in x["rules"]} for x in preview["lines"]}
    assert "DISCOUNTED" in rules["sale"] and "GIFT_CARD" in rules["full"]
    assert {"rule": "CATEGORY_BONUS", "points": 5} in preview["lines"][2]["rules"]
    assert (await points_of(gql, storefront, member.external_id))["pending"] == booked["points"]


async def test_tier_and_birthday_multipliers_show_in_the_breakdown(
    gql, programme, make_member, keys
):
    # given BRONZE earns 1.5x, and 2x more in the member's birthday month
    admin, storefront = keys
    for kind, value in (("POINTS_MULTIPLIER", 15_000), ("BIRTHDAY_MULTIPLIER", 20_000)):
        body = await gql(UPSERT_BENEFIT, {"kind": kind, "code": kind, "value": value}, auth=admin)
        assert body["data"]["upsertBenefit"]["__typename"] == "UpsertBenefitSuccess", body
    now = await programme_now(gql, storefront)
    month = parse(now).astimezone(ZoneInfo("Asia/Shanghai")).month
    birthday_member = await make_member(programme, birthday=f"{month:02d}-01")
    other = await make_member(programme, birthday=f"{month % 12 + 1:02d}-01")

    async def preview(external_id: str) -> dict[str, Any]:
        body = await gql(
            PREVIEW_ORDER, {"input": preview_of(order_input(external_id, now))}, auth=storefront
        )
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["previewOrderPoints"]
        return result

    # when
    in_month = await preview(birthday_member.external_id)
    out_of_month = await preview(other.external_id)
    # then
    assert in_month["lines"][0]["rules"] == [
        {"rule": "FULL_PRICE", "points": 200},
        {"rule": "TIER_MULTIPLIER", "points": 100},
        {"rule": "BIRTHDAY_MULTIPLIER", "points": 300},
    ]
    assert in_month["total"] == 600
    assert out_of_month["lines"][0]["rules"] == [
        {"rule": "FULL_PRICE", "points": 200},
        {"rule": "TIER_MULTIPLIER", "points": 100},
    ]
    assert out_of_month["total"] == 300


async def test_cancelling_a_completed_order_is_order_closed(gql, programme, make_member, keys):
    # given
    _, storefront = keys
    member = await make_member(programme)
    order = await completed_order(gql, storefront, member.external_id)
    # when
    result = await mutate(gql, CANCEL_ORDER, "cancelOrder", storefront, orderId=order["orderId"])
    # then
    assert result["__typename"] == "CancelOrderError"
    assert codes(result) == ["ORDER_CLOSED"]
    assert (await points_of(gql, storefront, member.external_id))["available"] == 200
    shown = (await gql(ORDER, {"o": order["orderId"]}, auth=storefront))["data"]["order"]
    assert shown["status"] == "COMPLETED"


async def test_cancelling_a_pending_order_removes_its_pending_points(
    gql, programme, make_member, keys
):
    _, storefront = keys
    member = await make_member(programme)
    order = await placed_order(gql, storefront, member.external_id)
    result = await mutate(gql, CANCEL_ORDER, "cancelOrder", storefront, orderId=order["orderId"])
    assert result["__typename"] == "OrderSuccess", result
    assert result["order"]["status"] == "CANCELLED"
    points = await points_of(gql, storefront, member.external_id)
    assert (points["available"], points["pending"]) == (0, 0)
    await assert_ledger_consistent(member)


@pytest.mark.parametrize(
    ("currency", "code"), [("XYZ", "VALIDATION"), ("USD", "CURRENCY_MISMATCH")]
)
async def test_an_order_in_an_unknown_or_other_currency_is_refused(
    gql, programme, make_member, keys, currency, code
):
    # given a CNY programme
    _, storefront = keys
    member = await make_member(programme)
    order = order_input(member.external_id, await programme_now(gql, storefront), currency=currency)
    # when
    result = await record_order(gql, storefront, order)
    # then
    assert result["__typename"] == "RecordOrderError"
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("currency", code)]
    assert (await gql(ORDER, {"o": order["orderId"]}, auth=storefront))["data"]["order"] is None
    assert (await points_of(gql, storefront, member.external_id))["pending"] == 0


async def test_an_order_in_the_programme_currency_is_booked(gql, programme, make_member, keys):
    _, storefront = keys
    member = await make_member(programme)
    order = order_input(member.external_id, await programme_now(gql, storefront), currency="CNY")
    result = await record_order(gql, storefront, order)
    assert result["__typename"] == "OrderSuccess", result


async def test_an_order_id_used_before_is_reference_reused(gql, programme, make_member, keys):
    # given a recorded order
    _, storefront = keys
    member = await make_member(programme)
    first = await placed_order(gql, storefront, member.external_id)
    # when the same order id comes with another idempotency key
    again = order_input(
        member.external_id, await programme_now(gql, storefront), order_id=first["orderId"]
    )
    result = await record_order(gql, storefront, again)
    # then
    assert result["__typename"] == "RecordOrderError"
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("orderId", "REFERENCE_REUSED")]
    assert (await points_of(gql, storefront, member.external_id))["pending"] == 200


async def test_the_same_idempotency_key_and_input_replays_the_same_order(
    gql, programme, make_member, keys
):
    # given
    _, storefront = keys
    member = await make_member(programme)
    order = order_input(member.external_id, await programme_now(gql, storefront))
    # when sent twice
    first = await record_order(gql, storefront, order)
    second = await record_order(gql, storefront, order)
    # then one order, booked once
    assert first["__typename"] == second["__typename"] == "OrderSuccess"
    assert first["order"]["id"] == second["order"]["id"]
    assert (await points_of(gql, storefront, member.external_id))["pending"] == 200
    # and the same key with other input is refused
    changed = {**order, "lines": [line(unit_price=20_000)]}
    changed["payments"] = [{"method": "CARD", "amount": 20_000}]
    reused = await record_order(gql, storefront, changed)
    assert codes(reused) == ["IDEMPOTENCY_KEY_REUSED"]


async def test_a_member_token_cannot_record_orders(gql, programme, make_member, keys):
    _, storefront = keys
    member = await make_member(programme)
    token = await token_for(gql, storefront, member.external_id)
    order = order_input(member.external_id, await programme_now(gql, storefront))
    body = await gql(RECORD_ORDER, {"input": order}, auth=token)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await points_of(gql, storefront, member.external_id))["pending"] == 0
