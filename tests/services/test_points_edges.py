"""Edge cases of the ledger found by a second reading: debts meeting restores, holds meeting
expiry, returns and cancels, a policy switch, review farming, balance limits."""

from __future__ import annotations

import uuid

import pytest

from db.models import PointHold, PointLot, PointTransaction, Programme
from domain.errors import DomainError, ErrorCode
from domain.points import ExpiryPolicy, NegativePolicy, Payment, PaymentMethod
from services.points import admin, captures, holds, order_returns, redemption
from services.points import orders as order_service
from services.points import policy as policy_service
from services.points.activity import check_ins, referrals, reviews
from services.points.order_returns import ReturnLine
from tests.fixtures.factories import admin_of
from tests.fixtures.points import (
    advance,
    assert_ledger_consistent,
    complete,
    line,
    place_order,
    run_jobs,
    staff,
)
from tests.services.test_points_ledger import code_of, redeem, set_policy


async def pay_with_points(programme, member, order_ref: str, points: int) -> PointHold:
    hold = await holds.hold(
        staff(programme),
        member_external_id=member.external_id,
        amount=points,
        order_ref=order_ref,
        idempotency_key=uuid.uuid4().hex,
    )
    return await captures.capture(
        staff(programme), hold_id=hold.id, amount=points, idempotency_key=uuid.uuid4().hex
    )


@pytest.mark.parametrize("policy", list(NegativePolicy))
async def test_a_whole_return_gives_back_points_paid_before_clawing_back(
    programme, make_member, policy
):
    # given order X paid partly with 100 points, X's own 200 points spent elsewhere
    await set_policy(programme, negative_policy=policy)
    member = await make_member(programme)
    await complete(programme, await place_order(programme, member, line(price=5_000)))  # 100
    await pay_with_points(programme, member, "x", 100)
    order = await place_order(
        programme,
        member,
        line(price=12_000),
        order_ref="x",
        payments=[Payment(PaymentMethod.CARD, 10_000), Payment(PaymentMethod.POINTS, 2_000)],
    )
    await complete(programme, order)  # +200 available
    await redeem(programme, member, 200)
    # when X comes back whole
    await order_returns.return_lines(
        staff(programme), "x", [ReturnLine("sku-1", 1)], idempotency_key="back"
    )
    # then the 100 paid come back and cover half the clawback of 200: a debt (or shortfall) of 100
    row = await assert_ledger_consistent(member)
    if policy is NegativePolicy.ALLOW_NEGATIVE:
        assert (row.points_available, row.points_shortfall) == (-100, 0)
    else:
        assert (row.points_available, row.points_shortfall) == (0, 100)


async def test_reversing_a_redemption_while_in_debt_repays_the_debt_first(programme, make_member):
    member = await make_member(programme)
    order = await place_order(programme, member, line(price=5_000))
    await complete(programme, order)  # 100
    spent = await redeem(programme, member, 100)
    await order_returns.return_lines(
        staff(programme), order.order_ref, [ReturnLine("sku-1", 1)], idempotency_key="r"
    )
    assert (await assert_ledger_consistent(member)).points_available == -100
    await redemption.reverse_redemption(
        staff(programme), transaction_id=spent.id, reason="undo", idempotency_key="u"
    )
    row = await assert_ledger_consistent(member)  # lots may not hold what the balance lacks
    assert row.points_available == 0
    await advance(programme, days=400)
    await run_jobs(programme)
    assert (await assert_ledger_consistent(member)).points_available == 0  # expiry made no debt


async def test_no_capture_after_the_order_was_cancelled_and_cancel_releases_open_holds(
    programme, make_member
):
    member = await make_member(programme)
    await complete(programme, await place_order(programme, member, line(price=25_000)))  # 500
    await place_order(programme, member, line(price=10_000), order_ref="y")
    late = await holds.hold(
        staff(programme),
        member_external_id=member.external_id,
        amount=100,
        order_ref="y",
        idempotency_key="h1",
    )
    await order_service.cancel(staff(programme), "y", idempotency_key="c")
    assert (await PointHold.get(id=late.id)).status == "RELEASED"
    assert (
        await code_of(
            captures.capture(staff(programme), hold_id=late.id, amount=100, idempotency_key="cap")
        )
        is ErrorCode.HOLD_CLOSED
    )
    row = await assert_ledger_consistent(member)
    assert (row.points_available, row.points_held) == (500, 0)
    # a hold made after the cancel is refused at capture, and released
    after = await holds.hold(
        staff(programme),
        member_external_id=member.external_id,
        amount=100,
        order_ref="y",
        idempotency_key="h2",
    )
    assert (
        await code_of(
            captures.capture(staff(programme), hold_id=after.id, amount=100, idempotency_key="cap2")
        )
        is ErrorCode.ORDER_CLOSED
    )
    row = await assert_ledger_consistent(member)
    assert (row.points_available, row.points_held) == (500, 0)


