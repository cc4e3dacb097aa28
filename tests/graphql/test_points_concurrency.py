"""Real concurrent requests through the ASGI app on PostgreSQL (issue 3, point 9)."""

from __future__ import annotations

import asyncio

from db.models import PointTransaction, QualifyingEvent
from domain.auth import Role
from tests.conftest import needs_postgres
from tests.fixtures.points import assert_ledger_consistent, complete, line, place_order

REDEEM = """
mutation ($e: String!, $k: String!) {
  redeemPoints(input: {memberExternalId: $e, amount: 10, reason: "reward", idempotencyKey: $k}) {
    __typename
    ... on RedeemPointsError { errors { code } }
  }
}
"""
CHECK_IN = """
mutation ($e: String!, $k: String!) {
  checkIn(input: {memberExternalId: $e, idempotencyKey: $k}) {
    __typename
    ... on CheckInSuccess { points streak }
    ... on CheckInError { errors { code } }
  }
}
"""
ADJUST = """
mutation ($e: String!) {
  adjustPoints(input: {memberExternalId: $e, amount: 25, reason: "goodwill", idempotencyKey: "once"}) {
    __typename
    ... on TransactionSuccess { transaction { id amount availableAfter } }
    ... on AdjustPointsError { errors { code } }
  }
}
"""


@needs_postgres
async def test_fifty_redemptions_racing_on_a_balance_of_one_hundred(
    gql, programme, make_member, make_key
):
    # given a balance of exactly 100
    member = await make_member(programme)
    await complete(programme, await place_order(programme, member, line(price=5_000)))
    assert (await assert_ledger_consistent(member)).points_available == 100
    key = await make_key(programme, Role.STOREFRONT)
    # when 50 requests each try to spend 10 at once
    bodies = await asyncio.gather(
        *(gql(REDEEM, {"e": member.external_id, "k": f"race-{n}"}, auth=key) for n in range(50))
    )
    # then exactly 10 succeed, the rest are refused for want of points, and the balance is 0
    kinds = [b["data"]["redeemPoints"]["__typename"] for b in bodies]
    assert kinds.count("TransactionSuccess") == 10
    refused = [
        b["data"]["redeemPoints"]["errors"][0]["code"]
        for b in bodies
        if b["data"]["redeemPoints"]["__typename"] != "TransactionSuccess"
    ]
    assert refused == ["INSUFFICIENT_POINTS"] * 40
    row = await assert_ledger_consistent(member)
    assert row.points_available == 0
    assert await PointTransaction.filter(member_id=member.id, kind="REDEEM").count() == 10


@needs_postgres
async def test_twenty_parallel_check_ins_credit_once(gql, programme, make_member, make_key):
    member = await make_member(programme)
    key = await make_key(programme, Role.STOREFRONT)
    bodies = await asyncio.gather(
        *(gql(CHECK_IN, {"e": member.external_id, "k": f"ci-{n}"}, auth=key) for n in range(20))
    )
    results = [b["data"]["checkIn"] for b in bodies]
    assert [r["__typename"] for r in results].count("CheckInSuccess") == 1
    assert {r["errors"][0]["code"] for r in results if r["__typename"] == "CheckInError"} == {
        "ALREADY_CHECKED_IN"
    }
    row = await assert_ledger_consistent(member)
    assert row.points_available == 5
    assert await PointTransaction.filter(member_id=member.id).count() == 1


@needs_postgres
async def test_one_key_sent_21_times_at_once_books_one_row_and_answers_alike(
    gql, programme, make_member, make_key
):
    member = await make_member(programme)
    key = await make_key(programme)
    bodies = await asyncio.gather(
        *(gql(ADJUST, {"e": member.external_id}, auth=key) for _ in range(21))
    )
    results = [b["data"]["adjustPoints"] for b in bodies]
    assert all(r == results[0] for r in results), results
    assert results[0]["__typename"] == "TransactionSuccess"
    assert await PointTransaction.filter(member_id=member.id).count() == 1
    assert (await assert_ledger_consistent(member)).points_available == 25


