"""Each change a shop cares about writes its event in the same transaction, with a payload a
mail can be written from, numbered per member."""

from __future__ import annotations

import uuid

import pytest
from tortoise.transactions import in_transaction

from db.models import Event, Member, Programme
from db.repositories import points as points_repo
from services import members as member_service
from services.members import ProfileInput
from services.points import admin as points_admin
from services.points import orders as order_service
from services.points import redemption
from tests.fixtures.factories import admin_of
from tests.fixtures.points import complete, line, place_order, staff


class Boom(Exception):
    pass


async def _events(member: Member, *types: str) -> list[Event]:
    query = Event.filter(member_id=member.id)
    if types:
        query = query.filter(type__in=types)
    return await query.order_by("id")


async def test_an_earn_that_rolls_back_writes_no_event_and_one_that_commits_writes_one(
    programme: Programme, make_member, monkeypatch
) -> None:
    member = await make_member(programme)
    # given an order whose transaction fails at its very end, after its ledger row and its
    # event were written (with the idempotency key's result, in the same statement; the abuse
    # rules' writes come last)
    from services import abuse

    real = abuse.apply_order_limits

    async def fail(*args: object, **kwargs: object) -> None:
        assert await Event.filter(member_id=member.id, type="points.earned").count() == 1
        raise Boom()

    monkeypatch.setattr(abuse, "apply_order_limits", fail)
    with pytest.raises(Boom):
        await place_order(programme, member, line(price=10_000))
    # then nothing of it is left: no order, no ledger row, no event
    assert await _events(member, "points.earned") == []
    assert await points_repo.ledger_sums(member.id) == {}
    # when the same order commits
    monkeypatch.setattr(abuse, "apply_order_limits", real)
    order = await place_order(programme, member, line(price=10_000))
    # then exactly one event tells of it
    earned = await _events(member, "points.earned")
    assert len(earned) == 1
    assert earned[0].payload == {
        "version": 1,
        "member": {"externalId": member.external_id},
        "points": order.points,
        "balance": {"available": 0, "pending": order.points},
        "source": "ORDER",
        "reference": order.order_ref,
        "reason": "order placed",
    }


async def test_an_event_inside_an_outer_transaction_that_rolls_back_is_gone(
    programme: Programme, make_member
) -> None:
    member = await make_member(programme)
    with pytest.raises(Boom):
        async with in_transaction():
            await place_order(programme, member, line(price=10_000))
            raise Boom()
    assert await _events(member, "points.earned") == []


async def test_the_life_of_a_member_in_events(programme: Programme, make_member) -> None:
    # given tiers and a member
    member = await make_member(programme)
    # when it orders (pending), completes (available, tier up), redeems, and is adjusted
    order = await place_order(programme, member, line(price=20_000))
    await complete(programme, order)
    await redemption.redeem(
        staff(programme),
        member_external_id=member.external_id,
        amount=100,
        reason="a mug",
        reward="mug",
        idempotency_key=uuid.uuid4().hex,
    )
    await points_admin.adjust(
        admin_of(programme),
        member_external_id=member.external_id,
        amount=-5,
        reason="goodwill fix",
        idempotency_key=uuid.uuid4().hex,
    )
    await member_service.update(
        admin_of(programme),
        external_id=member.external_id,
        profile=ProfileInput(display_name="New Name", email="new@example.com"),
    )
    # then each left one event, numbered 1, 2, 3, ... in the order they happened
    events = await _events(member)
    assert [e.type for e in events] == [
        "member.registered",
        "points.earned",
        "points.available",
        "tier.changed",
        "points.redeemed",
        "points.adjusted",
        "member.updated",
    ]
    assert [e.sequence for e in events] == list(range(1, 8))
    assert all(e.payload["version"] == 1 for e in events)
    registered, earned, available, tier, redeemed, adjusted, updated = events
    assert earned.payload["balance"] == {"available": 0, "pending": order.points}
    assert registered.payload["tier"] == "Bronze"
    assert available.payload["points"] == order.points
    assert available.payload["balance"] == {"available": order.points, "pending": 0}
    assert available.payload["expiresAt"] is not None
    assert tier.payload["from"] == {"code": "BRONZE", "name": "Bronze"}
    assert tier.payload["to"] == {"code": "SILVER", "name": "Silver"}
    assert tier.payload["direction"] == "UP"
    assert tier.payload["reason"] == "ORDER_COMPLETED"
    assert redeemed.payload["points"] == -100
    assert redeemed.payload["balance"]["available"] == order.points - 100
    assert adjusted.payload["points"] == -5
    assert updated.payload["changed"] == ["displayName", "email"]
    assert "new@example.com" not in str(updated.payload)  # no personal data in events


async def test_an_update_that_changes_nothing_tells_nothing(programme, make_member) -> None:
    member = await make_member(programme, display_name="Same")
    await member_service.update(
        admin_of(programme),
        external_id=member.external_id,
        profile=ProfileInput(display_name="Same"),
    )
    assert [e.type for e in await _events(member)] == ["member.registered"]


