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
    assert policy["fullPriceRate"] == {"points": 1, "perMinorUnits": 50}  # 2 per yuan, reduced
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
