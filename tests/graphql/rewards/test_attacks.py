"""Attacks on redeeming rewards through the API (issue 20): each test is one way a caller
might try to get a reward, points or stock it should not, and proves what stops it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from db.models import CouponTemplate, Event, Partner, PointHold, PointTransaction, RewardRedemption
from db.models import Member as MemberRow
from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.coupons.documents import RETIRE_TEMPLATE
from tests.graphql.coupons.helpers import create_template, global_id
from tests.graphql.points.documents import REVERSE_REDEMPTION
from tests.graphql.points.helpers import fund, mutate
from tests.graphql.rewards.support import (
    CANCEL,
    QUOTE,
    REDEEM_REWARD,
    call,
    codes,
    key,
    make_reward,
    redeem,
    redemption_count,
    reward_row,
)

MOVE_CLOCK = """
mutation ($to: DateTime!, $key: String!) {
  advanceTestClock(input: {to: $to, idempotencyKey: $key}) { __typename }
}
"""


async def funded(gql, make_member, programme, admin: str, points: int = 1_000):
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, points)
    return member


async def untouched(member, reward, *, stock: int | None, available: int) -> None:
    """The attack wrote nothing: no redemption, hold, debit or event; stock and points kept."""
    assert await redemption_count(reward) == 0
    row = await reward_row(reward)
    assert (row.stock_left, row.redeemed) == (stock, 0)
    assert await PointHold.filter(member_id=member.id).count() == 0
    assert await PointTransaction.filter(member_id=member.id, kind="REDEEM").count() == 0
    assert await Event.filter(member_id=member.id, type="reward.redeemed").count() == 0
    assert (await assert_ledger_consistent(member)).points_available == available


async def cash_and_points(gql, storefront: str, reward, member, order_id: str) -> dict[str, Any]:
    result = await redeem(
        gql,
        storefront,
        reward.code,
        memberExternalId=member.external_id,
        orderId=order_id,
        cash=reward.cash_price,
    )
    assert result["__typename"] == "RewardRedemptionSuccess", result
    redemption: dict[str, Any] = result["redemption"]
    return redemption


# ---- amounts ---------------------------------------------------------------------------------


async def test_a_quantity_whose_total_overflows_is_refused_not_crashed(
    gql, programme, make_member, keys
):
    # given the dearest reward the catalogue allows (100,000,000 points an item)
    admin, storefront = keys
    member = await funded(gql, make_member, programme, admin)
    reward = await make_reward(programme, points_price=100_000_000, total_stock=500)
    # when 100 are quoted (10^10 points: past one operation's limit and a GraphQL Int)
    body = await gql(QUOTE, {"code": reward.code, "q": 100, "e": member.external_id}, auth=admin)
    # then the answer is a VALIDATION error on quantity, not a failure to serialise the total
    assert body["data"] is None or body["data"]["quoteReward"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["VALIDATION"], body
    # and redeeming them is a union VALIDATION error that writes nothing
    result = await redeem(
        gql, storefront, reward.code, quantity=100, memberExternalId=member.external_id
    )
    assert result["__typename"] == "RedeemRewardError" and codes(result) == ["VALIDATION"]
    await untouched(member, reward, stock=500, available=1_000)


async def test_a_cash_total_past_what_the_api_carries_is_refused(gql, programme, make_member, keys):
    # given a cash + points reward of 2,000,000,000 minor units an item
    admin, _storefront = keys
    member = await funded(gql, make_member, programme, admin)
    reward = await make_reward(programme, points_price=1, cash_price=2_000_000_000)
    # when two are quoted: the cash total (4e9) is past a GraphQL Int, so no client could
    # send it back as `cash`; the quote refuses it rather than failing
    body = await gql(QUOTE, {"code": reward.code, "q": 2, "e": member.external_id}, auth=admin)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["VALIDATION"], body
    # one is fine
    body = await gql(QUOTE, {"code": reward.code, "q": 1, "e": member.external_id}, auth=admin)
    assert body["data"]["quoteReward"]["cash"] == 2_000_000_000


# ---- what the reward hands over ---------------------------------------------------------------


async def _coupon_reward(gql, programme, admin: str, **template: Any):
    created = await create_template(gql, admin, **template)
    row = await CouponTemplate.get(programme_id=programme.id, code=created["code"])
    reward = await make_reward(
        programme, kind="COUPON", coupon_template_id=row.id, points_price=50, total_stock=5
    )
    return created, reward


async def test_a_coupon_reward_whose_template_was_retired_rolls_back_whole(
    gql, programme, make_member, keys
):
    admin, storefront = keys
    member = await funded(gql, make_member, programme, admin)
    template, reward = await _coupon_reward(gql, programme, admin, totalStock=10)
    retired = await gql(RETIRE_TEMPLATE, {"input": {"templateCode": template["code"]}}, auth=admin)
    assert "errors" not in retired, retired
    result = await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    assert result["__typename"] == "RedeemRewardError" and codes(result) == ["TEMPLATE_RETIRED"]
    await untouched(member, reward, stock=5, available=1_000)


async def test_a_coupon_reward_whose_template_ran_out_rolls_back_whole(
    gql, programme, make_member, keys
):
    admin, storefront = keys
    member = await funded(gql, make_member, programme, admin)
    first = await funded(gql, make_member, programme, admin)
    _template, reward = await _coupon_reward(gql, programme, admin, totalStock=1)
    taken = await redeem(gql, storefront, reward.code, memberExternalId=first.external_id)
    assert taken["__typename"] == "RewardRedemptionSuccess", taken
    result = await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    assert result["__typename"] == "RedeemRewardError", result
    assert codes(result) == ["OUT_OF_STOCK"]
    assert await RewardRedemption.filter(member_id=member.id).count() == 0
    row = await reward_row(reward)
    assert (row.stock_left, row.redeemed) == (4, 1)
    assert await PointTransaction.filter(member_id=member.id, kind="REDEEM").count() == 0
    assert (await assert_ledger_consistent(member)).points_available == 1_000


async def test_a_partner_reward_of_a_suspended_partner_is_refused(
    gql, programme, make_member, keys
):
    from tests.graphql.partners.documents import SUSPEND_PARTNER
    from tests.graphql.partners.helpers import create_partner, link

    # given a member linked with a partner, and a reward crediting that partner
    admin, storefront = keys
    member = await funded(gql, make_member, programme, admin)
    code = (await create_partner(gql, admin))["partner"]["code"]
    await link(gql, storefront, code, member)
    partner = await Partner.get(programme_id=programme.id, code=code)
    reward = await make_reward(
        programme, kind="PARTNER", partner_id=partner.id, partner_units=500, total_stock=5
    )
    # when the partner is suspended and the reward redeemed
    body = await gql(
        SUSPEND_PARTNER,
        {"input": {"code": code, "suspended": True}},
        auth=admin,
    )
    assert body["data"]["suspendPartner"]["__typename"] == "PartnerSuccess", body
    result = await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    # then PARTNER_SUSPENDED, and no points are spent on units nobody will credit
    assert result["__typename"] == "RedeemRewardError", result
    assert codes(result) == ["PARTNER_SUSPENDED"]
    await untouched(member, reward, stock=5, available=1_000)


# ---- who may ----------------------------------------------------------------------------------


async def test_a_member_token_cannot_redeem_for_another_member(gql, programme, make_member, keys):
    from tests.graphql.test_auth import token_for

    admin, storefront = keys
    member = await funded(gql, make_member, programme, admin)
    other = await funded(gql, make_member, programme, admin)
    token = await token_for(gql, storefront, member.external_id)
    reward = await make_reward(programme, total_stock=5)
    result = await redeem(gql, token, reward.code, memberExternalId=other.external_id)
    assert codes(result) == ["NOT_FOUND"]
    await untouched(other, reward, stock=5, available=1_000)
    await untouched(member, reward, stock=5, available=1_000)


async def test_a_redeem_key_replayed_on_cancel_or_with_another_member_is_refused(
    gql, programme, make_member, keys
):
    admin, storefront = keys
    member = await funded(gql, make_member, programme, admin)
    other = await funded(gql, make_member, programme, admin)
    reward = await make_reward(programme, total_stock=5)
    shared = key()
    first = await gql(
        REDEEM_REWARD,
        {
            "input": {
                "code": reward.code,
                "memberExternalId": member.external_id,
                "idempotencyKey": shared,
            }
        },
        auth=storefront,
    )
    done = first["data"]["redeemReward"]["redemption"]
    # the same key for another member's redemption, or for cancelling this one: refused
    theirs = await gql(
        REDEEM_REWARD,
        {
            "input": {
                "code": reward.code,
                "memberExternalId": other.external_id,
                "idempotencyKey": shared,
            }
        },
        auth=storefront,
    )
    assert codes(theirs["data"]["redeemReward"]) == ["IDEMPOTENCY_KEY_REUSED"]
    cancel = await gql(
        CANCEL,
        {"input": {"id": done["id"], "reason": "r", "idempotencyKey": shared}},
        auth=storefront,
    )
    assert codes(cancel["data"]["cancelRewardRedemption"]) == ["IDEMPOTENCY_KEY_REUSED"]
    assert (await RewardRedemption.get(member_id=member.id)).status == "REQUESTED"
    assert await RewardRedemption.filter(member_id=other.id).count() == 0
    assert (await MemberRow.get(id=other.id)).points_available == 1_000
    assert (await reward_row(reward)).stock_left == 4


async def test_reversing_a_rewards_own_debit_is_refused_so_cancel_restores_once(
    gql, programme, make_member, keys
):
    # given a product redeemed for 300 points, still owed
    admin, storefront = keys
    member = await funded(gql, make_member, programme, admin)
    reward = await make_reward(programme, points_price=300, total_stock=5)
    done = await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    row = await RewardRedemption.get(reward_id=reward.id)
    # when an admin reverses the reward's debit as a plain redemption
    reversed_ = await mutate(
        gql,
        REVERSE_REDEMPTION,
        "reverseRedemption",
        admin,
        transactionId=global_id("PointTransaction", row.transaction_id),
        reason="mistake",
    )
    # then it is refused: the redemption is cancelled instead, which gives the points back once
    assert [e["code"] for e in reversed_["errors"]] == ["NOT_ELIGIBLE"], reversed_
    cancelled = await call(
        gql, CANCEL, "cancelRewardRedemption", admin, id=done["redemption"]["id"], reason="r"
    )
    assert cancelled["redemption"]["status"] == "CANCELLED"
    assert await PointTransaction.filter(member_id=member.id, kind="REVERSE").count() == 1
    assert (await assert_ledger_consistent(member)).points_available == 1_000


# ---- the per-member limit on the programme's calendar ----------------------------------------


async def _move_to(gql, admin: str, moment: datetime) -> None:
    body = await gql(MOVE_CLOCK, {"to": moment.isoformat(), "key": uuid.uuid4().hex}, auth=admin)
    assert body["data"]["advanceTestClock"]["__typename"] == "AdvanceTestClockSuccess", body


@pytest.mark.parametrize(
    ("period", "first", "second", "allowed"),
    [
        # Shanghai is UTC+8: its Monday 2027-03-01 begins at 16:00 UTC on Sunday
        (
            "WEEK",
            datetime(2027, 2, 28, 15, 30, tzinfo=UTC),
            datetime(2027, 2, 28, 16, 30, tzinfo=UTC),
            True,
        ),
        (
            "WEEK",
            datetime(2027, 2, 28, 16, 30, tzinfo=UTC),
            datetime(2027, 3, 1, 0, 30, tzinfo=UTC),
            False,
        ),
        # and its March begins at 16:00 UTC on 28 February
        (
            "MONTH",
            datetime(2027, 2, 28, 15, 59, tzinfo=UTC),
            datetime(2027, 2, 28, 16, 0, tzinfo=UTC),
            True,
        ),
        (
            "MONTH",
            datetime(2027, 2, 28, 16, 0, tzinfo=UTC),
            datetime(2027, 3, 1, 1, 0, tzinfo=UTC),
            False,
        ),
    ],
)
async def test_the_member_limit_turns_over_at_local_midnight(
    gql, programme, make_member, keys, period, first, second, allowed
):
    # given a reward limited to 1 per member per period, in a programme on Shanghai time
    admin, storefront = keys
    member = await funded(gql, make_member, programme, admin)
    reward = await make_reward(programme, per_member_limit=1, limit_period=period)
    # when the member redeems once at `first` and again at `second`
    await _move_to(gql, admin, first)
    one = await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    assert one["__typename"] == "RewardRedemptionSuccess", one
    await _move_to(gql, admin, second)
    two = await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    # then the second succeeds only if a new local period began in between
    if allowed:
        assert two["__typename"] == "RewardRedemptionSuccess", two
    else:
        assert codes(two) == ["LIMIT_REACHED"]


# ---- erasure ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cash", [0, 5_000])
async def test_erasing_a_member_with_a_requested_redemption_leaves_no_balance_behind(
    gql, programme, make_member, keys, cash
):
    from tests.graphql.points.documents import CAPTURE_HOLD
    from tests.graphql.test_privacy import ERASE, erase_input

    # given a member whose product (300 points, or 300 points and cash captured) is owed
    admin, storefront = keys
    member = await funded(gql, make_member, programme, admin)
    reward = await make_reward(programme, points_price=300, cash_price=cash, total_stock=5)
    if cash:
        done = {"redemption": await cash_and_points(gql, storefront, reward, member, "shop-e")}
        captured = await mutate(
            gql,
            CAPTURE_HOLD,
            "captureHold",
            storefront,
            holdId=done["redemption"]["holdId"],
            amount=300,
        )
        assert captured["__typename"] == "HoldSuccess", captured
    else:
        done = await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    # when the member is erased
    body = await gql(ERASE, {"input": erase_input(member.external_id)}, auth=admin)
    erased = body["data"]["eraseMember"]
    assert erased["__typename"] == "EraseMemberSuccess", body
    # then nothing is owed to nobody: the redemption is cancelled (the stock back), its points
    # forfeited with the rest, and a later cancel gives the erased member nothing
    row = await RewardRedemption.get(reward_id=reward.id)
    assert row.status == "CANCELLED"
    assert (await reward_row(reward)).stock_left == 5
    assert erased["forfeitedPoints"] == 1_000
    late = await call(
        gql, CANCEL, "cancelRewardRedemption", admin, id=done["redemption"]["id"], reason="r"
    )
    assert codes(late) == ["ALREADY_CANCELLED"]
    assert (await assert_ledger_consistent(member)).points_available == 0
    # and no reward event still names the old externalId
    named = [
        e.payload["member"]["externalId"]
        for e in await Event.filter(member_id=member.id, type__startswith="reward.")
    ]
    assert named and member.external_id not in named


@pytest.mark.parametrize("kind", ["COUPON", "DIGITAL"])
async def test_several_items_of_a_coupon_or_code_reward_are_not_paid_for_one(
    gql, programme, make_member, keys, kind
):
    # given a reward handing over one coupon (or one code) per redemption
    admin, storefront = keys
    member = await funded(gql, make_member, programme, admin)
    if kind == "COUPON":
        _template, reward = await _coupon_reward(gql, programme, admin, totalStock=10)
    else:
        reward = await make_reward(programme, kind="DIGITAL", points_price=50, total_stock=5)
    # when three are redeemed at once
    result = await redeem(
        gql, storefront, reward.code, quantity=3, memberExternalId=member.external_id
    )
    # then refused (a redemption holds one coupon or code): not 150 points for one
    assert codes(result) == ["VALIDATION"], result
    await untouched(member, reward, stock=5, available=1_000)
    # and no quote prices them either
    body = await gql(QUOTE, {"code": reward.code, "q": 3, "e": member.external_id}, auth=admin)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["VALIDATION"], body
