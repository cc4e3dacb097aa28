"""Issue 19.5: the programme documents' campaigns as scenarios on the test clock, all through
the API — the admin creates and activates each campaign, the storefront previews and records
orders, returns and cancels them — checking the points booked per line, the preview (equal to
what was booked, or why a campaign did not apply), a partial return and the results after.
Budgets, coupons and stacking: test_scenarios_budgets.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.campaigns.orders_helpers import campaign_rules
from tests.graphql.campaigns.scenes import (
    YEAR,
    Shop,
    local,
    month_start,
    nth_weekday,
    shown,
)
from tests.graphql.points.helpers import line


async def test_double_points_on_the_weekends_of_one_month_for_gold_and_up(
    gql, programme, make_member, make_key
):
    # given a PLATINUM tier above GOLD, and a Gold and a Silver member by February's spend
    shop = await Shop.open(gql, programme, make_key)
    await shop.tier("PLATINUM", 3, 200_000)
    gold, silver = await make_member(programme), await make_member(programme)
    now = await shop.clock_to(local(date(YEAR, 2, 10)))
    for member, spend in ((gold, 50_000), (silver, 10_000)):
        await shop.complete(await shop.record(shop.order(member, now, line("gift", spend))))
    assert await shop.tier_of(gold.external_id) == "GOLD"
    assert await shop.tier_of(silver.external_id) == "SILVER"
    # and double points on March's Saturdays and Sundays for GOLD and up
    await shop.campaign(
        code="GOLD-WEEKENDS",
        startsAt=month_start(3).isoformat(),
        endsAt=month_start(4).isoformat(),
        recurrence={"weekdays": [6, 7]},
        audience={"tiers": ["GOLD", "PLATINUM"]},
        effects={"multiplier": 20_000},
    )
    coat_and_socks = (line("coat", 20_000), line("socks", 2_500, 2))  # 400 + 100 base

    # when the Gold member orders at 00:30 on March's first Saturday (Friday in UTC)
    saturday = nth_weekday(3, 6)
    now = await shop.clock_to(local(saturday, 0) + timedelta(minutes=30))
    order = shop.order(gold, now, *coat_and_socks)
    preview, booked = await shop.previewed_and_recorded(order)
    # then each line earns its base again, as a rule naming the campaign
    assert booked["points"] == 1_000
    assert campaign_rules(booked) == [
        ("coat", 400, "GOLD-WEEKENDS"),
        ("socks", 100, "GOLD-WEEKENDS"),
    ]
    assert shown(preview) == {"GOLD-WEEKENDS": (True, 500, None)}

    # when the Silver member orders the same on the same Saturday
    preview, booked = await shop.previewed_and_recorded(shop.order(silver, now, *coat_and_socks))
    # then it earns its base only, and the preview says why
    assert (booked["points"], campaign_rules(booked)) == (500, [])
    assert shown(preview) == {"GOLD-WEEKENDS": (False, 0, "NOT_IN_AUDIENCE")}

    # when the Gold member orders late on Sunday, then on the Wednesday after
    now = await shop.clock_to(local(saturday + timedelta(days=1), 23))
    _, sunday = await shop.previewed_and_recorded(shop.order(gold, now, line("hat", 5_000)))
    now = await shop.clock_to(local(saturday + timedelta(days=4), 10))
    preview, wednesday = await shop.previewed_and_recorded(
        shop.order(gold, now, line("hat", 5_000))
    )
    # then Sunday's is doubled, Wednesday's is not
    assert campaign_rules(sunday) == [("hat", 100, "GOLD-WEEKENDS")]
    assert (wednesday["points"], campaign_rules(wednesday)) == (100, [])
    assert shown(preview) == {"GOLD-WEEKENDS": (False, 0, "OUTSIDE_SCHEDULE")}

    # when one pair of socks of the Saturday order comes back
    returned = await shop.give_back(order, "socks", 1)
    # then the pair takes back its base and its campaign share alike: 50 + 50
    socks = returned["lines"][1]
    assert (socks["sku"], socks["points"], socks["pointsReversed"]) == ("socks", 200, 100)
    assert returned["pointsReversed"] == 100
    assert await shop.points(gold) == (1_000 - 100 + 200 + 100, 1_000)

    # when the month is over: April's first Saturday
    now = await shop.clock_to(local(nth_weekday(4, 6), 10))
    preview, booked = await shop.previewed_and_recorded(shop.order(gold, now, *coat_and_socks))
    # then nothing more is added
    assert (booked["points"], campaign_rules(booked)) == (500, [])
    assert shown(preview) == {"GOLD-WEEKENDS": (False, 0, "OUTSIDE_SCHEDULE")}

    # when a store uploads late an order placed on March's last Sunday
    last_sunday = nth_weekday(4, 7) - timedelta(days=7)
    late = shop.order(gold, local(last_sunday, 15).isoformat(), line("hat", 5_000))
    preview, booked = await shop.previewed_and_recorded(late)
    # then it is judged at its placedAt: doubled
    assert campaign_rules(booked) == [("hat", 100, "GOLD-WEEKENDS")]
    assert shown(preview) == {"GOLD-WEEKENDS": (True, 100, None)}
    # and the results count the three weekend orders of the one Gold member
    assert await shop.results("GOLD-WEEKENDS") == {
        "pointsAwarded": 700,
        "pointsPending": 650,
        "pointsAvailable": 0,
        "pointsReversed": 50,
        "ordersRewarded": 3,
        "membersRewarded": 1,
        "budget": None,
        "budgetSpent": 0,
        "budgetLeft": None,
        "spendOfRewardedOrders": 25_000 + 5_000 + 5_000,
        "couponsIssued": 0,
    }
    await assert_ledger_consistent(gold)


async def test_member_day_on_the_8th_doubles_points_up_to_500_a_month_in_local_time(
    gql, programme, make_member, make_key
):
    # given double points on the 8th of every month, at most 500 points a member a month
    shop = await Shop.open(gql, programme, make_key)
    member = await make_member(programme)
    await shop.clock_to(local(date(YEAR, 2, 20)))
    await shop.campaign(
        code="MEMBER-DAY",
        startsAt=month_start(3).isoformat(),
        endsAt=month_start(6).isoformat(),
        recurrence={"monthDays": [8]},
        effects={"multiplier": 20_000},
        limits={"memberPeriodCap": 500, "capPeriod": "MONTH"},
    )

    # when the member orders at 17:00 UTC on the 7th: 01:00 on the 8th in Shanghai
    now = await shop.clock_to(datetime(YEAR, 3, 7, 17, tzinfo=UTC))
    preview, first = await shop.previewed_and_recorded(shop.order(member, now, line("tv", 20_000)))
    # then it is member day: +400
    assert campaign_rules(first) == [("tv", 400, "MEMBER-DAY")]
    assert shown(preview) == {"MEMBER-DAY": (True, 400, None)}

    # when a second order that day would add 300 more
    now = await shop.clock_to(local(date(YEAR, 3, 8), 20))
    order = shop.order(member, now, line("kettle", 7_500, 2))  # 300 base
    preview, second = await shop.previewed_and_recorded(order)
    # then it is clamped to the 100 left of the month's 500
    assert campaign_rules(second) == [("kettle", 100, "MEMBER-DAY")]
    assert [(c["points"], c["capped"]) for c in preview["campaigns"]] == [(100, True)]
    # and a third that day gets nothing, as its preview says
    now = await shop.clock_to(local(date(YEAR, 3, 8), 21))
    preview, third = await shop.previewed_and_recorded(shop.order(member, now, line("cup", 5_000)))
    assert (third["points"], campaign_rules(third)) == (100, [])
    assert shown(preview) == {"MEMBER-DAY": (False, 0, "MEMBER_CAP_REACHED")}

    # when one kettle comes back
    returned = await shop.give_back(order, "kettle", 1)
    # then it takes back half the line, base and campaign alike: 150 + 50
    assert (returned["lines"][0]["points"], returned["lines"][0]["pointsReversed"]) == (400, 200)
    # and the 50 taken back may be earned again that month
    now = await shop.clock_to(local(date(YEAR, 3, 8), 22))
    _, fourth = await shop.previewed_and_recorded(shop.order(member, now, line("cup", 5_000)))
    assert campaign_rules(fourth) == [("cup", 50, "MEMBER-DAY")]

    # when the member orders on the 9th at 00:30 in Shanghai (the 8th in UTC)
    now = await shop.clock_to(datetime(YEAR, 3, 8, 16, 30, tzinfo=UTC))
    preview, ninth = await shop.previewed_and_recorded(shop.order(member, now, line("tv", 20_000)))
    # then member day is over
    assert (ninth["points"], campaign_rules(ninth)) == (400, [])
    assert shown(preview) == {"MEMBER-DAY": (False, 0, "OUTSIDE_SCHEDULE")}

    # when the member orders on April's member day
    now = await shop.clock_to(local(date(YEAR, 4, 8), 10))
    preview, april = await shop.previewed_and_recorded(shop.order(member, now, line("tv", 20_000)))
    # then the month's cap is fresh
    assert campaign_rules(april) == [("tv", 400, "MEMBER-DAY")]
    assert shown(preview) == {"MEMBER-DAY": (True, 400, None)}
    assert await shop.points(member) == (800 + 200 + 100 + 150 + 400 + 800, 0)
    assert await shop.results("MEMBER-DAY") == {
        "pointsAwarded": 950,
        "pointsPending": 900,
        "pointsAvailable": 0,
        "pointsReversed": 50,
        "ordersRewarded": 4,
        "membersRewarded": 1,
        "budget": None,
        "budgetSpent": 0,
        "budgetLeft": None,
        "spendOfRewardedOrders": 20_000 + 15_000 + 5_000 + 20_000,
        "couponsIssued": 0,
    }
    await assert_ledger_consistent(member)


async def test_a_first_order_bonus_goes_to_each_members_first_order_that_stands(
    gql, programme, make_member, make_key
):
    # given +100 points on a member's first order, with a budget of 1,000
    shop = await Shop.open(gql, programme, make_key)
    alice, bob = await make_member(programme), await make_member(programme)
    await shop.clock_to(local(date(YEAR, 2, 20)))
    await shop.campaign(
        code="FIRST-ORDER",
        startsAt=month_start(3).isoformat(),
        endsAt=month_start(6).isoformat(),
        audience={"nthOrder": 1},
        effects={"bonusPerOrder": 100},
        limits={"budget": 1_000},
    )
    now = await shop.clock_to(local(date(YEAR, 3, 3)))
    book_and_pen = (line("book", 6_000), line("pen", 4_000))  # 120 + 80 base

    # when Alice places her first order
    first = shop.order(alice, now, *book_and_pen)
    preview, booked = await shop.previewed_and_recorded(first)
    # then the bonus is spread over its lines by amount, and pending
    assert campaign_rules(booked) == [("book", 60, "FIRST-ORDER"), ("pen", 40, "FIRST-ORDER")]
    assert shown(preview) == {"FIRST-ORDER": (True, 100, None)}
    assert await shop.points(alice) == (300, 0)
    # and available once the order completes
    await shop.complete(first)
    assert await shop.points(alice) == (0, 300)

    # when she orders again
    preview, again = await shop.previewed_and_recorded(shop.order(alice, now, *book_and_pen))
    # then the second order earns its base only
    assert (again["points"], campaign_rules(again)) == (200, [])
    assert shown(preview) == {"FIRST-ORDER": (False, 0, "NOT_IN_AUDIENCE")}

    # when her first order's pen comes back
    returned = await shop.give_back(first, "pen", 1)
    # then the pen's share of the bonus goes with it: 80 + 40
    assert (returned["lines"][1]["sku"], returned["lines"][1]["pointsReversed"]) == ("pen", 120)
    assert await shop.points(alice) == (200, 180)

    # when Bob's first order is cancelled, and he orders again
    cancelled = shop.order(bob, now, line("book", 6_000))
    _, booked = await shop.previewed_and_recorded(cancelled)
    assert campaign_rules(booked) == [("book", 100, "FIRST-ORDER")]
    assert (await shop.results("FIRST-ORDER"))["budgetSpent"] == 100 - 40 + 100
    await shop.cancel(cancelled)
    assert (await shop.results("FIRST-ORDER"))["budgetSpent"] == 100 - 40
    preview, booked = await shop.previewed_and_recorded(shop.order(bob, now, line("pen", 4_000)))
    # then the order that stands is his first, and gets the bonus
    assert campaign_rules(booked) == [("pen", 100, "FIRST-ORDER")]
    assert shown(preview) == {"FIRST-ORDER": (True, 100, None)}
    assert await shop.points(bob) == (180, 0)
    # and the results count Alice's completed order and Bob's pending one; the cancelled
    # award is reversed whole and its budget given back
    assert await shop.results("FIRST-ORDER") == {
        "pointsAwarded": 300,
        "pointsPending": 100,
        "pointsAvailable": 60,
        "pointsReversed": 40 + 100,
        "ordersRewarded": 2,
        "membersRewarded": 2,
        "budget": 1_000,
        "budgetSpent": 160,
        "budgetLeft": 840,
        "spendOfRewardedOrders": 10_000 + 4_000,
        "couponsIssued": 0,
    }
    await assert_ledger_consistent(alice)
    await assert_ledger_consistent(bob)