async def hold_just_before_expiry(programme, member) -> PointHold:
    """Hold 60 of a 100-point lot ten minutes before it expires, then let it expire (the hold
    itself runs 30 minutes)."""
    lot = await PointLot.get(member_id=member.id)
    now = (await Programme.get(id=programme.id)).test_clock_at
    await advance(programme, seconds=int((lot.expires_at - now).total_seconds()) - 600)
    hold = await holds.hold(
        staff(programme),
        member_external_id=member.external_id,
        amount=60,
        order_ref="z",
        idempotency_key="h",
    )
    await advance(programme, seconds=660)
    return hold


async def test_expiry_leaves_held_points_for_the_capture(programme, make_member):
    member = await make_member(programme)
    await complete(programme, await place_order(programme, member, line(price=5_000)))  # 100
    hold = await hold_just_before_expiry(programme, member)
    await run_jobs(programme)
    row = await assert_ledger_consistent(member)
    assert (row.points_available, row.points_held) == (60, 60)  # 40 expired, 60 still held
    await captures.capture(staff(programme), hold_id=hold.id, amount=60, idempotency_key="c")
    assert (await assert_ledger_consistent(member)).points_available == 0


async def test_released_held_points_expire_at_the_next_run(programme, make_member):
    member = await make_member(programme)
    await complete(programme, await place_order(programme, member, line(price=5_000)))
    hold = await hold_just_before_expiry(programme, member)
    await run_jobs(programme)
    await holds.release(staff(programme), hold_id=hold.id, idempotency_key="rel")
    await run_jobs(programme)
    assert (await assert_ledger_consistent(member)).points_available == 0


async def test_a_clamped_clawback_leaves_held_points_reserved(programme, make_member):
    await set_policy(programme, negative_policy=NegativePolicy.CLAMP_AND_RECORD)
    member = await make_member(programme)
    order = await place_order(programme, member, line(price=5_000))
    await complete(programme, order)  # 100
    await holds.hold(
        staff(programme),
        member_external_id=member.external_id,
        amount=100,
        order_ref="elsewhere",
        idempotency_key="h",
    )
    await order_returns.return_lines(
        staff(programme), order.order_ref, [ReturnLine("sku-1", 1)], idempotency_key="r"
    )
    row = await assert_ledger_consistent(member)
    assert (row.points_available, row.points_held, row.points_shortfall) == (100, 100, 100)


async def test_switching_from_rolling_to_lots_dates_the_undated_lots(programme, make_member):
    await set_policy(programme, expiry_policy=ExpiryPolicy.ROLLING_ACTIVITY)
    member = await make_member(programme)
    await complete(programme, await place_order(programme, member, line(price=5_000)))
    assert (await PointLot.get(member_id=member.id)).expires_at is None
    await policy_service.change(
        admin_of(programme), {"expiry_policy": ExpiryPolicy.LOTS}, idempotency_key="switch"
    )
    lot = await PointLot.get(member_id=member.id)
    assert lot.expires_at is not None and lot.expires_at > lot.earned_at
    await advance(programme, days=800)
    await run_jobs(programme)
    assert (await assert_ledger_consistent(member)).points_available == 0


async def test_reviews_pay_only_for_completed_unreturned_items_and_go_with_the_item(
    programme, make_member
):
    member = await make_member(programme)
    order = await place_order(programme, member, line("a", 5_000), line("b", 5_000))
    assert (
        await code_of(
            reviews.reward_review(
                staff(programme), order_ref=order.order_ref, sku="a", idempotency_key="early"
            )
        )
        is ErrorCode.NOT_ELIGIBLE
    )
    await complete(programme, order)
    await reviews.reward_review(
        staff(programme), order_ref=order.order_ref, sku="a", idempotency_key="ok"
    )
    assert (await assert_ledger_consistent(member)).points_available == 210
    await order_returns.return_lines(
        staff(programme), order.order_ref, [ReturnLine("a", 1)], idempotency_key="ret"
    )
    row = await assert_ledger_consistent(member)
    assert row.points_available == 100  # the line's 100 and its review's 10 went back
    assert await code_of(
        reviews.reward_review(
            staff(programme), order_ref=order.order_ref, sku="a", idempotency_key="again"
        )
    ) in (ErrorCode.ALREADY_REVIEWED, ErrorCode.NOT_ELIGIBLE)
    # a 64-character order id and sku make a valid, long review reference
    long_order = await place_order(programme, member, line("s" * 64, 5_000), order_ref="o" * 64)
    await complete(programme, long_order)
    await reviews.reward_review(
        staff(programme), order_ref="o" * 64, sku="s" * 64, idempotency_key="long"
    )


