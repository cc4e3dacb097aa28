"""Issue 4's seed programmes as scenarios through GraphQL, driven by the test clock."""

from __future__ import annotations

import itertools

import pytest

from db.models import Programme
from domain.auth import Role
from services.jobs import JobReport, run_programme

YUAN = 100
_n = itertools.count(1)

UPSERT_TIER = """mutation ($i: UpsertTierInput!) { upsertTier(input: $i) { __typename ... on UpsertTierError { errors { field code message } } } }"""
UPSERT_BENEFIT = (
    """mutation ($i: UpsertBenefitInput!) { upsertBenefit(input: $i) { __typename } }"""
)
SET_POLICY = """mutation ($i: SetTierPolicyInput!) { setTierPolicy(input: $i) { __typename ... on SetTierPolicyError { errors { field code } } } }"""
REGISTER = """mutation ($e: String!) { registerMember(input: {externalId: $e, displayName: "Scenario", idempotencyKey: $e}) { __typename } }"""
RECORD = """mutation ($i: RecordOrderInput!) { recordOrder(input: $i) { __typename ... on OrderSuccess { order { points } } ... on RecordOrderError { errors { code message } } } }"""
COMPLETE = """mutation ($o: String!, $k: String!) { completeOrder(input: {orderId: $o, idempotencyKey: $k}) { __typename } }"""
RETURN = """mutation ($o: String!, $k: String!) { returnOrderLines(input: {orderId: $o, lines: [{sku: "item", quantity: 1}], idempotencyKey: $k}) { __typename } }"""
ADVANCE = """mutation ($d: Int!, $k: String!) { advanceTestClock(input: {days: $d, idempotencyKey: $k}) { __typename } }"""
NOW = "{ programme { now } }"
PAGE = """query ($e: String!) { member(externalId: $e) { tier { code } tierValidUntil
  tierProgress { nextTier { code } amountToNext amountToRetain willDowngradeTo { code } }
  tierHistory(first: 10) { edges { node { from { code } to { code } reason } } }
  benefits { code } } }"""


class Shop:
    def __init__(self, gql, key: str, programme: Programme) -> None:
        self.gql, self.key, self.programme = gql, key, programme

    async def call(self, query: str, **variables):
        body = await self.gql(query, variables, auth=self.key)
        assert "errors" not in body, body
        return body["data"]

    async def ladder(self, tiers: list[tuple[str, int, int | None]]) -> None:
        for rank, (code, entry, retention) in enumerate(tiers):
            result = await self.call(
                UPSERT_TIER,
                i={
                    "code": code,
                    "name": code.title(),
                    "rank": rank,
                    "entryThreshold": entry * YUAN,
                    "retentionThreshold": retention * YUAN if retention is not None else None,
                    "idempotencyKey": f"t-{code}",
                },
            )
            assert result["upsertTier"]["__typename"] == "UpsertTierSuccess", result

    async def benefit(self, tier: str, code: str, kind: str, value: int) -> None:
        await self.call(
            UPSERT_BENEFIT,
            i={
                "tierCode": tier,
                "code": code,
                "title": code,
                "kind": kind,
                "value": value,
                "idempotencyKey": f"b-{tier}-{code}",
            },
        )

    async def policy(self, **fields) -> None:
        result = await self.call(SET_POLICY, i={**fields, "idempotencyKey": f"p-{next(_n)}"})
        assert result["setTierPolicy"]["__typename"] == "SetTierPolicySuccess", result

    async def buy(
        self, member: str, yuan: int, *, complete: bool = True, same_instant: bool = False
    ) -> tuple[str, int]:
        if not same_instant:
            await self.days(1)  # purchases fall on different days, as in life
        order = f"o-{next(_n)}"
        now = (await self.call(NOW))["programme"]["now"]
        result = await self.call(
            RECORD,
            i={
                "orderId": order,
                "memberExternalId": member,
                "placedAt": now,
                "lines": [
                    {"sku": "item", "category": "general", "unitPrice": yuan * YUAN, "quantity": 1}
                ],
                "payments": [{"method": "CARD", "amount": yuan * YUAN}],
                "idempotencyKey": order,
            },
        )
        assert result["recordOrder"]["__typename"] == "OrderSuccess", result
        if complete:
            await self.call(COMPLETE, o=order, k=f"c-{order}")
        return order, result["recordOrder"]["order"]["points"]

    async def give_back(self, order: str) -> None:
        await self.call(RETURN, o=order, k=f"r-{order}")

    async def days(self, days: int) -> None:
        await self.call(ADVANCE, d=days, k=f"a-{next(_n)}")
        await run_programme(await Programme.get(id=self.programme.id), JobReport())

    async def page(self, member: str) -> dict:
        return (await self.call(PAGE, e=member))["member"]

    async def tier(self, member: str) -> str:
        return (await self.page(member))["tier"]["code"]


