"""What an integrator tripped over writing a client from the README and the SDL alone
(issue 14, point 6)."""

from __future__ import annotations

from domain.auth import Role
from domain.clock import ProgrammeMode
from domain.points import NEUTRAL_POLICY, PointsPolicy
from services import programmes as programme_service
from services.points.ledger import policy_of
from tests.graphql.coupons.documents import CLAIM, LOCK
from tests.graphql.coupons.helpers import (
    cart_line,
    claimed,
    create_template,
    errors_of,
    grant,
    validate,
    wallet_codes,
)
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


async def test_the_deprecated_cash_pair_and_the_redemption_rate_must_agree(
    gql, programme, make_key
):
    """Both spellings in one input: the rule every other old/new pair follows (README,
    "Addressing") is one value or an error, never one silently winning over the other."""
    # given
    admin = await make_key(programme, Role.ADMIN)
    before = (await gql(f"{{ pointsPolicy {{ {POLICY_FIELDS} }} }}", auth=admin))["data"]
    # when the old pair says 10 points pay 0.30 and the new rate says 50 pay 1.00
    changed = await mutate(
        gql,
        SET_POLICY,
        "setPointsPolicy",
        admin,
        pointsPerCash=10,
        cashPerPoints=30,
        redemptionRate={"points": 50, "cashValue": 100},
    )
    # then it is refused as data, and nothing changed
    assert changed["__typename"] == "SetPointsPolicyError", changed
    assert changed["errors"][0]["field"] == "redemptionRate"
    after = (await gql(f"{{ pointsPolicy {{ {POLICY_FIELDS} }} }}", auth=admin))["data"]
    assert after == before
    # and the same rate given both ways is fine
    agreed = await mutate(
        gql,
        SET_POLICY,
        "setPointsPolicy",
        admin,
        pointsPerCash=50,
        redemptionRate={"points": 50, "cashValue": 100},
    )
    assert agreed["pointsPolicy"]["redemptionRate"] == {"points": 50, "cashValue": 100}


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


# ---- one addressing rule: the shop's own keys, memberExternalId everywhere, one cart input


async def test_templates_are_addressed_by_their_code(gql, programme, make_member, make_key):
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    template = await create_template(gql, admin)
    # claimed by code
    by_code = await mutate(
        gql,
        CLAIM,
        "claimCoupon",
        storefront,
        templateCode=template["code"],
        memberExternalId=member.external_id,
    )
    assert by_code["__typename"] == "CouponSuccess", by_code
    # granted by code
    granted = await grant(gql, admin, template["id"], [member.external_id])
    assert granted["__typename"] == "GrantCouponsSuccess", granted  # the old id still works
    # an unknown code is an error result on its field, and nothing changes
    unknown = await mutate(
        gql,
        CLAIM,
        "claimCoupon",
        storefront,
        templateCode="NOPE",
        memberExternalId=member.external_id,
    )
    assert errors_of(unknown) == [("templateCode", "NOT_FOUND")]
    neither = await mutate(
        gql, CLAIM, "claimCoupon", storefront, memberExternalId=member.external_id
    )
    assert errors_of(neither) == [("templateCode", "VALIDATION")]
    assert len(await wallet_codes(gql, admin, member.external_id)) == 2


UPDATE = """
mutation ($input: UpdateMemberInput!) {
  updateMember(input: $input) {
    __typename
    ... on UpdateMemberSuccess { member { externalId displayName } }
    ... on UpdateMemberError { errors { field code } }
  }
}
"""
TOKEN = """
mutation ($input: IssueMemberTokenInput!) {
  issueMemberToken(input: $input) {
    __typename
    ... on IssueMemberTokenError { errors { field code } }
  }
}
"""


async def test_members_are_memberexternalid_in_every_input(gql, programme, make_member, make_key):
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    member, other = await make_member(programme), await make_member(programme)
    named = {"memberExternalId": member.external_id, "displayName": "New Name"}
    updated = (await gql(UPDATE, {"input": named}, auth=admin))["data"]["updateMember"]
    assert updated["member"] == {"externalId": member.external_id, "displayName": "New Name"}
    token = await gql(TOKEN, {"input": {"memberExternalId": member.external_id}}, auth=storefront)
    assert token["data"]["issueMemberToken"]["__typename"] == "IssueMemberTokenSuccess", token
    # two different members under the two names: refused, nothing changed
    both = {**named, "externalId": other.external_id, "displayName": "Clash"}
    refused = (await gql(UPDATE, {"input": both}, auth=admin))["data"]["updateMember"]
    assert refused["errors"] == [{"field": "memberExternalId", "code": "VALIDATION"}]
    body = await gql(
        "query ($e: String!) { member(externalId: $e) { displayName } }",
        {"e": other.external_id},
        auth=admin,
    )
    assert body["data"]["member"]["displayName"] != "Clash"


async def test_lock_coupon_takes_the_cart_validate_coupons_takes(
    gql, programme, make_member, make_key
):
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    member, other = await make_member(programme), await make_member(programme)
    template = await create_template(gql, admin)
    coupon = await claimed(gql, storefront, template["id"], member.external_id)
    cart = {"lines": [cart_line(unit_price=12_000)], "memberExternalId": member.external_id}
    # the cart of validateCoupons, as is
    checked = await validate(
        gql, storefront, [coupon["code"]], cart["lines"], member=member.external_id
    )
    assert checked["__typename"] == "CouponValidation", checked
    # someone else's cart is refused
    foreign = await mutate(
        gql,
        LOCK,
        "lockCoupon",
        storefront,
        code=coupon["code"],
        orderId="o-1",
        checkoutCart={**cart, "memberExternalId": other.external_id},
    )
    assert errors_of(foreign) == [("checkoutCart.memberExternalId", "NOT_OWNER")]
    locked = await mutate(
        gql, LOCK, "lockCoupon", storefront, code=coupon["code"], orderId="o-1", checkoutCart=cart
    )
    assert locked["__typename"] == "CouponSuccess", locked
    assert locked["coupon"]["status"] == "LOCKED"