async def test_balances_stop_at_the_limit_with_a_code(programme, make_member):
    member = await make_member(programme)
    for n in range(2):
        await admin.grant(
            admin_of(programme),
            member_external_ids=[member.external_id],
            amount=1_000_000_000,
            reason="big",
            idempotency_key=f"g{n}",
        )
    assert (
        await code_of(
            admin.grant(
                admin_of(programme),
                member_external_ids=[member.external_id],
                amount=1,
                reason="one more",
                idempotency_key="g3",
            )
        )
        is ErrorCode.BALANCE_LIMIT
    )
    assert (await assert_ledger_consistent(member)).points_available == 2_000_000_000


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (
            lambda p, m: redemption.redeem(
                staff(p),
                member_external_id=m.external_id,
                amount=1,
                reason="r",
                reward="x" * 129,
                idempotency_key="k",
            ),
            "reward",
        ),
        (
            lambda p, m: redemption.redeem(
                staff(p),
                member_external_id=m.external_id,
                amount=1,
                reason="r",
                reward="nul\x00",
                idempotency_key="k",
            ),
            "reward",
        ),
        (lambda p, m: order_service.complete(staff(p), "nul\x00", idempotency_key="k"), "orderId"),
        (lambda p, m: order_service.cancel(staff(p), "o" * 65, idempotency_key="k"), "orderId"),
        (
            lambda p, m: reviews.reward_review(
                staff(p), order_ref="nul\x00", sku="a", idempotency_key="k"
            ),
            "orderId",
        ),
        (
            lambda p, m: reviews.reward_review(
                staff(p), order_ref="o", sku="\x00", idempotency_key="k"
            ),
            "sku",
        ),
        (
            lambda p, m: referrals.accept_referral(
                staff(p), invitee_external_id=m.external_id, invite_code="\x00", idempotency_key="k"
            ),
            "inviteCode",
        ),
    ],
)
async def test_unusable_text_is_a_validation_error(programme, make_member, call, field):
    member = await make_member(programme)
    with pytest.raises(DomainError) as raised:
        await call(programme, member)
    assert raised.value.code is ErrorCode.VALIDATION and raised.value.errors[0].field == field
    assert await PointTransaction.filter(member_id=member.id).count() == 0


async def test_a_grant_reaches_a_thousand_members_and_refuses_more(programme, make_member):
    members = [await make_member(programme) for _ in range(3)]
    ids = [m.external_id for m in members] + [f"nobody-{n}" for n in range(998)]
    assert (
        await code_of(
            admin.grant(
                admin_of(programme),
                member_external_ids=ids,
                amount=5,
                reason="too many",
                idempotency_key="g1",
            )
        )
        is ErrorCode.VALIDATION
    )
    assert (
        await code_of(
            admin.grant(
                admin_of(programme),
                member_external_ids=ids[:1000],
                amount=5,
                reason="unknown ones",
                idempotency_key="g2",
            )
        )
        is ErrorCode.NOT_FOUND
    )
    assert await PointTransaction.filter(member_id__in=[m.id for m in members]).count() == 0


async def test_check_in_days_follow_the_programme_time_zone(make_programme, make_member):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    programme = await make_programme(timezone="Asia/Shanghai")
    member = await make_member(programme)
    # move the test clock to 23:59 Shanghai time
    now = programme.test_clock_at.astimezone(ZoneInfo("Asia/Shanghai"))
    target = (now + timedelta(days=1)).replace(hour=23, minute=59, second=0, microsecond=0)
    await advance(programme, seconds=int((target - now).total_seconds()))
    await check_ins.check_in(
        staff(programme), member_external_id=member.external_id, idempotency_key="a"
    )
    assert (
        await code_of(
            check_ins.check_in(
                staff(programme), member_external_id=member.external_id, idempotency_key="b"
            )
        )
        is ErrorCode.ALREADY_CHECKED_IN
    )
    await advance(programme, seconds=120)  # 00:01 the next day there, still the same UTC day
    checked_in = await check_ins.check_in(
        staff(programme), member_external_id=member.external_id, idempotency_key="c"
    )
    assert checked_in.streak == 2  # a new local day, though the UTC date did not change