async def shop_for(gql, make_programme, make_key) -> Shop:
    programme = await make_programme()
    return Shop(gql, await make_key(programme, Role.ADMIN), programme)


async def test_taobao_six_tiers_by_lifetime_spend(gql, make_programme, make_key):
    shop = await shop_for(gql, make_programme, make_key)
    await shop.ladder(
        [
            ("MEMBER", 0, None),
            ("SILVER", 100, None),
            ("GOLD", 500, None),
            ("DIAMOND", 1_000, None),
            ("CROWN", 3_000, None),
            ("SUPER", 10_000, None),
        ]
    )
    await shop.call(REGISTER, e="buyer")
    assert await shop.tier("buyer") == "MEMBER"
    # pending orders do not count; completion upgrades at once
    order, _ = await shop.buy("buyer", 120, complete=False)
    assert await shop.tier("buyer") == "MEMBER"
    await shop.call(COMPLETE, o=order, k="c1")
    assert await shop.tier("buyer") == "SILVER"
    await shop.buy("buyer", 2_900)  # 3,020 lifetime: straight past Gold and Diamond
    page = await shop.page("buyer")
    assert page["tier"]["code"] == "CROWN"
    assert page["tierProgress"]["nextTier"]["code"] == "SUPER"
    assert page["tierProgress"]["amountToNext"] == (10_000 - 3_020) * YUAN
    assert [e["node"]["to"]["code"] for e in page["tierHistory"]["edges"]] == ["CROWN", "SILVER"]
    # lifetime spend never lapses: two years on, still Crown
    await shop.days(800)
    assert await shop.tier("buyer") == "CROWN"
    # a return of what earned Crown re-evaluates at once
    big = (await shop.buy("buyer", 8_000))[0]
    assert await shop.tier("buyer") == "SUPER"
    await shop.give_back(big)
    page = await shop.page("buyer")
    assert page["tier"]["code"] == "CROWN"
    assert page["tierHistory"]["edges"][0]["node"]["reason"] == "ORDER_RETURNED"


async def test_vancl_vip_and_svip(gql, make_programme, make_key):
    shop = await shop_for(gql, make_programme, make_key)
    await shop.ladder([("NORMAL", 0, None), ("VIP", 2_000, 1_000), ("SVIP", 2_500, 2_500)])
    await shop.benefit("VIP", "POINTS", "POINTS_MULTIPLIER", 15_000)
    await shop.benefit("VIP", "PRICE", "MEMBER_PRICE", 9_800)
    await shop.benefit("SVIP", "POINTS", "POINTS_MULTIPLIER", 20_000)
    await shop.benefit("SVIP", "PRICE", "MEMBER_PRICE", 9_500)
    await shop.policy(window="VALIDITY", validityMonths=12, resetOnChange=True)
    await shop.call(REGISTER, e="fan")
    # 2,000 cumulative -> VIP
    await shop.buy("fan", 1_200)
    await shop.buy("fan", 800)
    assert await shop.tier("fan") == "VIP"
    # VIP earns 1.5x: 100 yuan full price = 200 points -> 300
    _, points = await shop.buy("fan", 100)
    assert points == 300
    quote = await shop.call("""query { quoteMemberPrice(input: {memberExternalId: "fan", lines: [
        {sku: "a", unitPrice: 10000, quantity: 1}, {sku: "b", unitPrice: 5000, quantity: 1, discounted: true}]})
        { memberSubtotal memberPriceRate } }""")
    assert quote["quoteMemberPrice"] == {"memberSubtotal": 9_800 + 5_000, "memberPriceRate": 9_800}
    # 2,500 within VIP's validity (the accumulator restarted at VIP) -> SVIP
    await shop.buy("fan", 2_400)
    assert await shop.tier("fan") == "SVIP"
    _, points = await shop.buy("fan", 100)
    assert points == 400  # 2x
    # a year as SVIP with only 1,200 -> VIP
    await shop.buy("fan", 1_100)  # with the 100 above: 1,200 in the SVIP year
    await shop.days(366)
    assert await shop.tier("fan") == "VIP"
    # a year as VIP with under 1,000 -> NORMAL
    await shop.buy("fan", 900)
    await shop.days(366)
    page = await shop.page("fan")
    assert page["tier"]["code"] == "NORMAL" and page["tierValidUntil"] is None
    assert [e["node"]["reason"] for e in page["tierHistory"]["edges"]][:2] == [
        "PERIOD_ENDED",
        "PERIOD_ENDED",
    ]


