"""The catalogue as it is read: a member's shelf (what it may redeem now), a guest's, staff's."""

from __future__ import annotations

from datetime import timedelta

from db.models import Member, Tier
from db.models import Reward as RewardRow
from domain.auth import Role
from services.rewards import catalogue
from tests.graphql.coupons.helpers import create_template, top_level_code
from tests.graphql.partners.helpers import create_partner, partner_with_key
from tests.graphql.points.helpers import advance, fund, parse, programme_now
from tests.graphql.rewards.documents import FULL_SHELF, NODE, REWARD, REWARDS
from tests.graphql.rewards.helpers import create_reward, retire, shelf
from tests.graphql.test_auth import token_for
from tests.graphql.test_query_counts import counting_statements


async def _at_tier(member: Member, programme, code: str) -> None:
    tier = await Tier.get(programme_id=programme.id, code=code)
    await Member.filter(id=member.id).update(tier_id=tier.id)


async def test_a_member_sees_only_what_it_may_redeem_now(gql, programme, keys, make_member):
    # given rewards: plain, for Gold only, sold out, retired, not yet open, open until tomorrow
    admin, storefront = keys
    now = parse(await programme_now(gql, admin))
    plain = await create_reward(gql, admin)
    gold = await create_reward(gql, admin, eligibleTierCodes=["GOLD"])
    silver_gold = await create_reward(gql, admin, eligibleTierCodes=["SILVER", "GOLD"])
    sold_out = await create_reward(gql, admin, totalStock=5)
    await RewardRow.filter(code=sold_out["code"]).update(stock_left=0)
    retired = await create_reward(gql, admin)
    await retire(gql, admin, retired["code"])
    later = await create_reward(gql, admin, validFrom=(now + timedelta(days=1)).isoformat())
    closing = await create_reward(gql, admin, validUntil=(now + timedelta(days=1)).isoformat())
    alice = await make_member(programme)
    await _at_tier(alice, programme, "SILVER")
    token = await token_for(gql, storefront, alice.external_id)
    # when she reads the catalogue with her token (and the storefront reads it for her)
    mine = await shelf(gql, token)
    for_her = await shelf(gql, storefront, member=alice.external_id)
    # then she sees what is open to Silver, in stock, in its window and active
    assert mine == [plain["code"], silver_gold["code"], closing["code"]]
    assert for_her == mine
    # and on the test clock two days on, the closed one is gone and the later one is there
    await advance(gql, admin, days=2)
    assert await shelf(gql, token) == [plain["code"], silver_gold["code"], later["code"]]
    # a Gold member sees the Gold one too
    await _at_tier(alice, programme, "GOLD")
    assert gold["code"] in await shelf(gql, token)


async def test_affordable_keeps_what_the_members_spendable_points_cover(
    gql, programme, keys, make_member
):
    admin, storefront = keys
    cheap = await create_reward(gql, admin, pointsPrice=300)
    exact = await create_reward(gql, admin, pointsPrice=500)
    await create_reward(gql, admin, pointsPrice=501)
    bob = await make_member(programme)
    await fund(gql, admin, bob.external_id, 500)
    token = await token_for(gql, storefront, bob.external_id)
    assert await shelf(gql, token, affordable=True) == [cheap["code"], exact["code"]]
    assert len(await shelf(gql, token)) == 3
    # without points nothing is affordable
    carol = await make_member(programme)
    assert await shelf(gql, storefront, member=carol.external_id, affordable=True) == []


async def test_affordable_needs_a_member(gql, programme, keys):
    admin, storefront = keys
    for auth in (admin, storefront):
        body = await gql(REWARDS, {"first": 10, "affordable": True}, auth=auth)
        assert body["data"] is None
        assert top_level_code(body) == "VALIDATION"


async def test_staff_see_everything_and_filter_by_status_and_category(
    gql, programme, keys, make_member
):
    admin, storefront = keys
    now = parse(await programme_now(gql, admin))
    gold = await create_reward(gql, admin, eligibleTierCodes=["GOLD"])
    later = await create_reward(
        gql, admin, category="tea", validFrom=(now + timedelta(days=3)).isoformat()
    )
    retired = await create_reward(gql, admin, category="tea")
    await retire(gql, admin, retired["code"])
    # an admin sees all three, retired too
    assert await shelf(gql, admin) == [gold["code"], later["code"], retired["code"]]
    assert await shelf(gql, admin, status="RETIRED") == [retired["code"]]
    assert await shelf(gql, admin, status="ACTIVE", category="tea") == [later["code"]]
    # a storefront naming nobody sees the guest's shelf: open to every tier, open now
    assert await shelf(gql, storefront) == []
    # a member never sees a retired reward, by the filter, by code or by id
    member = await make_member(programme)
    token = await token_for(gql, storefront, member.external_id)
    assert await shelf(gql, token, status="RETIRED") == []
    assert (await gql(REWARD, {"code": retired["code"]}, auth=token))["data"]["reward"] is None
    node = await gql(NODE, {"id": retired["id"]}, auth=token)
    assert node["data"]["node"] is None
    admin_node = await gql(NODE, {"id": retired["id"]}, auth=admin)
    assert admin_node["data"]["node"] == {"__typename": "Reward", "code": retired["code"]}


