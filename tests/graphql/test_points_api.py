"""Issue 3 through the API: orders, returns, redemption, holds, activity, admin corrections,
history, expiry, bad input and tenancy. Money is in fen, points are ints."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.auth import Role
from services import keys as key_service
from services.jobs import run_all
from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.test_auth import token_for

ERRORS = "errors { field code message }"
ORDER_FIELDS = """
  id orderId status amount points pointsReversed
  lines { sku quantity points pointsReversed returnedQuantity rules { rule points } }
"""
POINTS_FIELDS = "points { available pending held spendable }"

RECORD_ORDER = f"""
mutation ($input: RecordOrderInput!) {{
  recordOrder(input: $input) {{
    __typename
    ... on OrderSuccess {{ order {{ {ORDER_FIELDS} }} }}
    ... on RecordOrderError {{ {ERRORS} }}
  }}
}}
"""
PREVIEW_ORDER = """
query ($input: PreviewOrderInput!) {
  previewOrderPoints(input: $input) {
    total amount lines { sku quantity amount points rules { rule points } }
  }
}
"""
COMPLETE_ORDER = f"""
mutation ($input: OrderActionInput!) {{
  completeOrder(input: $input) {{
    __typename
    ... on OrderSuccess {{ order {{ {ORDER_FIELDS} }} }}
    ... on CompleteOrderError {{ {ERRORS} }}
  }}
}}
"""
CANCEL_ORDER = f"""
mutation ($input: OrderActionInput!) {{
  cancelOrder(input: $input) {{
    __typename
    ... on OrderSuccess {{ order {{ {ORDER_FIELDS} }} }}
    ... on CancelOrderError {{ {ERRORS} }}
  }}
}}
"""
RETURN_LINES = f"""
mutation ($input: ReturnOrderLinesInput!) {{
  returnOrderLines(input: $input) {{
    __typename
    ... on OrderSuccess {{ order {{ {ORDER_FIELDS} }} }}
    ... on ReturnOrderLinesError {{ {ERRORS} }}
  }}
}}
"""
ORDER = f"query ($o: String!) {{ order(orderId: $o) {{ {ORDER_FIELDS} }} }}"
MEMBER_POINTS = f"query ($e: String!) {{ member(externalId: $e) {{ {POINTS_FIELDS} }} }}"
TX_FIELDS = "id kind bucket amount reason reference referenceType actor reverses"
REDEEM = f"""
mutation ($input: RedeemPointsInput!) {{
  redeemPoints(input: $input) {{
    __typename
    ... on TransactionSuccess {{
      transaction {{ {TX_FIELDS} }} member {{ externalId {POINTS_FIELDS} }}
    }}
    ... on RedeemPointsError {{ {ERRORS} }}
  }}
}}
"""
REVERSE_REDEMPTION = f"""
mutation ($input: ReverseRedemptionInput!) {{
  reverseRedemption(input: $input) {{
    __typename
    ... on TransactionSuccess {{ transaction {{ {TX_FIELDS} }} member {{ {POINTS_FIELDS} }} }}
    ... on ReverseRedemptionError {{ {ERRORS} }}
  }}
}}
"""
HOLD_FIELDS = "id orderId amount captured status expiresAt"
HOLD_POINTS = f"""
mutation ($input: HoldPointsInput!) {{
  holdPoints(input: $input) {{
    __typename
    ... on HoldSuccess {{ hold {{ {HOLD_FIELDS} }} member {{ {POINTS_FIELDS} }} }}
    ... on HoldPointsError {{ {ERRORS} }}
  }}
}}
"""
CAPTURE_HOLD = f"""
mutation ($input: CaptureHoldInput!) {{
  captureHold(input: $input) {{
    __typename
    ... on HoldSuccess {{ hold {{ {HOLD_FIELDS} }} member {{ {POINTS_FIELDS} }} }}
    ... on CaptureHoldError {{ {ERRORS} }}
  }}
}}
"""
RELEASE_HOLD = f"""
mutation ($input: ReleaseHoldInput!) {{
  releaseHold(input: $input) {{
    __typename
    ... on HoldSuccess {{ hold {{ {HOLD_FIELDS} }} member {{ {POINTS_FIELDS} }} }}
    ... on ReleaseHoldError {{ {ERRORS} }}
  }}
}}
"""
CHECK_IN = f"""
mutation ($input: CheckInInput!) {{
  checkIn(input: $input) {{
    __typename
    ... on CheckInSuccess {{ streak points member {{ {POINTS_FIELDS} }} }}
    ... on CheckInError {{ {ERRORS} }}
  }}
}}
"""
REWARD_REVIEW = f"""
mutation ($input: RewardReviewInput!) {{
  rewardReview(input: $input) {{
    __typename
    ... on MemberSuccess {{ member {{ {POINTS_FIELDS} }} }}
    ... on RewardReviewError {{ {ERRORS} }}
  }}
}}
"""
ACCEPT_REFERRAL = f"""
mutation ($input: AcceptReferralInput!) {{
  acceptReferral(input: $input) {{
    __typename
    ... on MemberSuccess {{ member {{ externalId }} }}
    ... on AcceptReferralError {{ {ERRORS} }}
  }}
}}
"""
INVITE_CODE = "query ($e: String!) { member(externalId: $e) { inviteCode } }"
ADJUST_POINTS = f"""
mutation ($input: AdjustPointsInput!) {{
  adjustPoints(input: $input) {{
    __typename
    ... on TransactionSuccess {{ transaction {{ {TX_FIELDS} }} member {{ {POINTS_FIELDS} }} }}
    ... on AdjustPointsError {{ {ERRORS} }}
  }}
}}
"""
GRANT_POINTS = f"""
mutation ($input: GrantPointsInput!) {{
  grantPoints(input: $input) {{
    __typename
    ... on GrantPointsSuccess {{ members {{ externalId {POINTS_FIELDS} }} }}
    ... on GrantPointsError {{ {ERRORS} }}
  }}
}}
"""
ADVANCE_CLOCK = """
mutation ($days: Int! = 0, $seconds: Int! = 0, $key: String!) {
  advanceTestClock(input: {days: $days, seconds: $seconds, idempotencyKey: $key}) {
    __typename
    ... on AdvanceTestClockSuccess { programme { now } }
    ... on AdvanceTestClockError { errors { field code message } }
  }
}
"""
TRANSACTIONS = f"""
query ($e: String!, $first: Int!, $after: String, $kinds: [TransactionKind!]) {{
  member(externalId: $e) {{
    transactions(first: $first, after: $after, kinds: $kinds) {{
      pageInfo {{ hasNextPage endCursor }}
      edges {{ cursor node {{ {TX_FIELDS} }} }}
    }}
  }}
}}
"""
EXPIRING = """
query ($e: String!, $days: Int!) {
  member(externalId: $e) { points { available expiringWithin(days: $days) { amount expiresAt } } }
}
"""
NODE = """
query ($id: ID!) {
  node(id: $id) {
    __typename id
    ... on PointTransaction { amount }
    ... on Order { orderId }
    ... on PointHold { amount }
  }
}
"""
PROGRAMME_NOW = "{ programme { now } }"
NODE_HOLD = "query ($id: ID!) { node(id: $id) { ... on PointHold { status captured } } }"
UPSERT_BENEFIT = """
mutation ($kind: BenefitKind!, $value: Int!) {
  upsertBenefit(input: {tierCode: "BRONZE", code: $kind, title: "Bonus", kind: $kind,
                        value: $value, idempotencyKey: $kind}) {
    __typename
  }
}
"""


# ---- helpers --------------------------------------------------------------------------------


def new_key() -> str:
    return uuid.uuid4().hex


def codes(result: dict[str, Any]) -> list[str]:
    return [e["code"] for e in result.get("errors", [])]


def parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


async def programme_now(gql, key: str) -> str:
    body = await gql(PROGRAMME_NOW, auth=key)
    return str(body["data"]["programme"]["now"])


def line(
    sku: str = "sku-1",
    unit_price: int = 10_000,
    quantity: int = 1,
    *,
    category: str = "general",
    discounted: bool = False,
) -> dict[str, Any]:
    return {
        "sku": sku,
        "category": category,
        "unitPrice": unit_price,
        "quantity": quantity,
        "discounted": discounted,
    }


def order_input(
    member_external_id: str,
    placed_at: str,
    *,
    lines: list[dict] | None = None,
    payments: list[dict] | None = None,
    order_id: str | None = None,
    key: str | None = None,
    **more: Any,
) -> dict[str, Any]:
    lines = lines or [line()]
    total = sum(item["unitPrice"] * item["quantity"] for item in lines)
    return {
        "orderId": order_id or f"o-{uuid.uuid4().hex[:10]}",
        "memberExternalId": member_external_id,
        "placedAt": placed_at,
        "lines": lines,
        "payments": payments or [{"method": "CARD", "amount": total}],
        "idempotencyKey": key or new_key(),
        **more,
    }


def preview_of(order: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in order.items() if k != "idempotencyKey"}


async def mutate(gql, document: str, field: str, auth: str, **input: Any) -> dict[str, Any]:
    """Run a mutation whose input is `input` (with a fresh idempotency key unless given)."""
    body = await gql(document, {"input": {"idempotencyKey": new_key(), **input}}, auth=auth)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][field]
    return result


async def record_order(gql, key: str, order: dict[str, Any]) -> dict[str, Any]:
    body = await gql(RECORD_ORDER, {"input": order}, auth=key)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["recordOrder"]
    return result


async def placed_order(gql, key: str, member_external_id: str, **kwargs: Any) -> dict[str, Any]:
    """An order recorded through the API; its points are pending."""
    result = await record_order(
        gql, key, order_input(member_external_id, await programme_now(gql, key), **kwargs)
    )
    assert result["__typename"] == "OrderSuccess", result
    order: dict[str, Any] = result["order"]
    return order


async def completed_order(gql, key: str, member_external_id: str, **kwargs: Any) -> dict:
    order = await placed_order(gql, key, member_external_id, **kwargs)
    done = await mutate(gql, COMPLETE_ORDER, "completeOrder", key, orderId=order["orderId"])
    assert done["__typename"] == "OrderSuccess", done
    completed: dict[str, Any] = done["order"]
    return completed


async def points_of(gql, key: str, external_id: str) -> dict[str, int]:
    body = await gql(MEMBER_POINTS, {"e": external_id}, auth=key)
    points: dict[str, int] = body["data"]["member"]["points"]
    return points


async def fund(gql, admin: str, external_id: str, amount: int) -> None:
    """Available points, by an admin adjustment."""
    result = await mutate(
        gql,
        ADJUST_POINTS,
        "adjustPoints",
        admin,
        memberExternalId=external_id,
        amount=amount,
        reason="test funds",
    )
    assert result["__typename"] == "TransactionSuccess", result


async def advance(gql, admin: str, *, days: int = 0, seconds: int = 0) -> None:
    body = await gql(
        ADVANCE_CLOCK, {"days": days, "seconds": seconds, "key": new_key()}, auth=admin
    )
    assert body["data"]["advanceTestClock"]["__typename"] == "AdvanceTestClockSuccess", body


async def history(gql, key: str, external_id: str, **args: Any) -> dict[str, Any]:
    body = await gql(TRANSACTIONS, {"e": external_id, "first": 100, **args}, auth=key)
    assert "errors" not in body, body
    connection: dict[str, Any] = body["data"]["member"]["transactions"]
    return connection


@pytest.fixture
async def keys(programme, make_key) -> tuple[str, str]:
    """(admin, storefront) keys of the `programme`."""
    return await make_key(programme, Role.ADMIN), await make_key(programme, Role.STOREFRONT)


# ---- orders ---------------------------------------------------------------------------------


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
        body = await gql(UPSERT_BENEFIT, {"kind": kind, "value": value}, auth=admin)
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


# ---- redemption -----------------------------------------------------------------------------


async def redeem(gql, auth: str, **input: Any) -> dict[str, Any]:
    return await mutate(gql, REDEEM, "redeemPoints", auth, **{"reason": "a mug", **input})


async def test_redeeming_takes_the_points_and_returns_the_transaction_and_member(
    gql, programme, make_member, keys
):
    # given
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    # when
    result = await redeem(
        gql, storefront, memberExternalId=member.external_id, amount=30, reward="mug-1"
    )
    # then
    assert result["__typename"] == "TransactionSuccess", result
    assert (result["transaction"]["kind"], result["transaction"]["amount"]) == ("REDEEM", -30)
    assert result["transaction"]["reference"] == "mug-1"
    assert result["member"]["points"]["available"] == 70
    assert (await points_of(gql, storefront, member.external_id))["available"] == 70


async def test_a_redemption_retried_with_its_key_is_booked_once(gql, programme, make_member, keys):
    # given
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    once = {"memberExternalId": member.external_id, "amount": 30, "idempotencyKey": "r-1"}
    # when sent twice, then with the key reused for another amount
    first = await redeem(gql, storefront, **once)
    second = await redeem(gql, storefront, **once)
    reused = await redeem(gql, storefront, **{**once, "amount": 31})
    # then
    assert first["__typename"] == second["__typename"] == "TransactionSuccess"
    assert first["transaction"]["id"] == second["transaction"]["id"]
    assert reused["__typename"] == "RedeemPointsError"
    assert codes(reused) == ["IDEMPOTENCY_KEY_REUSED"]
    assert (await points_of(gql, storefront, member.external_id))["available"] == 70


async def test_redeeming_more_than_spendable_is_insufficient_points(
    gql, programme, make_member, keys
):
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    result = await redeem(gql, storefront, memberExternalId=member.external_id, amount=101)
    assert result["__typename"] == "RedeemPointsError"
    assert codes(result) == ["INSUFFICIENT_POINTS"]
    assert (await points_of(gql, storefront, member.external_id))["available"] == 100


async def test_redeeming_pending_points_is_points_pending(gql, programme, make_member, keys):
    # given 200 points pending and none available
    _, storefront = keys
    member = await make_member(programme)
    await placed_order(gql, storefront, member.external_id)
    # when
    result = await redeem(gql, storefront, memberExternalId=member.external_id, amount=50)
    # then
    assert result["__typename"] == "RedeemPointsError"
    assert codes(result) == ["POINTS_PENDING"]
    points = await points_of(gql, storefront, member.external_id)
    assert (points["available"], points["pending"]) == (0, 200)


@pytest.mark.parametrize("amount", [0, -5, 1_000_000_001])
async def test_redeeming_an_out_of_range_amount_is_a_validation_error(
    gql, programme, make_member, keys, amount
):
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    result = await redeem(gql, storefront, memberExternalId=member.external_id, amount=amount)
    assert result["__typename"] == "RedeemPointsError"
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("amount", "VALIDATION")]
    assert (await points_of(gql, storefront, member.external_id))["available"] == 100


@pytest.mark.parametrize("reason", ["", "   "])
async def test_redeeming_without_a_reason_is_a_validation_error(
    gql, programme, make_member, keys, reason
):
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    result = await redeem(
        gql, storefront, memberExternalId=member.external_id, amount=10, reason=reason
    )
    assert result["__typename"] == "RedeemPointsError"
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("reason", "VALIDATION")]
    assert (await points_of(gql, storefront, member.external_id))["available"] == 100


async def test_redeeming_with_the_reason_left_out_is_refused_before_it_runs(
    gql, programme, make_member, keys
):
    # given
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    # when `reason` is not sent at all (it is required by the schema)
    body = await gql(
        REDEEM,
        {"input": {"memberExternalId": member.external_id, "amount": 10, "idempotencyKey": "k"}},
        auth=storefront,
    )
    # then the schema refuses it before any resolver runs, naming the field (a variable
    # coercion error is a top-level error: GraphQL gives it no union member to be)
    assert body.get("data") is None
    [error] = body["errors"]
    assert "reason" in error["message"] and "path" not in error
    assert (await points_of(gql, storefront, member.external_id))["available"] == 100


async def test_a_member_token_redeems_its_own_points_but_not_another_members(
    gql, programme, make_member, keys
):
    # given two members with 100 points each, and a token for the first
    admin, storefront = keys
    alice, bob = await make_member(programme), await make_member(programme)
    await fund(gql, admin, alice.external_id, 100)
    await fund(gql, admin, bob.external_id, 100)
    token = await token_for(gql, storefront, alice.external_id)
    # when the token redeems without naming a member, then names the other member
    own = await redeem(gql, token, amount=40)
    other = await redeem(gql, token, memberExternalId=bob.external_id, amount=40)
    # then
    assert own["__typename"] == "TransactionSuccess", own
    assert own["member"]["externalId"] == alice.external_id
    assert own["member"]["points"]["available"] == 60
    assert other["__typename"] == "RedeemPointsError"
    assert codes(other) == ["NOT_FOUND"]
    assert (await points_of(gql, storefront, bob.external_id))["available"] == 100


# ---- holds ----------------------------------------------------------------------------------


async def hold(gql, auth: str, external_id: str, amount: int) -> dict[str, Any]:
    result = await mutate(
        gql,
        HOLD_POINTS,
        "holdPoints",
        auth,
        memberExternalId=external_id,
        amount=amount,
        orderId=f"checkout-{uuid.uuid4().hex[:8]}",
    )
    assert result["__typename"] == "HoldSuccess", result
    return result


async def test_a_partial_capture_spends_that_much_and_releases_the_rest(
    gql, programme, make_member, keys
):
    # given 500 points, 300 of them held at checkout
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 500)
    held = await hold(gql, storefront, member.external_id, 300)
    assert held["hold"]["status"] == "HELD"
    assert (held["member"]["points"]["held"], held["member"]["points"]["spendable"]) == (300, 200)
    hold_id = held["hold"]["id"]
    # when 120 of it is captured
    captured = await mutate(
        gql, CAPTURE_HOLD, "captureHold", storefront, holdId=hold_id, amount=120
    )
    # then
    assert captured["__typename"] == "HoldSuccess", captured
    assert (captured["hold"]["status"], captured["hold"]["captured"]) == ("CAPTURED", 120)
    assert captured["member"]["points"] == {
        "available": 380,
        "pending": 0,
        "held": 0,
        "spendable": 380,
    }
    # and a second capture is refused, changing nothing
    again = await mutate(gql, CAPTURE_HOLD, "captureHold", storefront, holdId=hold_id, amount=50)
    assert again["__typename"] == "CaptureHoldError"
    assert codes(again) == ["HOLD_CLOSED"]
    points = await points_of(gql, storefront, member.external_id)
    assert (points["available"], points["held"], points["spendable"]) == (380, 0, 380)
    await assert_ledger_consistent(member)


async def test_releasing_a_hold_gives_its_points_back(gql, programme, make_member, keys):
    # given
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 500)
    held = await hold(gql, storefront, member.external_id, 300)
    # when
    released = await mutate(gql, RELEASE_HOLD, "releaseHold", storefront, holdId=held["hold"]["id"])
    # then
    assert released["__typename"] == "HoldSuccess", released
    assert (released["hold"]["status"], released["hold"]["captured"]) == ("RELEASED", 0)
    assert released["member"]["points"] == {
        "available": 500,
        "pending": 0,
        "held": 0,
        "spendable": 500,
    }
    again = await mutate(gql, RELEASE_HOLD, "releaseHold", storefront, holdId=held["hold"]["id"])
    assert codes(again) == ["HOLD_CLOSED"]
    capture = await mutate(
        gql, CAPTURE_HOLD, "captureHold", storefront, holdId=held["hold"]["id"], amount=10
    )
    assert codes(capture) == ["HOLD_CLOSED"]
    assert (await points_of(gql, storefront, member.external_id))["available"] == 500


async def test_a_hold_captured_after_it_expired_is_hold_expired(gql, programme, make_member, keys):
    # given a hold, and the clock past its expiry
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    held = await hold(gql, storefront, member.external_id, 60)
    expires_in = parse(held["hold"]["expiresAt"]) - parse(await programme_now(gql, storefront))
    await advance(gql, admin, seconds=int(expires_in.total_seconds()) + 1)
    # when
    result = await mutate(
        gql, CAPTURE_HOLD, "captureHold", storefront, holdId=held["hold"]["id"], amount=60
    )
    # then nothing is spent and the hold is given back
    assert result["__typename"] == "CaptureHoldError"
    assert codes(result) == ["HOLD_EXPIRED"]
    points = await points_of(gql, storefront, member.external_id)
    assert (points["available"], points["held"], points["spendable"]) == (100, 0, 100)
    node = await gql(NODE_HOLD, {"id": held["hold"]["id"]}, auth=storefront)
    assert node["data"]["node"]["status"] == "EXPIRED"


async def test_held_points_cannot_be_redeemed(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    await hold(gql, storefront, member.external_id, 80)
    result = await redeem(gql, storefront, memberExternalId=member.external_id, amount=30)
    assert codes(result) == ["INSUFFICIENT_POINTS"]


# ---- reversing a redemption -----------------------------------------------------------------


async def test_an_admin_reverses_a_redemption_once(gql, programme, make_member, keys):
    # given a redemption of 40 out of 100
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    redeemed = await redeem(gql, storefront, memberExternalId=member.external_id, amount=40)
    tx_id = redeemed["transaction"]["id"]
    # when the storefront tries, then the admin, then the admin again
    by_storefront = await gql(
        REVERSE_REDEMPTION,
        {"input": {"transactionId": tx_id, "reason": "mistake", "idempotencyKey": new_key()}},
        auth=storefront,
    )
    first = await mutate(
        gql, REVERSE_REDEMPTION, "reverseRedemption", admin, transactionId=tx_id, reason="mistake"
    )
    second = await mutate(
        gql, REVERSE_REDEMPTION, "reverseRedemption", admin, transactionId=tx_id, reason="again"
    )
    # then the storefront is forbidden, the points come back once
    assert by_storefront["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert first["__typename"] == "TransactionSuccess", first
    assert (first["transaction"]["kind"], first["transaction"]["amount"]) == ("REVERSE", 40)
    assert first["transaction"]["reverses"] == tx_id
    assert first["member"]["points"]["available"] == 100
    assert second["__typename"] == "ReverseRedemptionError"
    assert codes(second) == ["ALREADY_REVERSED"]
    assert (await points_of(gql, storefront, member.external_id))["available"] == 100
    await assert_ledger_consistent(member)


# ---- activity -------------------------------------------------------------------------------


async def test_one_check_in_a_day_and_a_streak_across_days(gql, programme, make_member, keys):
    # given a member signed in on the storefront
    admin, storefront = keys
    member = await make_member(programme)
    token = await token_for(gql, storefront, member.external_id)
    # when checking in twice on one day
    first = await mutate(gql, CHECK_IN, "checkIn", token)
    second = await mutate(gql, CHECK_IN, "checkIn", token)
    # then the second is refused
    assert first["__typename"] == "CheckInSuccess", first
    assert first["streak"] == 1 and first["points"] > 0
    assert second["__typename"] == "CheckInError"
    assert codes(second) == ["ALREADY_CHECKED_IN"]
    assert (await points_of(gql, storefront, member.external_id))["available"] == first["points"]
    # when the next day comes
    await advance(gql, admin, days=1)
    next_day = await mutate(gql, CHECK_IN, "checkIn", token)
    # then the streak goes on
    assert next_day["__typename"] == "CheckInSuccess", next_day
    assert next_day["streak"] == 2
    assert next_day["member"]["points"]["available"] == first["points"] + next_day["points"]


async def test_a_review_is_rewarded_once_per_order_line(gql, programme, make_member, keys):
    # given a completed order of two lines
    _, storefront = keys
    member = await make_member(programme)
    order = await completed_order(
        gql,
        storefront,
        member.external_id,
        lines=[line("shirt", 10_000), line("hat", 5_000)],
    )
    earned = 200 + 100

    async def review(sku: str) -> dict[str, Any]:
        return await mutate(
            gql, REWARD_REVIEW, "rewardReview", storefront, orderId=order["orderId"], sku=sku
        )

    # when the shirt is reviewed twice and the hat once
    shirt = await review("shirt")
    shirt_again = await review("shirt")
    hat = await review("hat")
    # then
    assert shirt["__typename"] == "MemberSuccess", shirt
    per_review = shirt["member"]["points"]["available"] - earned
    assert per_review > 0
    assert shirt_again["__typename"] == "RewardReviewError"
    assert codes(shirt_again) == ["ALREADY_REVIEWED"]
    assert hat["__typename"] == "MemberSuccess", hat
    assert hat["member"]["points"]["available"] == earned + 2 * per_review


async def invite_code_of(gql, key: str, external_id: str) -> str:
    body = await gql(INVITE_CODE, {"e": external_id}, auth=key)
    return str(body["data"]["member"]["inviteCode"])


async def accept(gql, key: str, invitee: str, code: str) -> dict[str, Any]:
    return await mutate(
        gql, ACCEPT_REFERRAL, "acceptReferral", key, inviteeExternalId=invitee, inviteCode=code
    )


async def test_a_member_cannot_refer_themselves(gql, programme, make_member, keys):
    _, storefront = keys
    member = await make_member(programme)
    code = await invite_code_of(gql, storefront, member.external_id)
    result = await accept(gql, storefront, member.external_id, code)
    assert result["__typename"] == "AcceptReferralError"
    assert codes(result) == ["SELF_REFERRAL"]


async def test_a_referral_loop_is_refused(gql, programme, make_member, keys):
    # given A invited B
    _, storefront = keys
    a, b = await make_member(programme), await make_member(programme)
    a_code = await invite_code_of(gql, storefront, a.external_id)
    b_code = await invite_code_of(gql, storefront, b.external_id)
    invited = await accept(gql, storefront, b.external_id, a_code)
    assert invited["__typename"] == "MemberSuccess", invited
    # when B's code is used for A
    loop = await accept(gql, storefront, a.external_id, b_code)
    # then
    assert loop["__typename"] == "AcceptReferralError"
    assert codes(loop) == ["REFERRAL_CYCLE"]


async def test_the_inviter_is_rewarded_when_the_invitees_first_order_completes(
    gql, programme, make_member, keys
):
    # given A invited B, and B has placed an order
    _, storefront = keys
    a, b = await make_member(programme), await make_member(programme)
    invited = await accept(
        gql, storefront, b.external_id, await invite_code_of(gql, storefront, a.external_id)
    )
    assert invited["__typename"] == "MemberSuccess", invited
    order = await placed_order(gql, storefront, b.external_id)
    assert (await points_of(gql, storefront, a.external_id))["available"] == 0
    # when the order completes
    done = await mutate(gql, COMPLETE_ORDER, "completeOrder", storefront, orderId=order["orderId"])
    # then A earns the referral points, once
    assert done["__typename"] == "OrderSuccess", done
    rewarded = (await points_of(gql, storefront, a.external_id))["available"]
    assert rewarded > 0
    await completed_order(gql, storefront, b.external_id)
    assert (await points_of(gql, storefront, a.external_id))["available"] == rewarded
    assert (await points_of(gql, storefront, b.external_id))["available"] == 400
    await assert_ledger_consistent(a)
    await assert_ledger_consistent(b)


async def test_returning_the_invitees_first_order_takes_back_the_inviters_reward(
    gql, programme, make_member, keys
):
    # given A was rewarded for B's first order
    _, storefront = keys
    a, b = await make_member(programme), await make_member(programme)
    code = await invite_code_of(gql, storefront, a.external_id)
    assert (await accept(gql, storefront, b.external_id, code))["__typename"] == "MemberSuccess"
    order = await completed_order(gql, storefront, b.external_id, lines=[line("mug", 2_000)])
    assert (await points_of(gql, storefront, a.external_id))["available"] > 0
    # when B returns all of it
    result = await mutate(
        gql,
        RETURN_LINES,
        "returnOrderLines",
        storefront,
        orderId=order["orderId"],
        lines=[{"sku": "mug", "quantity": 1}],
    )
    # then A's reward goes
    assert result["__typename"] == "OrderSuccess", result
    assert (await points_of(gql, storefront, a.external_id))["available"] == 0
    await assert_ledger_consistent(a)


# ---- admin corrections ----------------------------------------------------------------------


async def test_an_adjustment_needs_a_reason_and_records_its_actor(gql, programme, make_member):
    # given
    issued = await key_service.create_key(programme.id, Role.ADMIN, label="ops")
    member = await make_member(programme)
    # when
    blank = await mutate(
        gql,
        ADJUST_POINTS,
        "adjustPoints",
        issued.secret,
        memberExternalId=member.external_id,
        amount=50,
        reason="  ",
    )
    done = await mutate(
        gql,
        ADJUST_POINTS,
        "adjustPoints",
        issued.secret,
        memberExternalId=member.external_id,
        amount=50,
        reason="goodwill",
    )
    # then
    assert blank["__typename"] == "AdjustPointsError"
    assert [(e["field"], e["code"]) for e in blank["errors"]] == [("reason", "VALIDATION")]
    assert done["__typename"] == "TransactionSuccess", done
    tx = done["transaction"]
    assert (tx["kind"], tx["amount"], tx["reason"]) == ("ADJUST", 50, "goodwill")
    assert tx["actor"] == f"key:{issued.id}"
    assert done["member"]["points"]["available"] == 50


async def test_a_negative_adjustment_beyond_the_balance_is_insufficient_points(
    gql, programme, make_member, keys
):
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 50)
    result = await mutate(
        gql,
        ADJUST_POINTS,
        "adjustPoints",
        admin,
        memberExternalId=member.external_id,
        amount=-60,
        reason="clawback",
    )
    assert result["__typename"] == "AdjustPointsError"
    assert codes(result) == ["INSUFFICIENT_POINTS"]
    assert (await points_of(gql, storefront, member.external_id))["available"] == 50


async def test_a_storefront_key_cannot_adjust_or_grant(gql, programme, make_member, keys):
    _, storefront = keys
    member = await make_member(programme)
    adjust = await gql(
        ADJUST_POINTS,
        {
            "input": {
                "memberExternalId": member.external_id,
                "amount": 10,
                "reason": "r",
                "idempotencyKey": new_key(),
            }
        },
        auth=storefront,
    )
    grant = await gql(
        GRANT_POINTS,
        {
            "input": {
                "memberExternalIds": [member.external_id],
                "amount": 10,
                "reason": "r",
                "idempotencyKey": new_key(),
            }
        },
        auth=storefront,
    )
    assert adjust["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert grant["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await points_of(gql, storefront, member.external_id))["available"] == 0


async def test_a_grant_reaches_every_member_once_per_key(gql, programme, make_member, keys):
    # given three members
    admin, storefront = keys
    members = [await make_member(programme) for _ in range(3)]
    ids = [m.external_id for m in members]
    grant = {"memberExternalIds": ids, "amount": 25, "reason": "launch", "idempotencyKey": "g-1"}
    # when the grant is sent twice with one key
    first = await mutate(gql, GRANT_POINTS, "grantPoints", admin, **grant)
    second = await mutate(gql, GRANT_POINTS, "grantPoints", admin, **grant)
    # then each member has the points once
    assert first["__typename"] == second["__typename"] == "GrantPointsSuccess"
    assert sorted(m["externalId"] for m in first["members"]) == sorted(ids)
    assert all(m["points"]["available"] == 25 for m in first["members"])
    for external_id in ids:
        assert (await points_of(gql, storefront, external_id))["available"] == 25
    for member in members:
        await assert_ledger_consistent(member)


async def test_a_grant_naming_an_unknown_member_grants_nobody(gql, programme, make_member, keys):
    admin, storefront = keys
    members = [await make_member(programme) for _ in range(2)]
    ids = [m.external_id for m in members]
    result = await mutate(
        gql,
        GRANT_POINTS,
        "grantPoints",
        admin,
        memberExternalIds=[*ids, "nobody-here"],
        amount=25,
        reason="launch",
    )
    assert result["__typename"] == "GrantPointsError"
    assert [(e["field"], e["code"]) for e in result["errors"]] == [
        ("memberExternalIds", "NOT_FOUND")
    ]
    for external_id in ids:
        assert (await points_of(gql, storefront, external_id))["available"] == 0


# ---- history --------------------------------------------------------------------------------


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


# ---- expiry ---------------------------------------------------------------------------------


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


# ---- tenancy --------------------------------------------------------------------------------


async def test_another_programme_and_another_member_see_none_of_a_members_ledger(
    gql, make_programme, make_member, make_key
):
    # given programme B with a member's order, hold and ledger row, and a second member in B
    a, b = await make_programme(), await make_programme()
    key_a = await make_key(a, Role.STOREFRONT)
    admin_b, key_b = await make_key(b, Role.ADMIN), await make_key(b, Role.STOREFRONT)
    alice, bob = await make_member(b), await make_member(b)
    await fund(gql, admin_b, alice.external_id, 100)
    order = await placed_order(gql, key_b, alice.external_id)
    held = await hold(gql, key_b, alice.external_id, 30)
    [edge] = (await history(gql, key_b, alice.external_id, kinds=["ADJUST"]))["edges"]
    ids = {
        "PointTransaction": edge["node"]["id"],
        "Order": order["id"],
        "PointHold": held["hold"]["id"],
    }
    bob_token = await token_for(gql, key_b, bob.external_id)
    alice_token = await token_for(gql, key_b, alice.external_id)
    # B's own key and alice herself see all three
    for typename, global_id in ids.items():
        for auth in (key_b, alice_token):
            seen = await gql(NODE, {"id": global_id}, auth=auth)
            assert seen["data"]["node"]["__typename"] == typename, seen
    # when programme A's key and bob's token ask
    for auth in (key_a, bob_token):
        for global_id in ids.values():
            body = await gql(NODE, {"id": global_id}, auth=auth)
            # then they see nothing
            assert "errors" not in body, body
            assert body["data"]["node"] is None
    by_ref = await gql(ORDER, {"o": order["orderId"]}, auth=key_a)
    assert "errors" not in by_ref and by_ref["data"]["order"] is None
    complete = await mutate(gql, COMPLETE_ORDER, "completeOrder", key_a, orderId=order["orderId"])
    assert complete["__typename"] == "CompleteOrderError"
    assert codes(complete) == ["NOT_FOUND"]
    release = await mutate(gql, RELEASE_HOLD, "releaseHold", key_a, holdId=ids["PointHold"])
    assert codes(release) == ["NOT_FOUND"]
    # and B's order and hold are untouched
    shown = (await gql(ORDER, {"o": order["orderId"]}, auth=key_b))["data"]["order"]
    assert shown["status"] == "PENDING"
    points = await points_of(gql, key_b, alice.external_id)
    assert (points["available"], points["pending"], points["held"]) == (100, 200, 30)
