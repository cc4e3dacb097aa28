"""The ledger's rules through the services, on the real database (RELIABILITY 8-21)."""

from __future__ import annotations

import uuid

import pytest

from db.models import LotMovement, PointLot, PointTransaction, Programme
from db.repositories import holds as hold_repo
from domain.errors import DomainError, ErrorCode
from domain.points import ExpiryPolicy, NegativePolicy, Payment, PaymentMethod, PointsPolicy
from services.jobs import run_all
from services.points import captures, holds, order_returns, redemption
from services.points import orders as order_service
from services.points.order_returns import ReturnLine
from tests.fixtures.points import (
    advance,
    assert_ledger_consistent,
    complete,
    fresh,
    line,
    place_order,
    staff,
)


async def set_policy(programme: Programme, **changes) -> None:
    programme.points_policy = PointsPolicy(**changes).to_json()
    await programme.save(update_fields=["points_policy"])


async def redeem(programme, member, amount: int, key: str | None = None):
    return await redemption.redeem(
        staff(programme),
        member_external_id=member.external_id,
        amount=amount,
        reason="reward",
        reward="r",
        idempotency_key=key or uuid.uuid4().hex,
    )


async def code_of(call) -> ErrorCode:
    with pytest.raises(DomainError) as raised:
        await call
    return raised.value.code


async def test_pending_points_cannot_be_spent_until_the_order_completes(programme, make_member):
    member = await make_member(programme)
    order = await place_order(programme, member, line(price=10_000))  # 200 points
    assert await code_of(redeem(programme, member, 50)) is ErrorCode.POINTS_PENDING
    await complete(programme, order)
    await redeem(programme, member, 50)
    row = await assert_ledger_consistent(member)
    assert (row.points_available, row.points_pending) == (150, 0)


async def test_the_job_completes_orders_once_the_return_window_closes(programme, make_member):
    member = await make_member(programme)
    await place_order(programme, member, line(price=10_000))
    await advance(programme, days=29)
    await run_all()
    assert (await fresh(member)).points_pending == 200
    await advance(programme, days=2)
    await run_all()
    row = await assert_ledger_consistent(member)
    assert (row.points_available, row.points_pending, row.qualifying_spend) == (200, 0, 10_000)


async def test_cancel_removes_pending_points_and_returns_points_paid(programme, make_member):
    member = await make_member(programme)
    await complete(programme, await place_order(programme, member, line(price=50_000)))  # 1000
    hold = await holds.hold(
        staff(programme),
        member_external_id=member.external_id,
        amount=300,
        order_ref="paid-with-points",
        idempotency_key="h",
    )
    await captures.capture(staff(programme), hold_id=hold.id, amount=300, idempotency_key="c")
    await place_order(
        programme,
        member,
        line(price=10_000),
        order_ref="paid-with-points",
        payments=[Payment(PaymentMethod.CARD, 4_000), Payment(PaymentMethod.POINTS, 6_000)],
    )
    row = await assert_ledger_consistent(member)
    assert (row.points_available, row.points_pending) == (700, 80)
    await order_service.cancel(staff(programme), "paid-with-points", idempotency_key="cancel")
    row = await assert_ledger_consistent(member)
    assert (row.points_available, row.points_pending) == (1000, 0)
    assert (
        await code_of(
            order_service.complete(staff(programme), "paid-with-points", idempotency_key="late")
        )
        is ErrorCode.ORDER_CLOSED
    )


async def test_returns_take_back_exactly_what_the_lines_earned(programme, make_member):
    # given 3 x 33.33 yuan (199.98 points -> 200 by half-down rounding on 199.98) and a 100 yuan line
    member = await make_member(programme)
    order = await place_order(programme, member, line("a", 3_333, 3), line("b", 10_000, 1))
    lines = {x.sku: x for x in await order_service.order_repo.lines_of(order.id)}
    assert lines["a"].points == 200 and lines["b"].points == 200
    await complete(programme, order)
    # when one item of "a" comes back, then the other two
    await order_returns.return_lines(
        staff(programme), order.order_ref, [ReturnLine("a", 1)], idempotency_key="r1"
    )
    first = await assert_ledger_consistent(member)
    await order_returns.return_lines(
        staff(programme), order.order_ref, [ReturnLine("a", 2)], idempotency_key="r2"
    )
    second = await assert_ledger_consistent(member)
    # then the two returns add up to exactly what line "a" earned; "b" is untouched
    assert first.points_available == 400 - 66
    assert second.points_available == 200
    assert second.qualifying_spend == 10_000
    assert (
        await code_of(
            order_returns.return_lines(
                staff(programme), order.order_ref, [ReturnLine("a", 1)], idempotency_key="r3"
            )
        )
        is ErrorCode.RETURN_EXCEEDS_PURCHASE
    )


