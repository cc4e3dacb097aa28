"""What an integrator tripped over writing a client from the README and the SDL alone
(issue 14, point 6)."""

from __future__ import annotations

from domain.auth import Role
from domain.clock import ProgrammeMode
from domain.points import NEUTRAL_POLICY, PointsPolicy
from services import programmes as programme_service
from services.points.ledger import policy_of
from tests.graphql.points.helpers import advance, fund, line, mutate, new_key, parse, programme_now

HOLD = """
mutation ($input: HoldPointsInput!) {
  holdPoints(input: $input) {
    __typename
    ... on HoldSuccess { hold { id amount status cashValue } }
    ... on HoldPointsError { errors { field code message } }
  }
}
"""
POLICY_FIELDS = """
  fullPriceRate { points perMinorUnits } discountedRate { points perMinorUnits }
  redemptionRate { points cashValue } pointsPerCash cashPerPoints categoryBonuses { category }
"""
SET_POLICY = f"""
mutation ($input: SetPointsPolicyInput!) {{
  setPointsPolicy(input: $input) {{
    __typename
    ... on SetPointsPolicySuccess {{ pointsPolicy {{ {POLICY_FIELDS} }} }}
    ... on SetPointsPolicyError {{ errors {{ field code message }} }}
  }}
}}
"""


async def test_a_hold_says_what_its_points_pay_at_checkout(gql, programme, make_member, make_key):
    # given the demo rate (100 points pay 2.00) and a member with 500 points
    admin, storefront = (
        await make_key(programme, Role.ADMIN),
        await make_key(programme, Role.STOREFRONT),
    )
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 500)
    # when 250 are held
    held = await mutate(
        gql,
        HOLD,
        "holdPoints",
        storefront,
        memberExternalId=member.external_id,
        amount=250,
        orderId="c-1",
    )
    # then the hold carries its cash value in minor units: 250 points = 5.00
    assert held["__typename"] == "HoldSuccess", held
    assert held["hold"]["cashValue"] == 500
    assert held["hold"]["status"] == "HELD"


async def test_rates_read_back_as_they_were_set(gql, programme, make_key):
    admin = await make_key(programme, Role.ADMIN)
    # when an admin sets 4 points per 200 minor units and 50 points paying 100 minor units
    changed = await mutate(
        gql,
        SET_POLICY,
        "setPointsPolicy",
        admin,
        fullPriceRate={"points": 4, "perMinorUnits": 200},
        redemptionRate={"points": 50, "cashValue": 100},
    )
    # then both come back as set, not reduced to 1 per 50 and 1 for 2
    assert changed["__typename"] == "SetPointsPolicySuccess", changed
    policy = changed["pointsPolicy"]
    assert policy["fullPriceRate"] == {"points": 4, "perMinorUnits": 200}
    assert policy["redemptionRate"] == {"points": 50, "cashValue": 100}
    # and read again later, still as set; the deprecated pair still answers
    body = await gql(f"{{ pointsPolicy {{ {POLICY_FIELDS} }} }}", auth=admin)
    again = body["data"]["pointsPolicy"]
    assert again["fullPriceRate"] == {"points": 4, "perMinorUnits": 200}
    assert (again["pointsPerCash"], again["cashPerPoints"]) == (50, 100)


async def test_the_deprecated_cash_pair_still_sets_the_redemption_rate(gql, programme, make_key):
    admin = await make_key(programme, Role.ADMIN)
    changed = await mutate(
        gql, SET_POLICY, "setPointsPolicy", admin, pointsPerCash=10, cashPerPoints=30
    )
    assert changed["pointsPolicy"]["redemptionRate"] == {"points": 10, "cashValue": 30}


async def test_a_new_programme_starts_from_the_neutral_policy(gql, make_key):
    # given a programme made the way `loyalty create-programme` makes one (no policy given)
    made = await programme_service.create(
        code=f"n-{new_key()[:12]}", name="New Shop", currency="CNY", mode=ProgrammeMode.LIVE
    )
    # then its policy is the neutral one: no category bonus, one point per major unit
    assert policy_of(made) == NEUTRAL_POLICY
    body = await gql(f"{{ pointsPolicy {{ {POLICY_FIELDS} }} }}", auth=await make_key(made))
    policy = body["data"]["pointsPolicy"]
    assert policy["categoryBonuses"] == []
    assert policy["fullPriceRate"] == {"points": 1, "perMinorUnits": 100}
    assert policy["redemptionRate"] == {"points": 100, "cashValue": 100}
    # and the demo's own policy is still the demo's
    assert dict(PointsPolicy().category_bonus) == {"appliances": 5}


RECORD = """
mutation ($input: RecordOrderInput!) {
  recordOrder(input: $input) {
    __typename
    ... on OrderSuccess { order { orderId status placedAt points } }
    ... on RecordOrderError { errors { field code message } }
  }
}
"""


async def test_an_order_without_placed_at_is_placed_now_by_the_programmes_clock(
    gql, programme, make_member, make_key
):
    # given a sandbox programme whose clock is 40 days ahead of the wall clock
    admin = await make_key(programme, Role.ADMIN)
    await advance(gql, admin, days=40)
    now = await programme_now(gql, admin)
    member = await make_member(programme)
    order = {
        "orderId": "no-date-1",
        "memberExternalId": member.external_id,
        "lines": [line(unit_price=10_000)],
        "payments": [{"method": "CARD", "amount": 10_000}],
        "idempotencyKey": new_key(),
    }
    # when it is recorded without placedAt
    first = (await gql(RECORD, {"input": order}, auth=admin))["data"]["recordOrder"]
    # then it is placed at the programme's now, not the wall clock's
    assert first["__typename"] == "OrderSuccess", first
    assert parse(first["order"]["placedAt"]) == parse(now)
    assert first["order"]["status"] == "PENDING"
    # and a retry a minute later with the same key is the same request, not a reused key
    await advance(gql, admin, seconds=60)
    again = (await gql(RECORD, {"input": order}, auth=admin))["data"]["recordOrder"]
    assert again == first


SET_TIER_METRIC = """
mutation ($metric: TierMetric!, $key: String!) {
  setTierPolicy(input: {metric: $metric, idempotencyKey: $key}) { __typename }
}
"""


async def test_a_tier_says_what_its_threshold_counts(gql, programme, make_key):
    admin = await make_key(programme, Role.ADMIN)
    seen = {}
    for metric in ("SPEND", "ORDER_COUNT", "GROWTH"):
        changed = await gql(SET_TIER_METRIC, {"metric": metric, "key": new_key()}, auth=admin)
        assert changed["data"]["setTierPolicy"]["__typename"] == "SetTierPolicySuccess", changed
        body = await gql(
            "{ programme { tiers { code entryThreshold thresholdUnit } } }", auth=admin
        )
        seen[metric] = {t["thresholdUnit"] for t in body["data"]["programme"]["tiers"]}
    assert seen == {
        "SPEND": {"MINOR_UNITS"},
        "ORDER_COUNT": {"ORDERS"},
        "GROWTH": {"GROWTH_POINTS"},
    }