async def test_cancel_and_expiry_are_told(programme: Programme, make_member) -> None:
    from tests.fixtures.points import advance, run_jobs

    member = await make_member(programme)
    cancelled = await place_order(programme, member, line(price=10_000))
    await order_service.cancel(
        staff(programme), cancelled.order_ref, idempotency_key=uuid.uuid4().hex
    )
    kept = await place_order(programme, member, line(price=10_000))
    await complete(programme, kept)
    await advance(programme, days=400)  # past the 12 months of the lot
    await run_jobs(programme)
    types = [e.type for e in await _events(member)]
    assert types.count("points.reversed") == 1
    assert types.count("points.expired") == 1
    expired = (await _events(member, "points.expired"))[0]
    assert expired.payload["points"] == -kept.points
    assert expired.payload["balance"]["available"] == 0


async def test_coupons_issued_and_redeemed_are_told(programme: Programme, make_member) -> None:
    from services.coupons import checkout, issuance
    from tests.fixtures.coupons import claim, make_template

    member = await make_member(programme)
    other = await make_member(programme)
    template = await make_template(programme, title="20 off 199")
    claimed = await claim(programme, template, member)
    await issuance.grant(
        admin_of(programme),
        template_id=template.id,
        member_external_ids=[member.external_id, other.external_id],
        idempotency_key=uuid.uuid4().hex,
    )
    await checkout.lock(
        staff(programme),
        code=claimed.row.code,
        order_ref="o-1",
        cart=None,
        idempotency_key=uuid.uuid4().hex,
    )
    await checkout.redeem(
        staff(programme), code=claimed.row.code, order_ref="o-1", idempotency_key=uuid.uuid4().hex
    )
    issued = await _events(member, "coupon.issued")
    assert [e.payload["source"] for e in issued] == ["CLAIM", "GRANT"]
    assert issued[0].payload["coupon"] == {
        "code": claimed.row.code,
        "template": template.code,
        "title": "20 off 199",
    }
    assert issued[0].payload["endsAt"] is not None
    assert len(await _events(other, "coupon.issued")) == 1
    redeemed = await _events(member, "coupon.redeemed")
    assert len(redeemed) == 1
    assert redeemed[0].payload["orderId"] == "o-1"
    assert redeemed[0].payload["coupon"]["code"] == claimed.row.code
    numbers = [e.sequence for e in await _events(member)]
    assert numbers == list(range(1, len(numbers) + 1))


async def test_a_referral_reward_is_told_to_the_inviter(programme: Programme, make_member) -> None:
    from services.points.activity import referrals

    inviter = await make_member(programme)
    invitee = await make_member(programme)
    code = await referrals.invite_code(staff(programme), inviter)
    await referrals.accept_referral(
        staff(programme),
        invitee_external_id=invitee.external_id,
        invite_code=code,
        idempotency_key=uuid.uuid4().hex,
    )
    order = await place_order(programme, invitee, line(price=10_000))
    await complete(programme, order)
    rewarded = await _events(inviter, "referral.rewarded")
    assert len(rewarded) == 1
    assert rewarded[0].payload == {
        "version": 1,
        "member": {"externalId": inviter.external_id},
        "invitee": {"externalId": invitee.external_id},
        "points": 200,
        "orderId": order.order_ref,
    }
    earned = await _events(inviter, "points.earned")
    assert [e.payload["source"] for e in earned] == ["REFERRAL"]


async def test_run_jobs_prunes_events_past_retention_and_keeps_the_rest(
    programme: Programme, make_member
) -> None:
    from datetime import timedelta

    from services.clock import wall_now
    from tests.fixtures.points import run_jobs

    member = await make_member(programme)
    await place_order(programme, member, line(price=10_000))
    old, new = await _events(member)
    await Event.filter(id=old.id).update(recorded_at=wall_now() - timedelta(days=31))
    await Event.filter(id=new.id).update(recorded_at=wall_now() - timedelta(days=29))
    report = await run_jobs(programme)
    assert report.events_pruned == 1
    assert [e.id for e in await _events(member)] == [new.id]
    # a programme that keeps them longer keeps them
    programme.event_policy = {"retentionDays": 90}
    await programme.save(update_fields=["event_policy"])
    await Event.filter(id=new.id).update(recorded_at=wall_now() - timedelta(days=60))
    assert (await run_jobs(programme)).events_pruned == 0


async def test_coupons_the_job_issues_are_told_once(programme: Programme, make_member) -> None:
    from domain.coupons import AutoIssue
    from tests.fixtures.coupons import make_template
    from tests.fixtures.points import run_jobs
    from tests.services.test_coupons import add_allowance

    await add_allowance(programme, "BRONZE", 2)
    await make_template(programme, claimable=False, auto_issue=AutoIssue.MONTHLY_ALLOWANCE)
    members = [await make_member(programme) for _ in range(3)]
    await run_jobs(programme)
    await run_jobs(programme)
    for member in members:
        issued = await _events(member, "coupon.issued")
        assert [e.payload["source"] for e in issued] == ["MONTHLY_ALLOWANCE"] * 2
        assert [e.sequence for e in await _events(member)] == [1, 2, 3]