async def test_whole_return_gives_back_points_spent_with_their_original_expiry(
    programme, make_member
):
    member = await make_member(programme)
    await complete(programme, await place_order(programme, member, line(price=10_000)))  # 200
    lot = await PointLot.get(member_id=member.id)
    await advance(programme, days=100)
    hold = await holds.hold(
        staff(programme),
        member_external_id=member.external_id,
        amount=150,
        order_ref="o-spent",
        idempotency_key="h",
    )
    await captures.capture(staff(programme), hold_id=hold.id, amount=150, idempotency_key="c")
    order = await place_order(
        programme,
        member,
        line(price=10_000),
        order_ref="o-spent",
        payments=[Payment(PaymentMethod.CARD, 7_000), Payment(PaymentMethod.POINTS, 3_000)],
    )
    await complete(programme, order)
    await order_returns.return_lines(
        staff(programme), "o-spent", [ReturnLine("sku-1", 1)], idempotency_key="all"
    )
    row = await assert_ledger_consistent(member)
    assert row.points_available == 200
    restored = await PointLot.get(id=lot.id)
    assert restored.remaining == 200 and restored.expires_at == lot.expires_at
    assert (await order_service.order_repo.get(programme.id, "o-spent")).status == "RETURNED"


@pytest.mark.parametrize("policy", [NegativePolicy.ALLOW_NEGATIVE, NegativePolicy.CLAMP_AND_RECORD])
async def test_a_return_after_the_points_were_spent_follows_the_policy(
    programme, make_member, policy
):
    await set_policy(programme, negative_policy=policy)
    member = await make_member(programme)
    order = await place_order(programme, member, line(price=10_000))  # 200
    await complete(programme, order)
    await redeem(programme, member, 150)
    await order_returns.return_lines(
        staff(programme), order.order_ref, [ReturnLine("sku-1", 1)], idempotency_key="ret"
    )
    row = await assert_ledger_consistent(member)
    if policy is NegativePolicy.ALLOW_NEGATIVE:
        assert (row.points_available, row.points_shortfall) == (-150, 0)
        # a later earning repays the debt first
        await complete(programme, await place_order(programme, member, line(price=10_000)))
        row = await assert_ledger_consistent(member)
        assert row.points_available == 50
        assert (
            sum(await PointLot.filter(member_id=member.id).values_list("remaining", flat=True))
            == 50
        )
    else:
        assert (row.points_available, row.points_shortfall) == (0, 150)
        reversal = await PointTransaction.filter(member_id=member.id, kind="REVERSE").first()
        assert (reversal.amount, reversal.shortfall) == (-50, 150)


async def test_spending_takes_the_soonest_expiring_lots_first(programme, make_member):
    member = await make_member(programme)
    await complete(programme, await place_order(programme, member, line(price=5_000)))  # 100, older
    await advance(programme, days=40)
    await complete(programme, await place_order(programme, member, line(price=5_000)))  # 100, newer
    tx = await redeem(programme, member, 130)
    older, newer = await PointLot.filter(member_id=member.id).order_by("expires_at")
    assert (older.remaining, newer.remaining) == (0, 70)
    taken = (
        await LotMovement.filter(transaction_id=tx.id)
        .order_by("id")
        .values_list("lot_id", "amount")
    )
    assert taken == [(older.id, 100), (newer.id, 30)]


async def test_lot_expiry_takes_only_unspent_remainders_and_a_second_run_changes_nothing(
    programme, make_member
):
    member = await make_member(programme)
    await complete(
        programme, await place_order(programme, member, line(price=10_000))
    )  # 200, expires in 12 months
    await advance(programme, days=200)
    await complete(programme, await place_order(programme, member, line(price=5_000)))  # 100, later
    await redeem(programme, member, 50)  # from the older lot
    await advance(programme, days=170)  # past the first lot's expiry only
    first = await run_all()
    row = await assert_ledger_consistent(member)
    assert row.points_available == 100 and first.points_expired >= 150
    await run_all()
    assert (await assert_ledger_consistent(member)).points_available == 100
    expiries = await PointTransaction.filter(member_id=member.id, kind="EXPIRE").values_list(
        "amount", flat=True
    )
    assert expiries == [-150]


