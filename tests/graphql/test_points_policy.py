"""Per-programme points policy: read it, change it (admin), and see it act."""

from __future__ import annotations

from domain.auth import Role

POLICY = "{ pointsPolicy { expiryPolicy expiryMonths negativePolicy returnWindowDays fullPriceRate { points perMinorUnits } categoryBonuses { category points } } }"
SET = """
mutation ($input: SetPointsPolicyInput!) {
  setPointsPolicy(input: $input) {
    __typename
    ... on SetPointsPolicySuccess { pointsPolicy { expiryPolicy expiryMonths negativePolicy fullPriceRate { points perMinorUnits } } }
    ... on SetPointsPolicyError { errors { field code } }
  }
}
"""


async def test_defaults_are_the_demo_rules(gql, programme, make_key):
    body = await gql(POLICY, auth=await make_key(programme, Role.STOREFRONT))
    policy = body["data"]["pointsPolicy"]
    assert policy["expiryPolicy"] == "LOTS" and policy["expiryMonths"] == 12
    assert policy["fullPriceRate"] == {"points": 2, "perMinorUnits": 100}  # as set, not reduced
    assert policy["categoryBonuses"] == [{"category": "appliances", "points": 5}]


async def test_an_admin_switches_to_rolling_expiry_and_it_applies(gql, programme, make_key):
    admin = await make_key(programme)
    body = await gql(
        SET,
        {
            "input": {
                "expiryPolicy": "ROLLING_ACTIVITY",
                "expiryMonths": 6,
                "negativePolicy": "CLAMP_AND_RECORD",
                "fullPriceRate": {"points": 3, "perMinorUnits": 100},
                "idempotencyKey": "p1",
            }
        },
        auth=admin,
    )
    result = body["data"]["setPointsPolicy"]
    assert result["__typename"] == "SetPointsPolicySuccess"
    assert result["pointsPolicy"] == {
        "expiryPolicy": "ROLLING_ACTIVITY",
        "expiryMonths": 6,
        "negativePolicy": "CLAMP_AND_RECORD",
        "fullPriceRate": {"points": 3, "perMinorUnits": 100},
    }
    # fields left out keep their value
    again = (await gql(POLICY, auth=admin))["data"]["pointsPolicy"]
    assert again["returnWindowDays"] == 30
    # and earning uses the new rate: 100 yuan at 3 per yuan
    member = await gql(
        'mutation { registerMember(input: {externalId: "p-1", displayName: "P", idempotencyKey: "r"}) { ... on RegisterMemberSuccess { member { externalId } } } }',
        auth=admin,
    )
    assert member["data"]["registerMember"]["member"]["externalId"] == "p-1"
    preview = await gql(
        'query { previewOrderPoints(input: {orderId: "x", memberExternalId: "p-1", placedAt: "2020-01-01T00:00:00+00:00", lines: [{sku: "a", category: "c", unitPrice: 10000, quantity: 1}], payments: [{method: CARD, amount: 10000}]}) { total } }',
        auth=admin,
    )
    assert preview["data"]["previewOrderPoints"]["total"] == 300


async def test_invalid_policies_are_refused_and_change_nothing(gql, programme, make_key):
    admin = await make_key(programme)
    for n, (change, field) in enumerate(
        [
            ({"expiryMonths": 0}, "expiryMonths"),
            ({"returnWindowDays": 400}, "returnWindowDays"),
            ({"fullPriceRate": {"points": 2, "perMinorUnits": 0}}, "fullPriceRate"),
            ({"checkinPoints": -1}, "checkinPoints"),
        ]
    ):
        body = await gql(SET, {"input": {**change, "idempotencyKey": f"bad-{n}"}}, auth=admin)
        result = body["data"]["setPointsPolicy"]
        assert result["__typename"] == "SetPointsPolicyError", change
        assert result["errors"][0] == {"field": field, "code": "VALIDATION"}
    assert (await gql(POLICY, auth=admin))["data"]["pointsPolicy"]["expiryMonths"] == 12


async def test_only_admins_change_the_policy(gql, programme, make_key):
    body = await gql(
        SET,
        {"input": {"expiryMonths": 3, "idempotencyKey": "s"}},
        auth=await make_key(programme, Role.STOREFRONT),
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_half_up_policy_set_through_the_api_rounds_half_up(gql, programme, make_key):
    # given an admin sets HALF_UP rounding and reads it back
    admin = await make_key(programme)
    body = await gql(
        'mutation { setPointsPolicy(input: {rounding: HALF_UP, idempotencyKey: "r1"}) { __typename } }',
        auth=admin,
    )
    assert body["data"]["setPointsPolicy"]["__typename"] == "SetPointsPolicySuccess"
    read = await gql("{ pointsPolicy { rounding } }", auth=admin)
    assert read["data"]["pointsPolicy"]["rounding"] == "HALF_UP"
    await gql(
        'mutation { registerMember(input: {externalId: "half", displayName: "H", idempotencyKey: "r"}) { __typename } }',
        auth=admin,
    )
    # when a line earns exactly 2.5 points (1.25 yuan at 2 per yuan), previewed and booked
    order = '{orderId: "half-1", memberExternalId: "half", placedAt: "2020-01-01T00:00:00+00:00", lines: [{sku: "a", category: "c", unitPrice: 125, quantity: 1}], payments: [{method: CARD, amount: 125}]'
    preview = await gql(f"query {{ previewOrderPoints(input: {order}}}) {{ total }} }}", auth=admin)
    booked = await gql(
        f'mutation {{ recordOrder(input: {order}, idempotencyKey: "o"}}) {{ ... on OrderSuccess {{ order {{ points }} }} }} }}',
        auth=admin,
    )
    # then both round the half up
    assert preview["data"]["previewOrderPoints"]["total"] == 3
    assert booked["data"]["recordOrder"]["order"]["points"] == 3
