"""redeemReward for points only, fulfil and cancel, through the API (issue 20, points 2 and 4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from db.models import CouponTemplate, Event, PointLot, PointTransaction, RewardRedemption
from db.models import Member as MemberRow
from domain.auth import Role
from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.coupons.helpers import create_template
from tests.graphql.points.helpers import advance, fund, points_of
from tests.graphql.rewards.support import (
    CANCEL,
    FULFIL,
    REDEEM_REWARD,
    call,
    codes,
    key,
    make_reward,
    redeem,
    redemption_count,
    reward_row,
)


@pytest.fixture
async def keys(programme, make_key) -> tuple[str, str]:
    return await make_key(programme, Role.ADMIN), await make_key(programme, Role.STOREFRONT)


async def _funded(gql, make_member, programme, admin: str, points: int = 1_000):
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, points)
    return member


async def test_a_product_is_paid_in_points_and_waits_for_fulfilment(
    gql, programme, make_member, keys
):
    # given a member with 1,000 points and a product of 300 points with 5 in stock
    admin, storefront = keys
    member = await _funded(gql, make_member, programme, admin)
    reward = await make_reward(programme, points_price=300, total_stock=5)
    # when the storefront redeems two for the member
    result = await redeem(
        gql, storefront, reward.code, quantity=2, memberExternalId=member.external_id
    )
    # then the redemption is REQUESTED, 600 points are spent from the lots, 2 items taken
    assert result["__typename"] == "RewardRedemptionSuccess", result
    done = result["redemption"]
    assert (done["status"], done["points"], done["quantity"], done["cash"]) == (
        "REQUESTED",
        600,
        2,
        0,
    )
    assert (done["rewardCode"], done["rewardTitle"]) == (reward.code, "A mug")
    assert (await points_of(gql, admin, member.external_id))["available"] == 400
    row = await reward_row(reward)
    assert (row.stock_left, row.redeemed) == (3, 2)
    stored = await RewardRedemption.get(reward_id=reward.id)
    debit = await PointTransaction.get(id=stored.transaction_id)
    assert (debit.kind, debit.amount, debit.reference_type, debit.reference) == (
        "REDEEM",
        -600,
        "REWARD",
        str(stored.id),
    )
    await assert_ledger_consistent(member)
    event = await Event.get(member_id=member.id, type="reward.redeemed")
    # shaped as every event's payload: the member, and the redemption by its API id
    assert event.payload["version"] == 1
    assert event.payload["member"] == {"externalId": member.external_id}
    assert event.payload["redemption"] == done["id"]
    assert event.payload["reward"] == {"code": reward.code} and event.payload["points"] == 600
    # and fulfilling it with a tracking number closes it, once
    fulfilled = await call(
        gql, FULFIL, "fulfilRewardRedemption", admin, id=done["id"], trackingRef="SF123"
    )
    assert fulfilled["__typename"] == "RewardRedemptionSuccess", fulfilled
    assert (fulfilled["redemption"]["status"], fulfilled["redemption"]["trackingRef"]) == (
        "FULFILLED",
        "SF123",
    )
    assert await Event.filter(member_id=member.id, type="reward.fulfilled").count() == 1
    again = await call(gql, FULFIL, "fulfilRewardRedemption", admin, id=done["id"])
    assert codes(again) == ["ALREADY_FULFILLED"]
    # and a fulfilled one is not cancelled
    refused = await call(
        gql, CANCEL, "cancelRewardRedemption", admin, id=done["id"], reason="changed mind"
    )
    assert codes(refused) == ["ALREADY_FULFILLED"]
    assert (await points_of(gql, admin, member.external_id))["available"] == 400


async def test_a_coupon_reward_lands_in_the_wallet_and_is_fulfilled_at_once(
    gql, programme, make_member, keys
):
    admin, storefront = keys
    member = await _funded(gql, make_member, programme, admin)
    template = await create_template(gql, admin, totalStock=10)
    template_id = (await CouponTemplate.get(programme_id=programme.id, code=template["code"])).id
    reward = await make_reward(
        programme, kind="COUPON", coupon_template_id=template_id, points_price=50
    )
    result = await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    assert result["__typename"] == "RewardRedemptionSuccess", result
    done = result["redemption"]
    assert done["status"] == "FULFILLED" and done["fulfilledAt"] is not None
    assert done["couponCode"]
    assert await Event.filter(member_id=member.id, type="coupon.issued").count() == 1


async def test_a_coupon_reward_keeps_its_templates_limit_per_member(
    gql, programme, make_member, keys
):
    # given a coupon template a member may hold once, sold as a reward with no limit of its own
    admin, storefront = keys
    member = await _funded(gql, make_member, programme, admin)
    template = await create_template(gql, admin, perMemberLimit=1)
    template_id = (await CouponTemplate.get(programme_id=programme.id, code=template["code"])).id
    reward = await make_reward(
        programme, kind="COUPON", coupon_template_id=template_id, points_price=50
    )
    first = await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    assert first["__typename"] == "RewardRedemptionSuccess", first
    ledger_before = await PointTransaction.filter(member_id=member.id).count()
    stock_before = (await reward_row(reward)).stock_left
    # when the member buys it a second time
    second = await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    # then the template's limit refuses it, and nothing of it is written
    assert codes(second) == ["LIMIT_REACHED"]
    assert await redemption_count(reward) == 1
    assert (await reward_row(reward)).stock_left == stock_before
    assert await PointTransaction.filter(member_id=member.id).count() == ledger_before


async def test_a_digital_reward_hands_over_a_code_at_once(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await _funded(gql, make_member, programme, admin)
    reward = await make_reward(programme, kind="DIGITAL", points_price=50)
    first = await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    second = await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    codes_handed = {r["redemption"]["digitalCode"] for r in (first, second)}
    assert len(codes_handed) == 2 and all(c and len(c) == 16 for c in codes_handed)
    assert {first["redemption"]["status"], second["redemption"]["status"]} == {"FULFILLED"}


async def test_a_partner_reward_needs_a_link_to_the_partner(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await _funded(gql, make_member, programme, admin)
    reward = await make_reward(programme, kind="PARTNER", partner_id=999_999, partner_units=10)
    result = await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    assert codes(result) == ["NOT_LINKED"]
    assert await redemption_count(reward) == 0


async def _nothing_written(member, reward, stock_before, ledger_before: int) -> None:
    assert await redemption_count(reward) == 0
    assert (await reward_row(reward)).stock_left == stock_before
    assert (await reward_row(reward)).redeemed == 0
    assert await PointTransaction.filter(member_id=member.id).count() == ledger_before
    assert await Event.filter(member_id=member.id, type="reward.redeemed").count() == 0


@pytest.mark.parametrize(
    ("overrides", "input", "code"),
    [
        ({}, {"quantity": 0}, "VALIDATION"),
        ({}, {"quantity": 101}, "VALIDATION"),
        ({"status": "RETIRED"}, {}, "REWARD_RETIRED"),
        ({"total_stock": 1}, {"quantity": 2}, "OUT_OF_STOCK"),
        ({"total_stock": 0}, {}, "OUT_OF_STOCK"),
        ({"eligible_tiers": [-1]}, {}, "NOT_ELIGIBLE"),
        ({"points_price": 1_001}, {}, "INSUFFICIENT_POINTS"),
        ({}, {"cash": 10}, "CASH_MISMATCH"),
        ({}, {"orderId": "o-1"}, "VALIDATION"),
        ({"valid_from": datetime.now(UTC) + timedelta(days=30)}, {}, "NOT_AVAILABLE"),
        ({"valid_until": datetime(2020, 1, 1, tzinfo=UTC)}, {}, "NOT_AVAILABLE"),
        ({"per_member_limit": 0}, {}, "LIMIT_REACHED"),
    ],
)
async def test_a_refused_redemption_writes_nothing(
    gql, programme, make_member, keys, overrides, input, code
):
    # given a funded member and a reward the case makes unredeemable
    admin, storefront = keys
    member = await _funded(gql, make_member, programme, admin)
    reward = await make_reward(programme, **overrides)
    ledger_before = await PointTransaction.filter(member_id=member.id).count()
    # when it is redeemed
    result = await redeem(
        gql, storefront, reward.code, memberExternalId=member.external_id, **input
    )
    # then a union error with the code, and no ledger row, stock, redemption or event
    assert result["__typename"] == "RedeemRewardError", result
    assert codes(result) == [code]
    await _nothing_written(member, reward, reward.stock_left, ledger_before)
    assert (await points_of(gql, admin, member.external_id))["available"] == 1_000


async def test_an_unknown_code_is_not_found(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await _funded(gql, make_member, programme, admin)
    result = await redeem(gql, storefront, "NO-SUCH", memberExternalId=member.external_id)
    assert codes(result) == ["NOT_FOUND"]


async def test_the_member_limit_counts_the_period_and_not_cancelled_ones(
    gql, programme, make_member, keys
):
    # given a reward limited to 2 per member per month
    admin, storefront = keys
    member = await _funded(gql, make_member, programme, admin)
    reward = await make_reward(programme, per_member_limit=2, limit_period="MONTH")
    first = await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    second = await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    assert {first["__typename"], second["__typename"]} == {"RewardRedemptionSuccess"}
    # when a third is asked for, it is refused
    third = await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    assert codes(third) == ["LIMIT_REACHED"]
    # then a cancelled one no longer counts
    cancelled = await call(
        gql,
        CANCEL,
        "cancelRewardRedemption",
        admin,
        id=first["redemption"]["id"],
        reason="out of stock at the warehouse",
    )
    assert cancelled["__typename"] == "RewardRedemptionSuccess", cancelled
    again = await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    assert again["__typename"] == "RewardRedemptionSuccess", again
    # and next month the count starts again
    await advance(gql, admin, days=32)
    later = await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    assert later["__typename"] == "RewardRedemptionSuccess", later


async def _lots(member) -> list[tuple[int, int, datetime | None]]:
    rows = await PointLot.filter(member_id=member.id).order_by("id")
    return [(lot.id, lot.remaining, lot.expires_at) for lot in rows]


async def test_cancel_gives_the_points_back_into_their_lots_exactly_once(
    gql, programme, make_member, keys
):
    # given points earned in two lots a month apart
    admin, storefront = keys
    member = await _funded(gql, make_member, programme, admin, 300)
    await advance(gql, admin, days=31)
    await fund(gql, admin, member.external_id, 300)
    before = await _lots(member)
    assert len(before) == 2 and before[0][2] != before[1][2]
    reward = await make_reward(programme, points_price=400, total_stock=3)
    done = await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    assert [lot[1] for lot in await _lots(member)] == [0, 200]  # the older lot first
    # when the redemption is cancelled twice
    cancel_input = {"id": done["redemption"]["id"], "reason": "customer asked"}
    first = await call(gql, CANCEL, "cancelRewardRedemption", admin, **cancel_input)
    second = await call(gql, CANCEL, "cancelRewardRedemption", admin, **cancel_input)
    # then the first restores every point into its own lot, expiry unchanged; the second
    # is ALREADY_CANCELLED and restores nothing
    assert first["__typename"] == "RewardRedemptionSuccess", first
    assert (first["redemption"]["status"], first["redemption"]["cancelReason"]) == (
        "CANCELLED",
        "customer asked",
    )
    assert codes(second) == ["ALREADY_CANCELLED"]
    assert await _lots(member) == before
    assert await PointTransaction.filter(member_id=member.id, kind="REVERSE").count() == 1
    assert (await points_of(gql, admin, member.external_id))["available"] == 600
    row = await reward_row(reward)
    assert (row.stock_left, row.redeemed) == (3, 0)
    stored = await RewardRedemption.get(reward_id=reward.id)
    assert stored.restore_transaction_id is not None
    assert await Event.filter(member_id=member.id, type="reward.cancelled").count() == 1
    await assert_ledger_consistent(member)


async def test_a_replayed_key_answers_the_same_redemption(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await _funded(gql, make_member, programme, admin)
    reward = await make_reward(programme, total_stock=5)
    variables = {
        "input": {
            "code": reward.code,
            "memberExternalId": member.external_id,
            "idempotencyKey": key(),
        }
    }
    first = (await gql(REDEEM_REWARD, variables, auth=storefront))["data"]["redeemReward"]
    second = (await gql(REDEEM_REWARD, variables, auth=storefront))["data"]["redeemReward"]
    assert first == second and first["__typename"] == "RewardRedemptionSuccess"
    assert await redemption_count(reward) == 1
    assert (await reward_row(reward)).stock_left == 4
    assert (await points_of(gql, admin, member.external_id))["available"] == 900
    # the same key with another input is refused
    variables["input"]["quantity"] = 2
    other = (await gql(REDEEM_REWARD, variables, auth=storefront))["data"]["redeemReward"]
    assert codes(other) == ["IDEMPOTENCY_KEY_REUSED"]


async def test_a_member_token_redeems_and_cancels_its_own_only(gql, programme, make_member, keys):
    from tests.graphql.test_auth import token_for

    admin, storefront = keys
    member = await _funded(gql, make_member, programme, admin)
    other = await _funded(gql, make_member, programme, admin)
    token = await token_for(gql, storefront, member.external_id)
    reward = await make_reward(programme)
    mine = await redeem(gql, token, reward.code)
    assert mine["__typename"] == "RewardRedemptionSuccess", mine
    theirs = await redeem(gql, storefront, reward.code, memberExternalId=other.external_id)
    # the member sees and cancels its own, and not another's
    refused = await call(
        gql, CANCEL, "cancelRewardRedemption", token, id=theirs["redemption"]["id"], reason="x"
    )
    assert codes(refused) == ["NOT_FOUND"]
    own = await call(
        gql, CANCEL, "cancelRewardRedemption", token, id=mine["redemption"]["id"], reason="x"
    )
    assert own["redemption"]["status"] == "CANCELLED"
    assert (await MemberRow.get(id=other.id)).points_available == 900
    assert (await MemberRow.get(id=member.id)).points_available == 1_000


async def test_a_partner_reward_for_a_linked_member_is_fulfilled_with_the_partners_reference(
    gql, programme, make_member, keys
):
    from db.models import Partner
    from tests.graphql.partners.helpers import create_partner, link

    # given a member linked with a partner and a reward crediting that partner
    admin, storefront = keys
    member = await _funded(gql, make_member, programme, admin)
    created = await create_partner(gql, admin)
    code = created["partner"]["code"]
    await link(gql, storefront, code, member)
    partner = await Partner.get(programme_id=programme.id, code=code)
    reward = await make_reward(programme, kind="PARTNER", partner_id=partner.id, partner_units=500)
    # when it is redeemed, then it waits for the partner, and is fulfilled with its reference
    done = await redeem(gql, storefront, reward.code, memberExternalId=member.external_id)
    assert done["redemption"]["status"] == "REQUESTED", done
    fulfilled = await call(
        gql, FULFIL, "fulfilRewardRedemption", admin, id=done["redemption"]["id"], trackingRef="P-1"
    )
    assert (fulfilled["redemption"]["status"], fulfilled["redemption"]["trackingRef"]) == (
        "FULFILLED",
        "P-1",
    )
