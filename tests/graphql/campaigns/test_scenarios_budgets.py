"""Issue 19.5's scenarios, continued (see test_scenarios.py): a category boost with a budget, a
coupon for big baskets, and an exclusive campaign against stackable ones."""

from __future__ import annotations

from datetime import date

from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.campaigns.orders_helpers import campaign_rules
from tests.graphql.campaigns.scenes import YEAR, Shop, local, month_start, shown
from tests.graphql.coupons.helpers import create_template
from tests.graphql.points.helpers import line


def _appliance(sku: str, unit_price: int, quantity: int = 1) -> dict:
    return line(sku, unit_price, quantity, category="appliances")


async def test_appliances_triple_during_a_festival_until_the_budget_cannot_cover_an_order(
    gql, programme, make_member, make_key
):
    # given appliances x3 during the May Day festival, with a budget of 10,000 points
    shop = await Shop.open(gql, programme, make_key)
    alice, bob = await make_member(programme), await make_member(programme)
    await shop.clock_to(local(date(YEAR, 4, 20)))
    await shop.campaign(
        code="MAY-DAY-APPLIANCES",
        startsAt=local(date(YEAR, 5, 1), 0).isoformat(),
        endsAt=local(date(YEAR, 5, 6), 0).isoformat(),
        conditions={"categories": ["appliances"]},
        effects={"multiplier": 30_000},
        limits={"budget": 10_000},
    )
    now = await shop.clock_to(local(date(YEAR, 5, 2)))

    # when Alice buys two fridges and a mug
    order = shop.order(alice, now, _appliance("fridge", 100_000, 2), line("mug", 5_000))
    preview, booked = await shop.previewed_and_recorded(order)
    # then the fridges earn their base (2 x (2,000 + 5 category bonus)) twice more, the mug not
    assert campaign_rules(booked) == [("fridge", 8_020, "MAY-DAY-APPLIANCES")]
    assert [(x["sku"], x["points"]) for x in booked["lines"]] == [("fridge", 12_030), ("mug", 100)]
    assert shown(preview) == {"MAY-DAY-APPLIANCES": (True, 8_020, None)}
    assert (await shop.results("MAY-DAY-APPLIANCES"))["budgetLeft"] == 1_980
    # and the same request sent again answers the same order and spends nothing more
    assert await shop.record(order) == booked
    assert (await shop.results("MAY-DAY-APPLIANCES"))["budgetLeft"] == 1_980

    # when Bob buys a microwave whose 2,010 campaign points the 1,980 left cannot cover
    microwave = _appliance("microwave", 50_000)
    preview, booked = await shop.previewed_and_recorded(shop.order(bob, now, microwave))
    # then his order earns its base only, and the preview says why
    assert (booked["points"], campaign_rules(booked)) == (1_005, [])
    assert shown(preview) == {"MAY-DAY-APPLIANCES": (False, 0, "BUDGET_EXHAUSTED")}
    assert (await shop.results("MAY-DAY-APPLIANCES"))["budgetLeft"] == 1_980

    # when Alice returns one fridge
    returned = await shop.give_back(order, "fridge", 1)
    # then it takes back half the line, base and campaign alike, and the budget gets 4,010
    assert returned["lines"][0]["pointsReversed"] == (4_010 + 8_020) // 2
    assert (await shop.results("MAY-DAY-APPLIANCES"))["budgetLeft"] == 1_980 + 4_010
    assert await shop.points(alice) == (12_130 - 6_015, 0)

    # when Bob buys the microwave again
    preview, booked = await shop.previewed_and_recorded(shop.order(bob, now, microwave))
    # then the budget given back covers it
    assert campaign_rules(booked) == [("microwave", 2_010, "MAY-DAY-APPLIANCES")]
    assert shown(preview) == {"MAY-DAY-APPLIANCES": (True, 2_010, None)}

    # when the festival is over
    now = await shop.clock_to(local(date(YEAR, 5, 6), 9))
    preview, booked = await shop.previewed_and_recorded(shop.order(bob, now, microwave))
    # then appliances earn their base again
    assert (booked["points"], campaign_rules(booked)) == (1_005, [])
    assert shown(preview) == {"MAY-DAY-APPLIANCES": (False, 0, "OUTSIDE_SCHEDULE")}
    assert await shop.results("MAY-DAY-APPLIANCES") == {
        "pointsAwarded": 8_020 + 2_010,
        "pointsPending": 4_010 + 2_010,
        "pointsAvailable": 0,
        "pointsReversed": 4_010,
        "ordersRewarded": 2,
        "membersRewarded": 2,
        "budget": 10_000,
        "budgetSpent": 6_020,
        "budgetLeft": 3_980,
        "spendOfRewardedOrders": 205_000 + 50_000,
        "couponsIssued": 0,
    }
    await assert_ledger_consistent(alice)
    await assert_ledger_consistent(bob)