async def test_a_member_page_skips_hidden_rewards_and_pages_both_ways(
    gql, programme, keys, make_member, monkeypatch
):
    # given seven rewards, every other one for Gold only, and a Bronze member; each read of
    # the shelf asks for no more rows than the page still needs, so hidden rows take re-reads
    monkeypatch.setattr(catalogue, "SCAN_SLACK", 0)
    admin, storefront = keys
    codes = []
    for n in range(7):
        tiers = ["GOLD"] if n % 2 else []
        codes.append((await create_reward(gql, admin, eligibleTierCodes=tiers))["code"])
    visible = codes[::2]
    member = await make_member(programme)
    await _at_tier(member, programme, "BRONZE")
    who = {"member": member.external_id}
    # when the storefront reads its catalogue two at a time
    first = (await gql(REWARDS, {"first": 2, **who}, auth=storefront))["data"]["rewards"]
    after = first["pageInfo"]["endCursor"]
    second = (await gql(REWARDS, {"first": 2, "after": after, **who}, auth=storefront))["data"][
        "rewards"
    ]
    # then the pages hold the visible ones in order, and say whether more follow
    assert [e["node"]["code"] for e in first["edges"]] == visible[:2]
    assert first["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["code"] for e in second["edges"]] == visible[2:]
    assert second["pageInfo"]["hasNextPage"] is False
    # and backwards from the end
    end = second["pageInfo"]["endCursor"]
    back = (await gql(REWARDS, {"last": 2, "before": end, **who}, auth=storefront))["data"][
        "rewards"
    ]
    assert [e["node"]["code"] for e in back["edges"]] == visible[1:3]
    assert back["pageInfo"]["hasPreviousPage"] is True
    start = (await gql(REWARDS, {"last": 3, "before": end, **who}, auth=storefront))["data"][
        "rewards"
    ]
    assert [e["node"]["code"] for e in start["edges"]] == visible[:3]
    assert start["pageInfo"]["hasPreviousPage"] is False


async def test_a_member_token_sees_only_its_own_catalogue(gql, programme, keys, make_member):
    admin, storefront = keys
    await create_reward(gql, admin)
    alice, bob = await make_member(programme), await make_member(programme)
    token = await token_for(gql, storefront, alice.external_id)
    body = await gql(REWARDS, {"first": 5, "member": bob.external_id}, auth=token)
    assert body["data"] is None
    assert top_level_code(body) == "NOT_FOUND"


async def test_another_programme_sees_none_of_a_programmes_rewards(
    gql, programme, keys, make_programme, make_key, make_member
):
    admin, _ = keys
    reward = await create_reward(gql, admin)
    other = await make_programme()
    other_admin = await make_key(other, Role.ADMIN)
    other_storefront = await make_key(other, Role.STOREFRONT)
    member = await make_member(other)
    assert await shelf(gql, other_admin) == []
    assert await shelf(gql, other_storefront, member=member.external_id) == []
    assert (await gql(REWARD, {"code": reward["code"]}, auth=other_storefront))["data"][
        "reward"
    ] is None


async def test_a_partner_key_may_not_read_the_catalogue(gql, programme, keys):
    admin, _ = keys
    partner = await partner_with_key(gql, admin)
    body = await gql(REWARDS, {"first": 5}, auth=partner.key)
    assert top_level_code(body) == "FORBIDDEN"


async def test_a_page_of_rewards_costs_the_same_statements_for_one_or_many(
    gql, programme, keys, make_member
):
    # given one coupon reward and one partner reward, then ten more of each
    admin, storefront = keys
    template = await create_template(gql, admin)
    partner = (await create_partner(gql, admin))["partner"]

    async def add_pair() -> None:
        await create_reward(gql, admin, kind="COUPON", couponTemplateCode=template["code"])
        await create_reward(
            gql, admin, kind="PARTNER", partnerCode=partner["code"], partnerUnits=10
        )

    await add_pair()
    member = await make_member(programme)
    who = {"member": member.external_id}
    await gql(FULL_SHELF, who, auth=storefront)  # the caches (key, programme, tiers) warm
    with counting_statements() as few:
        body = await gql(FULL_SHELF, who, auth=storefront)
    assert len(body["data"]["rewards"]["edges"]) == 2
    for _ in range(10):
        await add_pair()
    with counting_statements() as many:
        body = await gql(FULL_SHELF, who, auth=storefront)
    # then the page of 22 took no more statements than the page of 2
    edges = body["data"]["rewards"]["edges"]
    assert len(edges) == 22
    assert {e["node"]["couponTemplateCode"] for e in edges[::2]} == {template["code"]}
    assert {e["node"]["partnerCode"] for e in edges[1::2]} == {partner["code"]}
    assert many["n"] == few["n"]
