from __future__ import annotations

import pytest

from db.models import Programme
from services import members as member_service
from services import seed


async def test_a_seed_that_dies_half_way_leaves_nothing_and_the_next_run_seeds(monkeypatch):
    # given a registration that fails on the 10th member
    real_register = member_service.register
    calls = {"n": 0}

    async def failing_register(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 10:
            raise RuntimeError("interrupted")
        return await real_register(*args, **kwargs)

    monkeypatch.setattr(seed, "DEMO_CODE", "demo-seed-test")
    monkeypatch.setattr(member_service, "register", failing_register)
    with pytest.raises(RuntimeError):
        await seed.seed_demo(member_count=12)
    assert await Programme.filter(code="demo-seed-test").count() == 0
    # when the next run comes
    monkeypatch.setattr(member_service, "register", real_register)
    result = await seed.seed_demo(member_count=12)
    # then it seeds afresh and shows the keys
    assert result.created and len(result.keys) == 2 and result.members == 12
    again = await seed.seed_demo(member_count=12)
    assert not again.created and again.keys == []


async def test_the_demo_has_a_coupon_catalogue_and_coupons_in_the_first_wallets(monkeypatch):
    from db.models import Coupon, CouponTemplate, Member

    monkeypatch.setattr(seed, "DEMO_CODE", "demo-coupons-test")
    result = await seed.seed_demo(member_count=12)
    codes = await CouponTemplate.filter(programme_id=result.programme_id).values_list(
        "code", flat=True
    )
    assert sorted(codes) == sorted(code for code, *_ in seed.DEMO_COUPONS)
    first = await Member.get(programme_id=result.programme_id, external_id="cust-0001")
    # (granted: the demo's year also issues tier and birthday coupons)
    held = await Coupon.filter(member_id=first.id, source="GRANT").prefetch_related("template")
    assert sorted(c.template.code for c in held) == ["20OFF199", "FREESHIP"]
    last = await Member.get(programme_id=result.programme_id, external_id="cust-0012")
    assert await Coupon.filter(member_id=last.id, source="GRANT").count() == 0


async def test_the_demo_runs_a_member_day_and_weekend_check_ins(monkeypatch):
    from db.campaign_cache import active_campaigns

    monkeypatch.setattr(seed, "DEMO_CODE", "demo-campaigns-test")
    result = await seed.seed_demo(member_count=3)
    running = await active_campaigns(result.programme_id)
    assert sorted((c.code, c.trigger.value) for c in running) == [
        ("MEMBER-DAY", "ORDER"),
        ("WEEKEND-CHECK-IN", "CHECK_IN"),
    ]
    member_day = next(c for c in running if c.code == "MEMBER-DAY")
    assert member_day.schedule.month_days == frozenset({8})
    assert member_day.limits.member_period_cap == 500
