"""Issue 18.6: earning caps and velocity rules flag members; the excess waits for an admin."""

from __future__ import annotations

import asyncio
import uuid

from db.models import AbuseFlag, AuditEntry, Member, PointTransaction
from domain.auth import Role
from services.points import order_returns
from services.points.activity import referrals
from services.points.order_returns import ReturnLine
from tests.conftest import needs_postgres
from tests.fixtures.points import assert_ledger_consistent, complete, line, place_order, staff
from tests.graphql.points.documents import RECORD_ORDER, RETURN_LINES, REWARD_REVIEW

SET_POLICY = """
mutation ($input: SetAbusePolicyInput!) {
  setAbusePolicy(input: $input) {
    __typename
    ... on SetAbusePolicySuccess { policy { caps { source period points }
                                            orderVelocity { orders minutes } } }
    ... on SetAbusePolicyError { errors { field code message } }
  }
}
"""
FLAGS = """
query ($status: FlagStatus) {
  abuseFlags(first: 20, status: $status) {
    edges { node { id rule period pointsHeld status decisionReason member { externalId } } }
  }
}
"""
APPROVE = """
mutation ($id: ID!, $key: String!) {
  approveFlag(input: {id: $id, idempotencyKey: $key}) {
    __typename
    ... on FlagSuccess { flag { status pointsHeld } }
    ... on ApproveFlagError { errors { field code message } }
  }
}
"""
REJECT = """
mutation ($id: ID!, $key: String!) {
  rejectFlag(input: {id: $id, reason: "fake reviews from one device", idempotencyKey: $key}) {
    __typename
    ... on FlagSuccess { flag { status decisionReason } }
    ... on RejectFlagError { errors { field code message } }
  }
}
"""
REVIEW_CAP = {"caps": [{"source": "REVIEW", "period": "DAY", "points": 25}]}
SKUS = [f"sku-{n}" for n in range(6)]


def key() -> str:
    return uuid.uuid4().hex


async def reviewed_member(gql, programme, make_member, storefront: str, admin: str):
    """A member whose completed order has six lines, and six reviews sent at once under a
    daily review cap of 25 points (10 a review)."""
    body = await gql(SET_POLICY, {"input": REVIEW_CAP}, auth=admin)
    assert body["data"]["setAbusePolicy"]["__typename"] == "SetAbusePolicySuccess", body
    member = await make_member(programme)
    order = await place_order(programme, member, *[line(sku) for sku in SKUS])
    await complete(programme, order)
    answers = await asyncio.gather(
        *[
            gql(
                REWARD_REVIEW,
                {"input": {"orderId": order.order_ref, "sku": sku, "idempotencyKey": key()}},
                auth=storefront,
            )
            for sku in SKUS
        ]
    )
    assert {a["data"]["rewardReview"]["__typename"] for a in answers} == {"MemberSuccess"}
    return member


async def test_parallel_earnings_cannot_jointly_pass_a_cap_and_flag_once(
    gql, programme, make_key, make_member
):
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await reviewed_member(gql, programme, make_member, storefront, admin)

    credited = await PointTransaction.filter(
        member_id=member.id, reference_type="REVIEW", kind="EARN"
    ).values_list("amount", flat=True)
    flags = await AbuseFlag.filter(member_id=member.id)

    assert sum(credited) == 25  # 10 + 10 + 5, then nothing: not 60
    assert len(flags) == 1
    assert (flags[0].rule, flags[0].points_held, flags[0].status) == (
        "CAP_REVIEW_DAY",
        35,
        "OPEN",
    )
    await assert_ledger_consistent(member)
    listed = (await gql(FLAGS, {"status": "OPEN"}, auth=admin))["data"]["abuseFlags"]["edges"]
    assert [e["node"]["member"]["externalId"] for e in listed] == [member.external_id]