@needs_postgres
async def test_completing_an_invitees_order_while_granting_both_never_deadlocks(
    programme, make_member
):
    from services.points import admin
    from services.points import orders as order_service
    from services.points.activity import referrals
    from tests.fixtures.factories import admin_of
    from tests.fixtures.points import staff

    for round_ in range(5):
        # given A (lower id) invited B, and B has a pending first order
        inviter, invitee = await make_member(programme), await make_member(programme)
        code = await referrals.invite_code(staff(programme), inviter)
        await referrals.accept_referral(
            staff(programme),
            invitee_external_id=invitee.external_id,
            invite_code=code,
            idempotency_key=f"ref-{round_}",
        )
        order = await place_order(programme, invitee, line(price=5_000))
        # when B's order completes while a grant locks A and B
        await asyncio.gather(
            order_service.complete(
                staff(programme), order.order_ref, idempotency_key=f"c-{round_}"
            ),
            admin.grant(
                admin_of(programme),
                member_external_ids=[inviter.external_id, invitee.external_id],
                amount=7,
                reason="race",
                idempotency_key=f"g-{round_}",
            ),
        )
        # then both landed, and both ledgers add up
        assert (await assert_ledger_consistent(inviter)).points_available == 7 + 200
        assert (await assert_ledger_consistent(invitee)).points_available == 7 + 100


@needs_postgres
async def test_two_members_accepting_each_others_codes_at_once_cannot_make_a_loop(
    programme, make_member
):
    from domain.errors import DomainError
    from services.points.activity import referrals
    from tests.fixtures.points import staff

    for round_ in range(5):
        a, b = await make_member(programme), await make_member(programme)
        code_a = await referrals.invite_code(staff(programme), a)
        code_b = await referrals.invite_code(staff(programme), b)

        async def accept(invitee, code, key):
            try:
                return await referrals.accept_referral(
                    staff(programme),
                    invitee_external_id=invitee.external_id,
                    invite_code=code,
                    idempotency_key=key,
                )
            except DomainError as error:
                return error.code.value

        results = await asyncio.gather(
            accept(a, code_b, f"ab-{round_}"), accept(b, code_a, f"ba-{round_}")
        )
        assert sorted(r if isinstance(r, str) else "OK" for r in results) == [
            "OK",
            "REFERRAL_CYCLE",
        ]


@needs_postgres
async def test_two_members_recording_the_same_order_id_at_once(
    gql, programme, make_member, make_key
):
    key = await make_key(programme, Role.STOREFRONT)
    record = """mutation ($e: String!, $k: String!) { recordOrder(input: {orderId: "shared", memberExternalId: $e,
      placedAt: "2020-01-01T00:00:00+00:00", lines: [{sku: "a", category: "c", unitPrice: 100, quantity: 1}],
      payments: [{method: CARD, amount: 100}], idempotencyKey: $k}) { __typename ... on RecordOrderError { errors { code } } } }"""
    one, two = await make_member(programme), await make_member(programme)
    bodies = await asyncio.gather(
        gql(record, {"e": one.external_id, "k": "k1"}, auth=key),
        gql(record, {"e": two.external_id, "k": "k2"}, auth=key),
    )
    results = sorted(b["data"]["recordOrder"]["__typename"] for b in bodies)
    assert results == ["OrderSuccess", "RecordOrderError"], bodies
    error = next(b for b in bodies if b["data"]["recordOrder"]["__typename"] == "RecordOrderError")
    assert error["data"]["recordOrder"]["errors"][0]["code"] == "REFERENCE_REUSED"


REVIEW = """
mutation ($o: String!, $k: String!) {
  rewardReview(input: {orderId: $o, sku: "sku-1", idempotencyKey: $k}) {
    __typename
    ... on RewardReviewError { errors { code } }
  }
}
"""
RETURN = """
mutation ($o: String!, $k: String!) {
  returnOrderLines(input: {orderId: $o, lines: [{sku: "sku-1", quantity: 1}], idempotencyKey: $k}) {
    __typename
    ... on ReturnOrderLinesError { errors { code } }
  }
}
"""


@needs_postgres
async def test_a_review_racing_the_full_return_of_its_line_never_keeps_its_points(
    gql, programme, make_member, make_key
):
    key = await make_key(programme, Role.STOREFRONT)
    for n in range(40):
        # given a completed order of one line
        member = await make_member(programme)
        order = await complete(programme, await place_order(programme, member, line()))
        earned = (await assert_ledger_consistent(member)).points_available
        # when its line is returned in full while the line's review is rewarded
        returned, reviewed = await asyncio.gather(
            gql(RETURN, {"o": order.order_ref, "k": f"ret-{n}"}, auth=key),
            gql(REVIEW, {"o": order.order_ref, "k": f"rev-{n}"}, auth=key),
        )
        # then the return went through, and whichever came first, no review points remain
        assert returned["data"]["returnOrderLines"]["__typename"] == "OrderSuccess", returned
        row = await assert_ledger_consistent(member)
        assert row.points_available == 0, (n, earned, reviewed)
        growth = await QualifyingEvent.filter(member_id=member.id).values_list("growth", flat=True)
        assert sum(growth) == 0, n