async def test_vancl_vip_who_keeps_buying_keeps_vip(gql, make_programme, make_key):
    shop = await shop_for(gql, make_programme, make_key)
    await shop.ladder([("NORMAL", 0, None), ("VIP", 2_000, 1_000), ("SVIP", 2_500, 2_500)])
    await shop.policy(window="VALIDITY", validityMonths=12, resetOnChange=True)
    await shop.call(REGISTER, e="loyal")
    await shop.buy("loyal", 2_000)
    await shop.buy("loyal", 300)  # after the reset: does not demote
    assert await shop.tier("loyal") == "VIP"
    page = await shop.page("loyal")
    assert page["tierProgress"]["amountToRetain"] == 700 * YUAN
    assert page["tierProgress"]["willDowngradeTo"]["code"] == "NORMAL"
    await shop.buy("loyal", 700)
    await shop.days(366)
    assert await shop.tier("loyal") == "VIP"


async def test_quarterly_rule_re_evaluated_monthly(gql, make_programme, make_key):
    shop = await shop_for(gql, make_programme, make_key)
    await shop.ladder([("NORMAL", 0, None), ("VIP", 800, 800), ("SVIP", 1_500, 1_500)])
    await shop.policy(window="ROLLING_MONTHS", windowMonths=3, validityMonths=1)
    await shop.call(REGISTER, e="q")
    await shop.buy("q", 900)  # day 1: 900 in the last three months -> VIP at once
    assert await shop.tier("q") == "VIP"
    await shop.days(44)  # the month-end re-evaluation (about day 31) keeps VIP
    assert await shop.tier("q") == "VIP"
    await shop.buy("q", 700)  # day 46: 1,600 -> SVIP
    assert await shop.tier("q") == "SVIP"
    await shop.buy("q", 200)  # day 47
    await shop.days(63)  # day 110: kept at ~day 76; at ~day 107 the day-1 900 has left: 900 -> VIP
    page = await shop.page("q")
    assert page["tier"]["code"] == "VIP"
    assert page["tierHistory"]["edges"][0]["node"]["reason"] == "PERIOD_ENDED"
    await shop.days(120)  # day 230: the window is empty -> NORMAL
    assert await shop.tier("q") == "NORMAL"