async def test_approving_releases_the_held_points_once_and_is_audited(
    gql, programme, make_key, make_member
):
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await reviewed_member(gql, programme, make_member, storefront, admin)
    [flag] = [e["node"] for e in (await gql(FLAGS, auth=admin))["data"]["abuseFlags"]["edges"]]
    before = (await Member.get(id=member.id)).points_available
    approval = key()

    approved = (await gql(APPROVE, {"id": flag["id"], "key": approval}, auth=admin))["data"]
    replay = (await gql(APPROVE, {"id": flag["id"], "key": approval}, auth=admin))["data"]
    again = (await gql(APPROVE, {"id": flag["id"], "key": key()}, auth=admin))["data"]
    rejected = (await gql(REJECT, {"id": flag["id"], "key": key()}, auth=admin))["data"]

    assert approved["approveFlag"]["flag"] == {"status": "APPROVED", "pointsHeld": 35}
    assert replay == approved
    assert again["approveFlag"]["errors"][0]["code"] == "ALREADY_DECIDED"
    assert rejected["rejectFlag"]["errors"][0]["code"] == "ALREADY_DECIDED"
    assert (await Member.get(id=member.id)).points_available == before + 35
    await assert_ledger_consistent(member)
    decisions = await AuditEntry.filter(
        programme_id=programme.id, operation__in=["approveFlag", "rejectFlag"]
    ).values_list("operation", "outcome")
    assert sorted(decisions) == sorted(
        [
            ("approveFlag", "SUCCESS"),
            ("approveFlag", "SUCCESS"),
            ("approveFlag", "ALREADY_DECIDED"),
            ("rejectFlag", "ALREADY_DECIDED"),
        ]
    )


async def test_rejecting_keeps_the_points_out_and_the_reason(gql, programme, make_key, make_member):
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await reviewed_member(gql, programme, make_member, storefront, admin)
    [flag] = [e["node"] for e in (await gql(FLAGS, auth=admin))["data"]["abuseFlags"]["edges"]]
    before = (await Member.get(id=member.id)).points_available

    body = (await gql(REJECT, {"id": flag["id"], "key": key()}, auth=admin))["data"]

    assert body["rejectFlag"]["flag"] == {
        "status": "REJECTED",
        "decisionReason": "fake reviews from one device",
    }
    assert (await Member.get(id=member.id)).points_available == before
    assert (await gql(FLAGS, {"status": "OPEN"}, auth=admin))["data"]["abuseFlags"]["edges"] == []


async def test_earning_over_the_cap_after_a_decision_waits_for_a_new_one(
    gql, programme, make_key, make_member
):
    # given a member whose flag for today's review cap was approved (35 points released)
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await reviewed_member(gql, programme, make_member, storefront, admin)
    [flag] = [e["node"] for e in (await gql(FLAGS, auth=admin))["data"]["abuseFlags"]["edges"]]
    approved = (await gql(APPROVE, {"id": flag["id"], "key": key()}, auth=admin))["data"]
    assert approved["approveFlag"]["flag"] == {"status": "APPROVED", "pointsHeld": 35}
    # when the member earns another review the same day, over the cap again
    order = await place_order(programme, member, line("sku-late"))
    await complete(programme, order)
    after_approval = (await Member.get(id=member.id)).points_available
    body = await gql(
        REWARD_REVIEW,
        {"input": {"orderId": order.order_ref, "sku": "sku-late", "idempotencyKey": key()}},
        auth=storefront,
    )
    assert body["data"]["rewardReview"]["__typename"] == "MemberSuccess", body
    earned = (await Member.get(id=member.id)).points_available - after_approval

    # then those 10 points are neither credited nor lost on the decided flag: they wait,
    # listed as open, and an admin's approval releases them
    listed = (await gql(FLAGS, {"status": "OPEN"}, auth=admin))["data"]["abuseFlags"]["edges"]
    assert [(e["node"]["id"], e["node"]["pointsHeld"]) for e in listed] == [(flag["id"], 10)]
    assert earned == 0
    again = (await gql(APPROVE, {"id": flag["id"], "key": key()}, auth=admin))["data"]
    assert again["approveFlag"]["flag"] == {"status": "APPROVED", "pointsHeld": 10}
    assert (await Member.get(id=member.id)).points_available == after_approval + 10
    await assert_ledger_consistent(member)


async def test_order_velocity_flags_once_a_day_without_holding_points(
    gql, programme, make_key, make_member
):
    admin = await make_key(programme, Role.ADMIN)
    policy = {"caps": [], "orderVelocity": {"orders": 2, "minutes": 60}}
    await gql(SET_POLICY, {"input": policy}, auth=admin)
    member = await make_member(programme)

    orders = [await place_order(programme, member) for _ in range(5)]

    [flag] = await AbuseFlag.filter(member_id=member.id)
    assert (flag.rule, flag.points_held) == ("ORDER_VELOCITY", 0)
    assert (await Member.get(id=member.id)).points_pending == sum(o.points for o in orders)


