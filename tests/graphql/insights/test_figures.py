"""programmeInsights' figures for a programme with known facts (scenario.build), read through
the API, exact."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta

from db.models import Member, MemberSegment, Programme, Tier, TierChange
from domain.auth import Role
from services.recommendations.build import build as build_segments
from tests.graphql.insights.scenario import ZONE, build, figures

SOURCES = ["ORDERS", "CHECK_IN", "REVIEWS", "REFERRALS", "CAMPAIGNS", "PARTNERS_IN", "ADJUSTMENTS"]
USES = ["REWARDS", "COUPONS", "CHECKOUT", "PARTNERS_OUT"]


def by_source(**points: int) -> list[dict]:
    return [{"source": s, "points": points.get(s, 0)} for s in SOURCES]


def by_use(**points: int) -> list[dict]:
    return [{"use": u, "points": points.get(u, 0)} for u in USES]


def tiers(bronze: int, silver: int, gold: int) -> list[dict]:
    return [
        {"code": "BRONZE", "name": "Bronze", "members": bronze},
        {"code": "SILVER", "name": "Silver", "members": silver},
        {"code": "GOLD", "name": "Gold", "members": gold},
    ]


UP = {"fromCode": "BRONZE", "toCode": "SILVER", "direction": "UP", "members": 1}
DOWN = {"fromCode": "SILVER", "toCode": "BRONZE", "direction": "DOWN", "members": 1}


async def test_a_year_by_month_counts_every_fact_once(gql, programme, make_member, make_key):
    # given the scenario: a year of a small programme
    shop = await build(gql, programme, make_member, make_key)
    await build_segments(await Programme.get(id=programme.id))
    admin = await make_key(programme, Role.ADMIN)
    # when the admin reads day 0 to day 371 by month
    found = await figures(gql, admin, shop.day0, shop.day0 + timedelta(days=371))
    # then members: three registered, all active (Carol by her late check-in)
    segments = Counter(s.lifecycle for s in await MemberSegment.filter(programme_id=programme.id))
    assert found["members"] == {
        "total": 3,
        "new": 3,
        "active": 3,
        "participationRate": 1.0,
        "bySegment": [{"segment": k, "members": n} for k, n in sorted(segments.items())],
    }
    assert sum(segments.values()) == 3
    # points: orders 200 + 40 + 100 less the 200 taken back by the return; two check-ins
    points = found["points"]
    assert points["earnedBySource"] == by_source(ORDERS=140, CHECK_IN=10)
    assert points["earned"] == 150
    # spent: 20 redeemed + 10 on a reward (REWARDS), 10 on a coupon (COUPONS)
    assert points["spentByUse"] == by_use(REWARDS=30, COUPONS=10)
    assert points["spent"] == 40
    # expired: what was left of day 0's points a year on (Alice 5, Bob 100)
    assert points["expired"] == 105 and points["forfeited"] == 0
    assert points["redemptionRate"] == 40 / 150 and points["breakage"] == 105 / 150
    # owed at the end: Carol's 5 available, Bob's pending order's 100, at 2 fen a point
    assert points["liability"] == {"available": 5, "pending": 100, "cashValue": 210}
    # tiers: Alice went up to Silver and back down by the return
    assert found["tiers"] == {"distribution": tiers(3, 0, 0), "migrations": [UP, DOWN]}
    # behaviour: Alice 2 orders, Bob 1 in the range (his pending one too: 2); all Bronze now
    behaviour = found["behaviour"]
    assert behaviour["repeatPurchaseRate"] == 1.0
    assert behaviour["byTier"][0] == {
        "code": "BRONZE",
        "name": "Bronze",
        "orders": 4,
        "members": 2,
        "averageOrderValue": (0 + 2_000 + 5_000 + 5_000) // 4,
        "ordersPerMember": 2.0,
    }
    assert [t["orders"] for t in behaviour["byTier"][1:]] == [0, 0]
    assert behaviour["referrals"] == {"invited": 0, "rewarded": 0, "conversionRate": 0.0}
    assert [
        (c["code"], c["issued"], c["redeemed"], c["redemptionRate"]) for c in found["coupons"]
    ] == [(shop.coupon_template, 1, 1, 1.0)]
    assert found["rewards"] == [
        {
            "code": shop.reward,
            "title": "Steel tumbler",
            "redemptions": 1,
            "quantity": 1,
            "points": 10,
        }
    ]
    assert found["campaigns"] == []
    # the series: 13 months, the empty ones with zeros, adding up to the totals
    series = found["series"]
    assert len(series) == 13
    assert series[0]["start"] == shop.day0.replace(day=1).isoformat()
    assert (series[0]["earned"], series[0]["spent"], series[0]["expired"]) == (145, 40, 0)
    assert series[0]["activeMembers"] == 2
    assert all(
        b["earned"] == b["spent"] == b["expired"] == b["activeMembers"] == 0 for b in series[1:12]
    )
    assert (series[12]["earned"], series[12]["expired"], series[12]["activeMembers"]) == (5, 105, 2)
    assert sum(b["earned"] for b in series) == points["earned"]


async def test_days_and_the_end_of_a_past_range(gql, programme, make_member, make_key):
    # given the scenario, read for the first days only, day by day
    shop = await build(gql, programme, make_member, make_key)
    admin = await make_key(programme, Role.ADMIN)
    found = await figures(gql, admin, shop.day0, shop.day0 + timedelta(days=3), "DAY")
    # then each day is a bucket, the empty ones included: day 2 is the return
    assert [(b["start"], b["earned"], b["spent"], b["activeMembers"]) for b in found["series"]] == [
        (shop.day0.isoformat(), 345, 40, 2),
        ((shop.day0 + timedelta(days=1)).isoformat(), 0, 0, 0),
        ((shop.day0 + timedelta(days=2)).isoformat(), -200, 0, 0),
        ((shop.day0 + timedelta(days=3)).isoformat(), 0, 0, 0),
    ]
    # and the liability is as it stood at the end of day 3 (before the expiry)
    assert found["points"]["liability"] == {"available": 105, "pending": 0, "cashValue": 210}
    assert found["members"]["active"] == 2
    # when the range ends on day 0, before the return
    day0 = await figures(gql, admin, shop.day0, shop.day0, "DAY")
    # then Alice is counted in Silver, as she was then, and only the move up is in it
    assert day0["tiers"] == {"distribution": tiers(2, 1, 0), "migrations": [UP]}
    assert day0["points"]["liability"] == {"available": 305, "pending": 0, "cashValue": 610}
    assert day0["behaviour"]["byTier"][1]["orders"] == 2  # Alice's, in Silver then
    # and a range after all of it has no flows, only what is still owed
    later = await figures(
        gql, admin, shop.day0 + timedelta(days=10), shop.day0 + timedelta(days=20)
    )
    assert later["points"]["earned"] == later["points"]["spent"] == 0
    assert later["members"]["new"] == 0 and later["members"]["total"] == 3
    assert later["points"]["liability"]["available"] == 105


async def test_weeks_start_on_monday(gql, programme, make_member, make_key):
    shop = await build(gql, programme, make_member, make_key)
    admin = await make_key(programme, Role.ADMIN)
    found = await figures(gql, admin, shop.day0, shop.day0 + timedelta(days=20), "WEEK")
    monday = shop.day0 - timedelta(days=shop.day0.weekday())
    starts = [b["start"] for b in found["series"]]
    assert starts[0] == monday.isoformat()
    assert starts == [(monday + timedelta(days=7 * i)).isoformat() for i in range(len(starts))]
    assert sum(b["earned"] for b in found["series"]) == 145
    assert found["granularity"] == "WEEK" and found["currency"] == "CNY"


async def test_a_bucket_the_range_cuts_counts_only_the_days_in_it(
    gql, programme, make_member, make_key
):
    # given the scenario: two members active on day 0, two on day 370, none between (the return
    # on day 2 takes points back: that is not the member's own earning or spending)
    shop = await build(gql, programme, make_member, make_key)
    admin = await make_key(programme, Role.ADMIN)
    for granularity in ("WEEK", "MONTH"):
        # when the range starts the day after day 0 and ends the day before day 370, so its
        # first and last week or month are cut (at least one end, whatever day day 0 is)
        found = await figures(
            gql, admin, shop.day0 + timedelta(days=1), shop.day0 + timedelta(days=369), granularity
        )
        # then nobody is active in it: not in the cut buckets, nor in the range
        assert [b["activeMembers"] for b in found["series"]] == [0] * len(found["series"])
        assert found["members"]["active"] == 0
        # and a range of day 0 to day 370 counts both ends' members in their own buckets
        whole = await figures(gql, admin, shop.day0, shop.day0 + timedelta(days=370), granularity)
        series = whole["series"]
        assert (series[0]["activeMembers"], series[-1]["activeMembers"]) == (2, 2), granularity
        assert sum(b["activeMembers"] for b in series) == 4
        assert whole["members"]["active"] == 3


async def test_the_tier_at_the_end_is_read_from_the_earliest_change_after_it(
    gql, programme, make_member, make_key
):
    # given the scenario, and Carol's history after day 0 written out of order: the change
    # stored first (day 5: Silver to Gold) happened after the one stored next (day 4: Bronze
    # to Silver), as a catch-up job judging a past period may write it
    shop = await build(gql, programme, make_member, make_key)
    admin = await make_key(programme, Role.ADMIN)
    carol = await Member.filter(programme_id=programme.id).order_by("-id").first()
    assert carol is not None
    ids = {t.code: t.id for t in await Tier.filter(programme_id=programme.id)}
    midnight = datetime.combine(shop.day0, time(), ZONE)
    for days, old, new in ((5, "SILVER", "GOLD"), (4, "BRONZE", "SILVER")):
        await TierChange.create(
            programme_id=programme.id, member_id=carol.id, from_tier_id=ids[old],
            to_tier_id=ids[new], reason="QUALIFIED", qualifying_total=0,
            at=midnight + timedelta(days=days),
        )  # fmt: skip
    # when the tiers are read for day 0
    day0 = await figures(gql, admin, shop.day0, shop.day0, "DAY")
    # then Carol was in Bronze then (the earlier change's starting tier), not in Silver
    assert day0["tiers"]["distribution"] == tiers(2, 1, 0)