async def test_invalid_tier_policies_are_validation_errors(gql, make_programme, make_key):
    shop = await shop_for(gql, make_programme, make_key)
    for n, (fields, field) in enumerate(
        [
            ({"validityMonths": 0}, "validityMonths"),
            ({"window": "ROLLING_MONTHS", "windowMonths": 0}, "windowMonths"),
        ]
    ):
        body = await gql(SET_POLICY, {"i": {**fields, "idempotencyKey": f"bad-{n}"}}, auth=shop.key)
        assert body["data"]["setTierPolicy"]["errors"][0] == {"field": field, "code": "VALIDATION"}
    storefront = await make_key(shop.programme, Role.STOREFRONT)
    body = await gql(
        SET_POLICY, {"i": {"validityMonths": 3, "idempotencyKey": "x"}}, auth=storefront
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_order_count_and_growth_metrics(gql, make_programme, make_key):
    # ORDER_COUNT: thresholds count completed orders; a fully returned order stops counting
    shop = await shop_for(gql, make_programme, make_key)
    await shop.ladder([("NEW", 0, None)])
    await shop.call(
        UPSERT_TIER,
        i={
            "code": "REGULAR",
            "name": "Regular",
            "rank": 1,
            "entryThreshold": 3,
            "idempotencyKey": "t-regular",
        },
    )
    await shop.policy(metric="ORDER_COUNT")
    await shop.call(REGISTER, e="c")
    await shop.buy("c", 10)
    await shop.buy("c", 10)
    assert await shop.tier("c") == "NEW"
    third, _ = await shop.buy("c", 10)
    assert await shop.tier("c") == "REGULAR"
    await shop.give_back(third)
    assert await shop.tier("c") == "NEW"
    # GROWTH: one growth point per yuan of completed spend
    growth = await shop_for(gql, make_programme, make_key)
    await growth.ladder([("SEED", 0, None)])
    await growth.call(
        UPSERT_TIER,
        i={
            "code": "SPROUT",
            "name": "Sprout",
            "rank": 1,
            "entryThreshold": 150,
            "idempotencyKey": "t-sprout",
        },
    )
    await growth.policy(metric="GROWTH")
    await growth.call(REGISTER, e="g")
    await growth.buy("g", 149)
    assert await growth.tier("g") == "SEED"
    await growth.buy("g", 1)
    assert await growth.tier("g") == "SPROUT"


async def test_free_shipping_and_member_price_only_on_full_price_lines(
    gql, make_programme, make_key
):
    shop = await shop_for(gql, make_programme, make_key)
    await shop.ladder([("BASIC", 0, None)])
    await shop.benefit("BASIC", "SHIP", "FREE_SHIPPING", 0)
    await shop.benefit("BASIC", "PRICE", "MEMBER_PRICE", 9_500)
    await shop.call(REGISTER, e="s")
    quote = (
        await shop.call("""query { quoteMemberPrice(input: {memberExternalId: "s", shippingFee: 1200,
        lines: [{sku: "full", unitPrice: 1999, quantity: 3}, {sku: "sale", unitPrice: 1000, quantity: 1, discounted: true}]})
        { lines { sku amount memberAmount } subtotal memberSubtotal shippingFee memberShippingFee total } }""")
    )["quoteMemberPrice"]
    # 5997 x 95% = 5697.15 -> 5697 (half down); the sale line is not discounted again
    assert quote["lines"] == [
        {"sku": "full", "amount": 5_997, "memberAmount": 5_697},
        {"sku": "sale", "amount": 1_000, "memberAmount": 1_000},
    ]
    assert (quote["memberSubtotal"], quote["memberShippingFee"], quote["total"]) == (
        6_697,
        0,
        6_697,
    )


@pytest.mark.parametrize("step", [370, 10], ids=["one-jump", "small-steps"])
async def test_an_order_placed_within_a_period_counts_in_it_however_often_jobs_run(
    gql, make_programme, make_key, step
):
    # given Gold held for a 12-month validity period, kept with 300 in the period
    shop = await shop_for(gql, make_programme, make_key)
    await shop.ladder([("BRONZE", 0, None), ("SILVER", 100, None), ("GOLD", 500, 300)])
    await shop.policy(window="VALIDITY", validityMonths=12)
    await shop.call(REGISTER, e="buyer")
    await shop.buy("buyer", 500)
    assert await shop.tier("buyer") == "GOLD"
    # and, on day 180 of the period, an order of 300 left to complete by the return window
    await shop.days(179)
    await shop.buy("buyer", 300, complete=False)
    # when the clock reaches day 370, in one jump or in small steps, with jobs after each
    for _ in range(0, 370 - 180, step):
        await shop.days(min(step, 370 - 180))
    # then the order counted in the period it matured in, and Gold was kept
    assert await shop.tier("buyer") == "GOLD"
