"""Tier edge cases found by a second reading, as scenarios on the test clock."""

from __future__ import annotations

from domain.auth import Role
from tests.graphql.test_tier_scenarios import REGISTER, Shop, shop_for

TAOBAO = [
    ("MEMBER", 0, None),
    ("SILVER", 100, None),
    ("GOLD", 500, None),
    ("DIAMOND", 1_000, None),
    ("CROWN", 3_000, None),
    ("SUPER", 10_000, None),
]
VANCL = [("NORMAL", 0, None), ("VIP", 2_000, 1_000), ("SVIP", 2_500, 2_500)]


async def vancl(gql, make_programme, make_key) -> Shop:
    shop = await shop_for(gql, make_programme, make_key)
    await shop.ladder(VANCL)
    await shop.policy(window="VALIDITY", validityMonths=12, resetOnChange=True)
    return shop


async def test_a_return_never_drops_below_what_the_total_now_earns(gql, make_programme, make_key):
    shop = await shop_for(gql, make_programme, make_key)
    await shop.ladder(TAOBAO)
    await shop.call(REGISTER, e="m")
    await shop.buy("m", 120)
    crown, _ = await shop.buy("m", 2_900)
    await shop.buy("m", 5_000)  # 8,020 lifetime
    await shop.give_back(crown)  # 5,120 lifetime: still Crown
    assert await shop.tier("m") == "CROWN"


async def test_returning_an_order_that_helped_make_svip_drops_back_to_vip(
    gql, make_programme, make_key
):
    shop = await vancl(gql, make_programme, make_key)
    await shop.call(REGISTER, e="m")
    await shop.buy("m", 2_000)
    early, _ = await shop.buy("m", 100)  # after VIP: counts towards SVIP
    await shop.buy("m", 2_400)  # 2,500 within VIP's validity -> SVIP
    assert await shop.tier("m") == "SVIP"
    await shop.give_back(early)  # it helped make SVIP (100 + 2,400): SVIP no longer holds
    assert await shop.tier("m") == "VIP"


async def test_a_return_of_an_order_before_vip_does_not_touch_svip(gql, make_programme, make_key):
    shop = await vancl(gql, make_programme, make_key)
    await shop.call(REGISTER, e="m")
    first, _ = await shop.buy("m", 100)
    await shop.buy("m", 1_900)  # 2,000 -> VIP
    await shop.buy("m", 2_500)  # 2,500 after the reset -> SVIP
    assert await shop.tier("m") == "SVIP"
    await shop.give_back(first)  # counted for VIP, not for SVIP
    assert await shop.tier("m") == "SVIP"


async def test_a_return_after_a_period_end_is_judged_by_retention(gql, make_programme, make_key):
    shop = await vancl(gql, make_programme, make_key)
    await shop.call(REGISTER, e="m")
    await shop.buy("m", 2_000)
    await shop.buy("m", 2_500)  # SVIP
    small, _ = await shop.buy("m", 50)
    await shop.buy("m", 1_150)  # 1,200 in the SVIP year
    await shop.days(366)
    assert await shop.tier("m") == "VIP"
    await shop.give_back(small)  # 1,150 still keeps VIP's retention of 1,000
    assert await shop.tier("m") == "VIP"


async def test_the_entry_tier_accumulates_across_years(gql, make_programme, make_key):
    shop = await vancl(gql, make_programme, make_key)
    await shop.call(REGISTER, e="m")
    await shop.buy("m", 1_500)
    await shop.days(366)
    await shop.buy("m", 600)  # 2,100 cumulative
    assert await shop.tier("m") == "VIP"


async def test_a_late_job_judges_each_period_on_its_own_activity(gql, make_programme, make_key):
    shop = await shop_for(gql, make_programme, make_key)
    await shop.ladder([("NORMAL", 0, None), ("VIP", 800, 500)])
    await shop.policy(window="ROLLING_MONTHS", windowMonths=3, validityMonths=1)
    await shop.call(REGISTER, e="m")
    await shop.buy("m", 900)
    # 200 days pass with no job run, then a purchase, then the job
    await shop.call(
        """mutation { advanceTestClock(input: {days: 200, idempotencyKey: "jump"}) { __typename } }"""
    )
    await shop.buy("m", 600, same_instant=True)  # after the window emptied; 600 < 800 entry
    await shop.days(0)
    assert await shop.tier("m") == "NORMAL"


async def test_activity_at_the_instant_of_a_change_still_counts_after_it(
    gql, make_programme, make_key
):
    shop = await vancl(gql, make_programme, make_key)
    await shop.call(REGISTER, e="m")
    await shop.buy("m", 2_000)  # VIP at instant T
    await shop.buy("m", 1_000, same_instant=True)  # also at T, after the change
    page = await shop.page("m")
    assert page["tier"]["code"] == "VIP"
    assert page["tierProgress"]["amountToRetain"] == 0
    await shop.days(366)
    assert await shop.tier("m") == "VIP"