async def test_a_coupon_for_baskets_of_299_yuan_and_more(gql, programme, make_member, make_key):
    # given a coupon template, and a campaign issuing it for eligible spend of 299 yuan or more
    shop = await Shop.open(gql, programme, make_key)
    member = await make_member(programme)
    await shop.clock_to(local(date(YEAR, 5, 20)))
    template = (await create_template(gql, shop.admin, code="BIG-BASKET-20"))["code"]
    await shop.campaign(
        code="BIG-BASKET",
        startsAt=month_start(6).isoformat(),
        endsAt=month_start(7).isoformat(),
        conditions={"minSpend": 29_900},
        effects={"couponTemplate": template},
    )
    now = await shop.clock_to(local(date(YEAR, 6, 18)))

    # when the member places an order of 300 yuan
    order = shop.order(member, now, line("pan", 20_000), line("lid", 5_000, 2))
    preview, booked = await shop.previewed_and_recorded(order)
    # then it earns its base points and one coupon, which the wallet holds
    assert (booked["points"], campaign_rules(booked)) == (600, [])
    assert [(c["code"], c["applied"], c["couponTemplate"]) for c in preview["campaigns"]] == [
        ("BIG-BASKET", True, "BIG-BASKET-20")
    ]
    assert await shop.coupons(member) == [("BIG-BASKET-20", "CAMPAIGN")]

    # when it places one of 298.99 yuan, then one of exactly 299 (minSpend is reached)
    preview, booked = await shop.previewed_and_recorded(
        shop.order(member, now, line("pan", 29_899))
    )
    # then the first gets no coupon, as its preview says; the second gets one
    assert shown(preview) == {"BIG-BASKET": (False, 0, "CONDITIONS_NOT_MET")}
    assert await shop.coupons(member) == [("BIG-BASKET-20", "CAMPAIGN")]
    preview, booked = await shop.previewed_and_recorded(
        shop.order(member, now, line("pan", 29_900))
    )
    assert shown(preview) == {"BIG-BASKET": (True, 0, None)}
    assert len(await shop.coupons(member)) == 2

    # when a lid of the 300-yuan order comes back
    returned = await shop.give_back(order, "lid", 1)
    # then it takes back the lid's base points only (the campaign gave no points), and the
    # coupon issued stays in the wallet
    assert returned["lines"][1]["pointsReversed"] == 100
    assert len(await shop.coupons(member)) == 2
    assert await shop.results("BIG-BASKET") == {
        "pointsAwarded": 0,
        "pointsPending": 0,
        "pointsAvailable": 0,
        "pointsReversed": 0,
        "ordersRewarded": 2,
        "membersRewarded": 1,
        "budget": None,
        "budgetSpent": 0,
        "budgetLeft": None,
        "spendOfRewardedOrders": 30_000 + 29_900,
        "couponsIssued": 2,
    }
    await assert_ledger_consistent(member)


