"""The demo's year (issue 21, point 5): a year of activity booked through the services on the
sandbox's test clock, every ledger consistent, every kind of fact the dashboard charts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from db.models import (
    Campaign,
    CampaignAward,
    CheckIn,
    Coupon,
    Member,
    Order,
    PartnerTransfer,
    PointLot,
    PointTransaction,
    Programme,
    RewardRedemption,
    Tier,
    TierChange,
)
from services import seed
from services.clock import programme_time, wall_now
from services.seed_history import FINISHED
from tests.fixtures.points import assert_ledger_consistent


async def test_the_demo_year_has_shape_and_every_ledger_adds_up(monkeypatch):
    # given the demo seeded with a dozen members
    monkeypatch.setattr(seed, "DEMO_CODE", "demo-year-test")
    result = await seed.seed_demo(member_count=12)
    programme_id = result.programme_id
    # then the clock ends at the real now, and every member's ledger is consistent
    assert abs(await programme_time(programme_id) - wall_now()) < timedelta(minutes=5)
    members = await Member.filter(programme_id=programme_id)
    assert len(members) == 12
    for member in members:
        await assert_ledger_consistent(member)
    # facts in at least ten distinct months
    rows = await PointTransaction.filter(programme_id=programme_id).values("kind", "created_at")
    assert len({row["created_at"].strftime("%Y-%m") for row in rows}) >= 10
    kinds = {row["kind"] for row in rows}
    assert {"EARN", "EXPIRE", "REDEEM", "TRANSFER_IN", "TRANSFER_OUT"} <= kinds
    # an expired lot: points of the year's first day, left unspent
    assert await PointTransaction.filter(programme_id=programme_id, kind="EXPIRE").exists()
    assert await PointLot.filter(
        programme_id=programme_id, expires_at__lte=wall_now(), amount__gt=0
    ).exists()
    # orders completed after their window, some returned in part; coupons issued and used
    statuses = set(await Order.filter(programme_id=programme_id).values_list("status", flat=True))
    assert {"COMPLETED", "PENDING"} <= statuses
    assert await PointTransaction.filter(programme_id=programme_id, kind="REVERSE").exists()
    assert await Coupon.filter(programme_id=programme_id, status="USED").exists()
    # tiers moved up and down
    ranks = dict(await Tier.filter(programme_id=programme_id).values_list("id", "rank"))
    moves = await TierChange.filter(programme_id=programme_id).values_list(
        "from_tier_id", "to_tier_id"
    )
    steps = [ranks[to] - ranks[was] for was, to in moves if was is not None and to is not None]
    assert any(step > 0 for step in steps) and any(step < 0 for step in steps)
    # a campaign that ran and ended, with awards, beside the running ones
    finished = await Campaign.get(programme_id=programme_id, code=FINISHED)
    assert finished.status == "ENDED"
    assert await CampaignAward.filter(campaign_id=finished.id).exists()
    running = await Campaign.filter(programme_id=programme_id, status="ACTIVE").count()
    assert running == 2
    # partner transfers each way
    transfers = await PartnerTransfer.filter(programme_id=programme_id, status="COMPLETED")
    assert {t.direction for t in transfers} == {"IN", "OUT"}
    # reward redemptions, one of them cancelled
    redeemed = await RewardRedemption.filter(programme_id=programme_id).values_list(
        "status", flat=True
    )
    assert "FULFILLED" in redeemed and redeemed.count("CANCELLED") == 1
    # and a second run changes nothing
    count = await PointTransaction.filter(programme_id=programme_id).count()
    again = await seed.seed_demo(member_count=12)
    assert not again.created
    assert await PointTransaction.filter(programme_id=programme_id).count() == count
    assert await Programme.filter(code="demo-year-test").count() == 1


async def test_the_first_member_has_a_tier_points_a_wallet_and_a_streak(monkeypatch):
    monkeypatch.setattr(seed, "DEMO_CODE", "demo-year-first")
    result = await seed.seed_demo(member_count=3)
    first = await Member.get(programme_id=result.programme_id, external_id="cust-0001")
    assert first.tier_id is not None and first.points_available > 0
    assert await Coupon.filter(member_id=first.id).exists()
    assert await TierChange.filter(member_id=first.id).exists()
    streaks = await CheckIn.filter(member_id=first.id).values_list("streak", flat=True)
    assert max(streaks) == 7


async def test_only_a_sandbox_clock_starts_in_the_past():
    from domain.clock import ProgrammeMode
    from domain.errors import ValidationFailed
    from services.clock import now_of
    from tests.fixtures.factories import create_programme

    back = wall_now() - timedelta(days=365)
    sandbox = await create_programme(clock_at=back)
    assert now_of(sandbox) == back and sandbox.created_at == back
    with pytest.raises(ValidationFailed):
        await create_programme(mode=ProgrammeMode.LIVE, clock_at=back)
    with pytest.raises(ValidationFailed):
        await create_programme(clock_at=wall_now() + timedelta(days=1))