async def test_rolling_progress_matches_what_the_job_will_judge(gql, make_programme, make_key):
    shop = await shop_for(gql, make_programme, make_key)
    await shop.ladder([("NORMAL", 0, None), ("VIP", 800, 800)])
    await shop.policy(window="ROLLING_MONTHS", windowMonths=3, validityMonths=1)
    await shop.call(REGISTER, e="m")
    await shop.buy("m", 900)
    progress = (await shop.page("m"))["tierProgress"]
    assert progress["amountToRetain"] == 0 and progress["willDowngradeTo"] is None


async def test_members_who_joined_before_the_ladder_start_in_its_entry_tier(
    gql, make_programme, make_key
):
    programme = await make_programme()
    shop = Shop(gql, await make_key(programme, Role.ADMIN), programme)
    await shop.call(REGISTER, e="early")
    assert (await shop.page("early"))["tier"] is None
    await shop.ladder([("BASE", 0, None), ("TOP", 1_000, None)])
    await shop.benefit("BASE", "SHIP", "FREE_SHIPPING", 0)
    page = await shop.page("early")
    assert page["tier"]["code"] == "BASE" and page["benefits"] == [{"code": "SHIP"}]


async def test_reviews_grow_the_growth_metric(gql, make_programme, make_key):
    shop = await shop_for(gql, make_programme, make_key)
    await shop.ladder([("SEED", 0, None)])
    await shop.call(
        """mutation { upsertTier(input: {code: "SPROUT", name: "Sprout", rank: 1, entryThreshold: 60, idempotencyKey: "sp"}) { __typename } }"""
    )
    await shop.policy(metric="GROWTH")
    await shop.call(REGISTER, e="m")
    order, _ = await shop.buy("m", 55)  # 55 growth
    assert await shop.tier("m") == "SEED"
    await shop.call(
        """mutation ($o: String!) { rewardReview(input: {orderId: $o, sku: "item", idempotencyKey: "rv"}) { __typename } }""",
        o=order,
    )
    assert await shop.tier("m") == "SPROUT"  # 55 + 10 review growth


async def test_points_paid_at_checkout_are_not_qualifying_spend(gql, make_programme, make_key):
    shop = await shop_for(gql, make_programme, make_key)
    await shop.ladder(TAOBAO)
    await shop.call(REGISTER, e="m")
    now = (await shop.call("{ programme { now } }"))["programme"]["now"]
    await shop.call(
        """mutation ($i: RecordOrderInput!) { recordOrder(input: $i) { __typename } }""",
        i={
            "orderId": "mixed",
            "memberExternalId": "m",
            "placedAt": now,
            "lines": [
                {"sku": "item", "category": "general", "unitPrice": 600 * 100, "quantity": 1}
            ],
            "payments": [
                {"method": "CARD", "amount": 400 * 100},
                {"method": "POINTS", "amount": 200 * 100},
            ],
            "idempotencyKey": "mixed",
        },
    )
    await shop.call(
        """mutation { completeOrder(input: {orderId: "mixed", idempotencyKey: "c"}) { __typename } }"""
    )
    # 400 paid, not 600: Silver, not Gold
    page = await shop.page("m")
    assert page["tier"]["code"] == "SILVER"
    assert page["tierProgress"]["amountToNext"] == 100 * 100


async def test_a_return_after_a_kept_period_judges_that_period_again(gql, make_programme, make_key):
    shop = await vancl(gql, make_programme, make_key)
    await shop.call(REGISTER, e="m")
    await shop.buy("m", 2_000)  # VIP
    kept_by, _ = await shop.buy("m", 1_000)  # meets VIP's retention of 1,000
    await shop.days(366)
    assert await shop.tier("m") == "VIP"  # kept for a second year
    await shop.give_back(kept_by)  # without it the first year had nothing: not kept
    page = await shop.page("m")
    assert page["tier"]["code"] == "NORMAL"
    assert page["tierHistory"]["edges"][0]["node"]["reason"] == "ORDER_RETURNED"


async def test_monthly_periods_from_a_month_end_keep_their_month_ends(
    gql, make_programme, make_key
):
    shop = await shop_for(gql, make_programme, make_key)
    await shop.ladder([("NORMAL", 0, None), ("VIP", 100, 0)])  # retention 0: always kept
    await shop.policy(validityMonths=1)
    await shop.call(REGISTER, e="m")
    await shop.call(
        """mutation { advanceTestClock(input: {to: "2027-01-30T12:00:00+00:00", idempotencyKey: "jan"}) { __typename } }"""
    )
    await shop.buy("m", 100)  # VIP on Jan 31
    assert (await shop.page("m"))["tierValidUntil"].startswith("2027-02-28")
    await shop.days(40)  # the Feb 28 period end keeps VIP; the next ends on Mar 31, not Mar 28
    page = await shop.page("m")
    assert page["tier"]["code"] == "VIP"
    assert page["tierValidUntil"].startswith("2027-03-31")