async def test_the_preview_does_not_promise_a_coupon_the_template_has_no_stock_for(
    gql, programme, make_member, make_key
):
    # given the big-basket coupon campaign, its template with one coupon in stock
    shop = await Shop.open(gql, programme, make_key)
    member = await make_member(programme)
    await shop.clock_to(local(date(YEAR, 5, 20)))
    await create_template(gql, shop.admin, code="LAST-ONE", totalStock=1)
    await shop.campaign(
        code="BIG-BASKET",
        startsAt=month_start(6).isoformat(),
        endsAt=month_start(7).isoformat(),
        conditions={"minSpend": 29_900},
        effects={"couponTemplate": "LAST-ONE"},
    )
    now = await shop.clock_to(local(date(YEAR, 6, 18)))
    await shop.previewed_and_recorded(shop.order(member, now, line("pan", 30_000)))
    assert await shop.coupons(member) == [("LAST-ONE", "CAMPAIGN")]

    # when a second big basket is previewed and recorded, the stock gone
    preview, booked = await shop.previewed_and_recorded(
        shop.order(member, now, line("pan", 30_000))
    )
    # then no coupon is issued (the order keeps its points), and the preview says so rather
    # than showing the campaign applied with its coupon
    assert booked["points"] == 600
    assert await shop.coupons(member) == [("LAST-ONE", "CAMPAIGN")]
    assert (await shop.results("BIG-BASKET"))["couponsIssued"] == 1
    assert [
        (c["code"], c["applied"], c["couponTemplate"], c["notApplied"])
        for c in preview["campaigns"]
    ] == [("BIG-BASKET", False, None, "NOTHING_TO_ADD")]


async def test_an_exclusive_campaign_worth_more_beats_two_stackables_and_loses_when_worth_less(
    gql, programme, make_member, make_key
):
    # given an exclusive appliances x3, and stackable double points and +50 an order
    shop = await Shop.open(gql, programme, make_key)
    member = await make_member(programme)
    await shop.clock_to(local(date(YEAR, 6, 20)))
    window = {"startsAt": month_start(7).isoformat(), "endsAt": month_start(8).isoformat()}
    await shop.campaign(
        code="TRIPLE",
        stacking="EXCLUSIVE",
        priority=3,
        conditions={"categories": ["appliances"]},
        effects={"multiplier": 30_000},
        **window,
    )
    await shop.campaign(code="DOUBLE", priority=2, effects={"multiplier": 20_000}, **window)
    await shop.campaign(code="BONUS", priority=1, effects={"bonusPerOrder": 50}, **window)
    now = await shop.clock_to(local(date(YEAR, 7, 10)))

    # when the member buys a fridge (base 2,005): x3 adds 4,010, the stackables 2,005 + 50
    preview, fridge = await shop.previewed_and_recorded(
        shop.order(member, now, _appliance("fridge", 100_000))
    )
    # then the exclusive one applies alone
    assert campaign_rules(fridge) == [("fridge", 4_010, "TRIPLE")]
    assert {code: why for code, (_, _, why) in shown(preview).items()} == {
        "TRIPLE": None,
        "DOUBLE": "OUTWEIGHED",
        "BONUS": "OUTWEIGHED",
    }

    # when it buys a kettle (base 105) and two sofas (base 2,000): x3 adds 210 only
    order = shop.order(member, now, _appliance("kettle", 5_000), line("sofa", 50_000, 2))
    preview, booked = await shop.previewed_and_recorded(order)
    # then the two stackables apply together (the +50 spread by amount: 2 and 48)
    assert campaign_rules(booked) == [
        ("kettle", 105, "DOUBLE"),
        ("kettle", 2, "BONUS"),
        ("sofa", 2_000, "DOUBLE"),
        ("sofa", 48, "BONUS"),
    ]
    assert {code: why for code, (_, _, why) in shown(preview).items()} == {
        "TRIPLE": "OUTWEIGHED",
        "DOUBLE": None,
        "BONUS": None,
    }

    # when it buys a kettle (base 105) and a spoon (base 55): x3 adds 210, the stackables too
    _, tie = await shop.previewed_and_recorded(
        shop.order(member, now, _appliance("kettle", 5_000), line("spoon", 2_750))
    )
    # then the tie goes to the exclusive one
    assert campaign_rules(tie) == [("kettle", 210, "TRIPLE")]

    # when one sofa comes back
    returned = await shop.give_back(order, "sofa", 1)
    # then it takes back half of each campaign's share of the line: 1,000 + 1,000 + 24
    assert returned["lines"][1]["pointsReversed"] == 2_024
    results = {c: await shop.results(c) for c in ("TRIPLE", "DOUBLE", "BONUS")}
    assert {
        c: (r["pointsAwarded"], r["pointsReversed"], r["ordersRewarded"])
        for c, r in results.items()
    } == {"TRIPLE": (4_010 + 210, 0, 2), "DOUBLE": (2_105, 1_000, 1), "BONUS": (50, 24, 1)}
    assert await shop.points(member) == (6_015 + 4_260 + 370 - 2_024, 0)
    await assert_ledger_consistent(member)