async def test_flags_and_policies_stay_in_their_programme(
    gql, programme, make_programme, make_key, make_member
):
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    await reviewed_member(gql, programme, make_member, storefront, admin)
    [flag] = [e["node"] for e in (await gql(FLAGS, auth=admin))["data"]["abuseFlags"]["edges"]]
    other_admin = await make_key(await make_programme(), Role.ADMIN)

    theirs = (await gql(FLAGS, auth=other_admin))["data"]["abuseFlags"]["edges"]
    approve = (await gql(APPROVE, {"id": flag["id"], "key": key()}, auth=other_admin))["data"]
    reject = (await gql(REJECT, {"id": flag["id"], "key": key()}, auth=other_admin))["data"]
    node = await gql("query ($id: ID!) { node(id: $id) { id } }", {"id": flag["id"]},
                     auth=other_admin)  # fmt: skip
    by_storefront = await gql(FLAGS, auth=storefront)
    policy = (await gql("{ abusePolicy { caps { points } } }", auth=other_admin))["data"]

    assert theirs == []
    assert approve["approveFlag"]["errors"][0]["code"] == "NOT_FOUND"
    assert reject["rejectFlag"]["errors"][0]["code"] == "NOT_FOUND"
    assert node["data"]["node"] is None
    assert by_storefront["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert policy["abusePolicy"]["caps"] == []
    statuses = await AbuseFlag.filter(programme_id=programme.id).values_list("status", flat=True)
    assert statuses == ["OPEN"]


async def test_a_bad_policy_is_refused_and_changes_nothing(gql, programme, make_key):
    admin = await make_key(programme, Role.ADMIN)
    await gql(SET_POLICY, {"input": REVIEW_CAP}, auth=admin)
    bad = {
        "caps": [
            {"source": "REVIEW", "period": "DAY", "points": -1},
            {"source": "CHECK_IN", "period": "WEEK", "points": 5},
            {"source": "CHECK_IN", "period": "WEEK", "points": 6},
        ],
        "orderVelocity": {"orders": 0, "minutes": 60},
    }

    body = (await gql(SET_POLICY, {"input": bad}, auth=admin))["data"]["setAbusePolicy"]

    assert body["__typename"] == "SetAbusePolicyError"
    assert {e["field"] for e in body["errors"]} == {
        "caps.0.points",
        "caps.2",
        "orderVelocity.orders",
    }
    kept = (await gql("{ abusePolicy { caps { source period points } } }", auth=admin))["data"]
    assert kept["abusePolicy"]["caps"] == [{"source": "REVIEW", "period": "DAY", "points": 25}]


async def test_too_many_referrals_from_one_inviter_in_a_day_flag_it_once(
    gql, programme, make_key, make_member
):
    admin = await make_key(programme, Role.ADMIN)
    await gql(SET_POLICY, {"input": {"caps": [], "referralsPerDay": 2}}, auth=admin)
    inviter = await make_member(programme)
    code = await referrals.invite_code(staff(programme), inviter)

    counts = []
    for _ in range(4):
        invitee = await make_member(programme)
        await referrals.accept_referral(
            staff(programme),
            invite_code=code,
            invitee_external_id=invitee.external_id,
            idempotency_key=key(),
        )
        counts.append(await AbuseFlag.filter(member_id=inviter.id).count())

    assert counts == [0, 0, 1, 1]
    flag = await AbuseFlag.get(member_id=inviter.id)
    assert (flag.rule, flag.points_held) == ("REFERRAL_VELOCITY", 0)


async def test_returning_more_than_the_share_of_earned_points_flags_the_member(
    gql, programme, make_key, make_member
):
    admin = await make_key(programme, Role.ADMIN)
    policy = {"caps": [], "returnRatio": {"percent": 50, "days": 30}}
    body = await gql(SET_POLICY, {"input": policy}, auth=admin)
    assert body["data"]["setAbusePolicy"]["policy"] == {
        "caps": [],
        "orderVelocity": None,
    }
    member = await make_member(programme)
    first = await place_order(programme, member, line("a"))
    second = await place_order(programme, member, line("b"))
    for order in (first, second):
        await complete(programme, order)

    await order_returns.return_lines(
        staff(programme), first.order_ref, [ReturnLine("a", 1)], idempotency_key=key()
    )
    half = await AbuseFlag.filter(member_id=member.id).count()
    await order_returns.return_lines(
        staff(programme), second.order_ref, [ReturnLine("b", 1)], idempotency_key=key()
    )

    assert half == 0  # exactly half is not more than half
    [flag] = await AbuseFlag.filter(member_id=member.id)
    assert flag.rule == "RETURN_RATIO"
    await assert_ledger_consistent(member)


async def test_parallel_orders_cannot_jointly_pass_an_order_cap(
    gql, programme, make_key, make_member
):
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    cap = {"caps": [{"source": "ORDER", "period": "DAY", "points": 500}]}
    await gql(SET_POLICY, {"input": cap}, auth=admin)
    member = await make_member(programme)

    def order(n: int) -> dict:
        return {
            "orderId": f"cap-{n}-{key()[:6]}",
            "memberExternalId": member.external_id,
            "placedAt": "2026-11-30T10:00:00+08:00",
            "lines": [
                {"sku": "a", "category": "c", "unitPrice": 6_000, "quantity": 1},
                {"sku": "b", "category": "c", "unitPrice": 4_000, "quantity": 1},
            ],
            "payments": [{"method": "CARD", "amount": 10_000}],
            "idempotencyKey": key(),
        }

    answers = await asyncio.gather(
        *[gql(RECORD_ORDER, {"input": order(n)}, auth=storefront) for n in range(6)]
    )

    orders = [a["data"]["recordOrder"]["order"] for a in answers]
    assert sorted(o["points"] for o in orders) == [0, 0, 0, 100, 200, 200]
    for o in orders:
        assert sum(line["points"] for line in o["lines"]) == o["points"]
    [flag] = await AbuseFlag.filter(member_id=member.id)
    assert (flag.rule, flag.points_held) == ("CAP_ORDER_DAY", 700)
    row = await assert_ledger_consistent(member)
    assert row.points_pending == 500
    # a capped order returned whole takes back what it was credited, no more
    capped = next(o for o in orders if o["points"] == 100)
    body = await gql(
        RETURN_LINES,
        {
            "input": {
                "orderId": capped["orderId"],
                "lines": [{"sku": "a", "quantity": 1}, {"sku": "b", "quantity": 1}],
                "idempotencyKey": key(),
            }
        },
        auth=storefront,
    )
    assert body["data"]["returnOrderLines"]["__typename"] == "OrderSuccess", body
    assert (await assert_ledger_consistent(member)).points_pending == 400


@needs_postgres
async def test_a_decision_and_an_earning_of_the_same_member_do_not_deadlock(
    gql, programme, make_key, make_member
):
    # given an open flag holding points, and an earning that holds the member's row lock
    # (as every earning does) and will then add to that flag
    from tortoise.transactions import in_transaction

    from db.repositories import abuse as abuse_repo
    from services import abuse as abuse_service
    from services.points import expiry
    from tests.fixtures.factories import admin_of

    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await reviewed_member(gql, programme, make_member, storefront, admin)
    flag = await AbuseFlag.get(member_id=member.id)
    member_locked = asyncio.Event()

    async def earning() -> None:
        async with in_transaction():
            await expiry.lock(programme, member.id)
            member_locked.set()
            await asyncio.sleep(0.5)  # meanwhile the approval starts
            await abuse_repo.hold(
                programme_id=programme.id,
                member_id=member.id,
                rule=flag.rule,
                period=flag.period,
                points=10,
                now=flag.created_at,
            )

    async def approval():
        await member_locked.wait()
        return await abuse_service.approve(admin_of(programme), flag.id, idempotency_key=key())

    # when both run at once
    _, decided = await asyncio.wait_for(asyncio.gather(earning(), approval()), timeout=30)

    # then both succeed, one after the other: the approval released what it saw held
    # (35, or 45 had the earning gone first), and nothing is lost or counted twice
    assert decided.status == "APPROVED" and decided.points_held == 45
    await assert_ledger_consistent(member)
