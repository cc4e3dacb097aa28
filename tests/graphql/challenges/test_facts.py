"""Challenges of check-ins, reviews and referrals through the API (issue 20.3), and what every
challenge respects: its window, its audience, its end, its programme."""

from __future__ import annotations

from datetime import timedelta

from db.models import ChallengeContribution, ChallengeProgress
from domain.auth import Role
from tests.graphql.challenges.helpers import (
    check_in,
    create_challenge,
    end_challenge,
    invite,
    member_view,
    progress_of,
)
from tests.graphql.coupons.helpers import create_template
from tests.graphql.points.documents import COMPLETE_ORDER, RETURN_LINES, REWARD_REVIEW
from tests.graphql.points.helpers import (
    advance,
    completed_order,
    line,
    mutate,
    parse,
    placed_order,
    programme_now,
)

BADGE = {"code": "STREAK7", "title": "Seven days"}


async def test_a_check_in_streak_counts_consecutive_days_only(
    gql, programme, admin, storefront, make_member
):
    # given "three days in a row" for a coupon and a badge
    template = await create_template(gql, admin)
    challenge = await create_challenge(
        gql,
        admin,
        goal="CHECK_IN_STREAK",
        target=3,
        reward={"couponTemplate": template["code"], "badge": BADGE},
    )
    member = await make_member(programme)
    e = member.external_id
    # when the member checks in two days, skips one, then checks in again
    await check_in(gql, storefront, e)
    for days in (1, 2):
        await advance(gql, admin, days=days)
        await check_in(gql, storefront, e)
    # then the streak starts over
    progress = await progress_of(gql, storefront, e, challenge["code"])
    assert progress is not None and (progress["current"], progress["completedAt"]) == (1, None)
    # when two more days follow: three in a row, rewarded
    for _ in range(2):
        await advance(gql, admin, days=1)
        await check_in(gql, storefront, e)
    progress = await progress_of(gql, storefront, e, challenge["code"])
    assert progress is not None
    assert progress["current"] == 3 and progress["completedAt"] is not None
    assert progress["reward"] == f"a coupon ({template['code']}), the badge Seven days"
    assert [b["code"] for b in (await member_view(gql, storefront, e))["badges"]] == ["STREAK7"]


async def test_rewarded_reviews_count_and_a_returned_reviewed_item_takes_its_review_back(
    gql, programme, admin, storefront, make_member
):
    challenge = await create_challenge(
        gql, admin, goal="REVIEWS", target=1, reward={"points": 40}, undoOnReturn=True
    )
    member = await make_member(programme)
    e = member.external_id
    order = await completed_order(gql, storefront, e, lines=[line("mug"), line("cup")])
    reviewed = await mutate(
        gql, REWARD_REVIEW, "rewardReview", admin, orderId=order["orderId"], sku="mug"
    )
    assert reviewed["__typename"] == "MemberSuccess", reviewed
    progress = await progress_of(gql, storefront, e, challenge["code"])
    assert progress is not None and progress["completedAt"] is not None
    # when the reviewed mug comes back: the review no longer counts, the reward goes
    result = await mutate(
        gql,
        RETURN_LINES,
        "returnOrderLines",
        storefront,
        orderId=order["orderId"],
        lines=[{"sku": "mug", "quantity": 1}],
    )
    assert result["__typename"] == "OrderSuccess", result
    progress = await progress_of(gql, storefront, e, challenge["code"])
    assert progress is not None and (progress["current"], progress["completedAt"]) == (0, None)


async def test_a_rewarded_referral_counts_for_the_inviter(
    gql, programme, admin, storefront, make_member
):
    challenge = await create_challenge(
        gql,
        admin,
        goal="REFERRALS",
        target=1,
        reward={"badge": {"code": "AMB", "title": "Ambassador"}},
    )
    inviter, invitee = await make_member(programme), await make_member(programme)
    await invite(gql, storefront, inviter, invitee)
    # the invitee's progress is its own: its order counts for no referral of its own
    await completed_order(gql, storefront, invitee.external_id)
    progress = await progress_of(gql, storefront, inviter.external_id, challenge["code"])
    assert progress is not None
    assert progress["current"] == 1 and progress["completedAt"] is not None
    assert await progress_of(gql, storefront, invitee.external_id, challenge["code"]) == {
        **progress,
        "current": 0,
        "completedAt": None,
    }


async def test_facts_outside_the_window_or_after_the_end_do_not_count(
    gql, programme, admin, storefront, make_member
):
    # given a challenge from tomorrow for two days, and a member
    now = parse(await programme_now(gql, admin))
    challenge = await create_challenge(
        gql,
        admin,
        target=5,
        startsAt=(now + timedelta(days=1)).isoformat(),
        endsAt=(now + timedelta(days=3)).isoformat(),
    )
    member = await make_member(programme)
    e = member.external_id
    # when an order completes before it starts: not shown, not counted
    await completed_order(gql, storefront, e)
    assert await progress_of(gql, storefront, e, challenge["code"]) is None
    # when one completes inside it: counted
    await advance(gql, admin, days=1)
    await completed_order(gql, storefront, e)
    progress = await progress_of(gql, storefront, e, challenge["code"])
    assert progress is not None and progress["current"] == 1
    # when one completes after it: the challenge is no longer shown, nothing more counted
    await advance(gql, admin, days=3)
    await completed_order(gql, storefront, e)
    assert await progress_of(gql, storefront, e, challenge["code"]) is None
    assert await ChallengeContribution.filter(progress__member_id=member.id).count() == 1


async def test_an_ended_challenge_counts_nothing_more(
    gql, programme, admin, storefront, make_member
):
    challenge = await create_challenge(gql, admin, target=2)
    member = await make_member(programme)
    order = await placed_order(gql, storefront, member.external_id)
    await end_challenge(gql, admin, challenge["code"])
    done = await mutate(gql, COMPLETE_ORDER, "completeOrder", storefront, orderId=order["orderId"])
    assert done["__typename"] == "OrderSuccess", done
    assert await progress_of(gql, storefront, member.external_id, challenge["code"]) is None
    assert await ChallengeProgress.filter(member_id=member.id).count() == 0


async def test_members_outside_the_audience_neither_see_nor_advance_it(
    gql, programme, admin, storefront, make_member
):
    # given two challenges: one for BRONZE members (new members' tier), one for GOLD ones
    bronze = await create_challenge(gql, admin, target=1, audience={"tiers": ["BRONZE"]})
    gold = await create_challenge(gql, admin, target=1, audience={"tiers": ["GOLD"]})
    member = await make_member(programme)
    await completed_order(gql, storefront, member.external_id, lines=[line(unit_price=100)])
    shown = {
        c["code"]: c for c in (await member_view(gql, storefront, member.external_id))["challenges"]
    }
    assert set(shown) == {bronze["code"]}
    assert shown[bronze["code"]]["completedAt"] is not None
    assert (
        await ChallengeProgress.filter(member_id=member.id, challenge__code=gold["code"]).count()
        == 0
    )


async def test_another_programme_neither_sees_nor_advances_its_challenges(
    gql, programme, admin, make_programme, make_key, make_member
):
    # given a challenge of programme A, and a member of programme B with an order
    ours = await create_challenge(gql, admin, target=1)
    other = await make_programme()
    key = await make_key(other, Role.STOREFRONT)
    member = await make_member(other)
    await completed_order(gql, key, member.external_id)
    assert (await member_view(gql, key, member.external_id))["challenges"] == []
    assert await ChallengeProgress.filter(challenge__code=ours["code"]).count() == 0
