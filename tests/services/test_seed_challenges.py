"""The demo programme's challenges (issue 20): seeded once, shown by `make run`."""

from __future__ import annotations

from db.challenge_cache import active_challenges
from db.models import Challenge
from services import seed


async def test_the_demo_runs_an_orders_challenge_and_a_check_in_streak(monkeypatch):
    monkeypatch.setattr(seed, "DEMO_CODE", "demo-challenges-test")
    result = await seed.seed_demo(member_count=3)
    running = await active_challenges(result.programme_id)
    assert sorted((c.code, c.goal.value, c.target) for c in running) == [
        ("STREAK-7", "CHECK_IN_STREAK", 7),
        ("THREE-ORDERS", "ORDERS", 3),
    ]
    streak = next(c for c in running if c.code == "STREAK-7")
    assert streak.reward.coupon_template == "10PCT" and streak.reward.badge is not None
    # a second run changes nothing
    again = await seed.seed_demo(member_count=3)
    assert not again.created
    assert await Challenge.filter(programme_id=result.programme_id).count() == 2
