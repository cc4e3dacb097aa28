"""Points for activity through the API: check-in, reviews and referrals."""

from __future__ import annotations

from typing import Any

from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.points.documents import (
    ACCEPT_REFERRAL,
    CHECK_IN,
    COMPLETE_ORDER,
    INVITE_CODE,
    RETURN_LINES,
    REWARD_REVIEW,
)
from tests.graphql.points.helpers import (
    advance,
    codes,
    completed_order,
    line,
    mutate,
    placed_order,
    points_of,
)
from tests.graphql.test_auth import token_for


async def test_one_check_in_a_day_and_a_streak_across_days(gql, programme, make_member, keys):
    # given a member signed in on the storefront
    admin, storefront = keys
    member = await make_member(programme)
    token = await token_for(gql, storefront, member.external_id)
    # when checking in twice on one day
    first = await mutate(gql, CHECK_IN, "checkIn", token)
    second = await mutate(gql, CHECK_IN, "checkIn", token)
    # then the second is refused
    assert first["__typename"] == "CheckInSuccess", first
    assert first["streak"] == 1 and first["points"] > 0
    assert second["__typename"] == "CheckInError"
    assert codes(second) == ["ALREADY_CHECKED_IN"]
    assert (await points_of(gql, storefront, member.external_id))["available"] == first["points"]
    # when the next day comes
    await advance(gql, admin, days=1)
    next_day = await mutate(gql, CHECK_IN, "checkIn", token)
    # then the streak goes on
    assert next_day["__typename"] == "CheckInSuccess", next_day
    assert next_day["streak"] == 2
    assert next_day["member"]["points"]["available"] == first["points"] + next_day["points"]


async def test_a_review_is_rewarded_once_per_order_line(gql, programme, make_member, keys):
    # given a completed order of two lines
    _, storefront = keys
    member = await make_member(programme)
    order = await completed_order(
        gql,
        storefront,
        member.external_id,
        lines=[line("shirt", 10_000), line("hat", 5_000)],
    )
    earned = 200 + 100

    async def review(sku: str) -> dict[str, Any]:
        return await mutate(
            gql, REWARD_REVIEW, "rewardReview", storefront, orderId=order["orderId"], sku=sku
        )

    # when the shirt is reviewed twice and the hat once
    shirt = await review("shirt")
    shirt_again = await review("shirt")
    hat = await review("hat")
    # then
    assert shirt["__typename"] == "MemberSuccess", shirt
    per_review = shirt["member"]["points"]["available"] - earned
    assert per_review > 0
    assert shirt_again["__typename"] == "RewardReviewError"
    assert codes(shirt_again) == ["ALREADY_REVIEWED"]
    assert hat["__typename"] == "MemberSuccess", hat
    assert hat["member"]["points"]["available"] == earned + 2 * per_review


async def invite_code_of(gql, key: str, external_id: str) -> str:
    body = await gql(INVITE_CODE, {"e": external_id}, auth=key)
    return str(body["data"]["member"]["inviteCode"])


async def accept(gql, key: str, invitee: str, code: str) -> dict[str, Any]:
    return await mutate(
        gql, ACCEPT_REFERRAL, "acceptReferral", key, inviteeExternalId=invitee, inviteCode=code
    )


async def test_a_member_cannot_refer_themselves(gql, programme, make_member, keys):
    _, storefront = keys
    member = await make_member(programme)
    code = await invite_code_of(gql, storefront, member.external_id)
    result = await accept(gql, storefront, member.external_id, code)
    assert result["__typename"] == "AcceptReferralError"
    assert codes(result) == ["SELF_REFERRAL"]


async def test_a_referral_loop_is_refused(gql, programme, make_member, keys):
    # given A invited B
    _, storefront = keys
    a, b = await make_member(programme), await make_member(programme)
    a_code = await invite_code_of(gql, storefront, a.external_id)
    b_code = await invite_code_of(gql, storefront, b.external_id)
    invited = await accept(gql, storefront, b.external_id, a_code)
    assert invited["__typename"] == "MemberSuccess", invited
    # when B's code is used for A
    loop = await accept(gql, storefront, a.external_id, b_code)
    # then
    assert loop["__typename"] == "AcceptReferralError"
    assert codes(loop) == ["REFERRAL_CYCLE"]


async def test_the_inviter_is_rewarded_when_the_invitees_first_order_completes(
    gql, programme, make_member, keys
):
    # given A invited B, and B has placed an order
    _, storefront = keys
    a, b = await make_member(programme), await make_member(programme)
    invited = await accept(
        gql, storefront, b.external_id, await invite_code_of(gql, storefront, a.external_id)
    )
    assert invited["__typename"] == "MemberSuccess", invited
    order = await placed_order(gql, storefront, b.external_id)
    assert (await points_of(gql, storefront, a.external_id))["available"] == 0
    # when the order completes
    done = await mutate(gql, COMPLETE_ORDER, "completeOrder", storefront, orderId=order["orderId"])
    # then A earns the referral points, once
    assert done["__typename"] == "OrderSuccess", done
    rewarded = (await points_of(gql, storefront, a.external_id))["available"]
    assert rewarded > 0
    await completed_order(gql, storefront, b.external_id)
    assert (await points_of(gql, storefront, a.external_id))["available"] == rewarded
    assert (await points_of(gql, storefront, b.external_id))["available"] == 400
    await assert_ledger_consistent(a)
    await assert_ledger_consistent(b)


async def test_returning_the_invitees_first_order_takes_back_the_inviters_reward(
    gql, programme, make_member, keys
):
    # given A was rewarded for B's first order
    _, storefront = keys
    a, b = await make_member(programme), await make_member(programme)
    code = await invite_code_of(gql, storefront, a.external_id)
    assert (await accept(gql, storefront, b.external_id, code))["__typename"] == "MemberSuccess"
    order = await completed_order(gql, storefront, b.external_id, lines=[line("mug", 2_000)])
    assert (await points_of(gql, storefront, a.external_id))["available"] > 0
    # when B returns all of it
    result = await mutate(
        gql,
        RETURN_LINES,
        "returnOrderLines",
        storefront,
        orderId=order["orderId"],
        lines=[{"sku": "mug", "quantity": 1}],
    )
    # then A's reward goes
    assert result["__typename"] == "OrderSuccess", result
    assert (await points_of(gql, storefront, a.external_id))["available"] == 0
    await assert_ledger_consistent(a)