async def test_rolling_activity_expires_the_whole_balance_after_a_quiet_spell(
    programme, make_member
):
    await set_policy(programme, expiry_policy=ExpiryPolicy.ROLLING_ACTIVITY, expiry_months=12)
    member = await make_member(programme)
    await complete(programme, await place_order(programme, member, line(price=10_000)))
    await advance(programme, days=330)
    await complete(programme, await place_order(programme, member, line(price=5_000)))  # renews
    await advance(programme, days=60)  # 390 days after the first earning, 60 after the last
    await run_all()
    assert (await assert_ledger_consistent(member)).points_available == 300
    await advance(programme, days=320)  # now 380 days since the last earning
    await run_all()
    row = await assert_ledger_consistent(member)
    assert row.points_available == 0
    assert await PointTransaction.filter(member_id=member.id, kind="EXPIRE").count() == 1


async def test_holds_capture_in_part_release_the_rest_and_expire(programme, make_member):
    member = await make_member(programme)
    await complete(programme, await place_order(programme, member, line(price=25_000)))  # 500
    hold = await holds.hold(
        staff(programme),
        member_external_id=member.external_id,
        amount=500,
        order_ref="o1",
        idempotency_key="h1",
    )
    assert await code_of(redeem(programme, member, 1)) is ErrorCode.INSUFFICIENT_POINTS
    await captures.capture(staff(programme), hold_id=hold.id, amount=300, idempotency_key="c1")
    row = await assert_ledger_consistent(member)
    assert (row.points_available, row.points_held) == (200, 0)
    assert (
        await code_of(
            captures.capture(staff(programme), hold_id=hold.id, amount=10, idempotency_key="c2")
        )
        is ErrorCode.HOLD_CLOSED
    )
    late = await holds.hold(
        staff(programme),
        member_external_id=member.external_id,
        amount=100,
        order_ref="o2",
        idempotency_key="h2",
    )
    await advance(programme, days=1)
    assert (
        await code_of(
            captures.capture(staff(programme), hold_id=late.id, amount=100, idempotency_key="c3")
        )
        is ErrorCode.HOLD_EXPIRED
    )
    row = await assert_ledger_consistent(member)
    assert (row.points_available, row.points_held) == (200, 0)
    forgotten = await holds.hold(
        staff(programme),
        member_external_id=member.external_id,
        amount=50,
        order_ref="o3",
        idempotency_key="h3",
    )
    await advance(programme, days=1)
    assert (await run_all()).holds_expired >= 1
    assert (await fresh(member)).points_held == 0
    assert (await hold_repo.get(programme.id, forgotten.id)).status == "EXPIRED"


async def test_a_redemption_is_reversed_exactly_once_into_its_lots(programme, make_member):
    member = await make_member(programme)
    await complete(programme, await place_order(programme, member, line(price=10_000)))
    lot = await PointLot.get(member_id=member.id)
    tx = await redeem(programme, member, 120)
    back = await redemption.reverse_redemption(
        staff(programme), transaction_id=tx.id, reason="goodwill", idempotency_key="undo"
    )
    assert back.reverses_id == tx.id and back.amount == 120
    assert (
        await code_of(
            redemption.reverse_redemption(
                staff(programme), transaction_id=tx.id, reason="again", idempotency_key="undo-2"
            )
        )
        is ErrorCode.ALREADY_REVERSED
    )
    assert (await PointLot.get(id=lot.id)).remaining == 200
    assert (await assert_ledger_consistent(member)).points_available == 200


@pytest.mark.parametrize("amount", [0, -10, 1_000_000_001])
async def test_bad_amounts_change_nothing(programme, make_member, amount):
    member = await make_member(programme)
    await complete(programme, await place_order(programme, member, line(price=10_000)))
    assert await code_of(redeem(programme, member, amount)) is ErrorCode.VALIDATION
    assert (await assert_ledger_consistent(member)).points_available == 200
