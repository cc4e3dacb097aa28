"""Reminders on the test clock: `points.expiring` and `tier.downgrade_warning` go out once per
lot day (or balance) and once per validity period, however often run-jobs runs."""

from __future__ import annotations

import uuid
from datetime import timedelta

from db.models import Event, Member, Programme
from domain.points import ExpiryPolicy, PointsPolicy
from domain.tier_rules import Window
from services import tier_policy
from tests.fixtures.factories import admin_of
from tests.fixtures.points import advance, complete, line, place_order, run_jobs


async def _reminders(member: Member, type: str) -> list[Event]:
    return await Event.filter(member_id=member.id, type=type).order_by("id")


async def _set_events_policy(programme: Programme, **policy: int) -> None:
    programme.event_policy = policy
    await programme.save(update_fields=["event_policy"])


async def test_points_expiring_goes_out_once_n_days_before_the_lot_expires(
    programme: Programme, make_member
) -> None:
    # given a lot of 200 points that expires in 12 months, reminders 7 days ahead (default)
    member = await make_member(programme)
    order = await place_order(programme, member, line(price=10_000))
    await complete(programme, order)
    # when the jobs run daily from 10 days before its expiry until after it
    await advance(programme, days=365 - 10)
    counts = []
    for _ in range(12):
        await run_jobs(programme)
        await run_jobs(programme)  # twice a day: still once
        counts.append(len(await _reminders(member, "points.expiring")))
        await advance(programme, days=1)
    # then one reminder, from the day the expiry came within 7 days, never repeated
    assert counts[:2] == [0, 0]
    assert counts[-1] == 1 and set(counts[3:]) == {1}
    reminder = (await _reminders(member, "points.expiring"))[0]
    assert reminder.payload["points"] == order.points
    assert reminder.payload["balance"] == {"available": order.points}
    assert reminder.payload["version"] == 1
    expired = await _reminders(member, "points.expired")
    assert len(expired) == 1
    assert reminder.payload["expiresAt"] == expired[0].occurred_at.isoformat()
    assert reminder.id < expired[0].id


async def test_points_expiring_respects_the_programmes_lead_time_and_zero_turns_it_off(
    programme: Programme, make_member
) -> None:
    member = await make_member(programme)
    await complete(programme, await place_order(programme, member, line(price=10_000)))
    await _set_events_policy(programme, expiringDays=0)
    await advance(programme, days=362)
    await run_jobs(programme)
    assert await _reminders(member, "points.expiring") == []
    await _set_events_policy(programme, expiringDays=30)
    await run_jobs(programme)
    assert len(await _reminders(member, "points.expiring")) == 1


async def test_a_rolling_balance_is_reminded_once_per_expiry_date(
    programme: Programme, make_member
) -> None:
    # given the whole balance expires 12 months after the last earning
    policy = PointsPolicy(expiry_policy=ExpiryPolicy.ROLLING_ACTIVITY, expiry_months=12)
    programme.points_policy = policy.to_json()
    await programme.save(update_fields=["points_policy"])
    member = await make_member(programme)
    await complete(programme, await place_order(programme, member, line(price=10_000)))
    await advance(programme, days=360)
    await run_jobs(programme)
    await run_jobs(programme)
    assert len(await _reminders(member, "points.expiring")) == 1
    # when an earning renews the balance, the next reminder is for the new date
    await complete(programme, await place_order(programme, member, line(price=5_000)))
    await run_jobs(programme)
    assert len(await _reminders(member, "points.expiring")) == 1
    await advance(programme, days=360)
    await run_jobs(programme)
    await run_jobs(programme)
    reminders = await _reminders(member, "points.expiring")
    assert len(reminders) == 2
    assert reminders[1].payload["points"] == 300
    assert reminders[0].payload["expiresOn"] != reminders[1].payload["expiresOn"]


async def _tiers_held_for_six_months(programme: Programme) -> None:
    await tier_policy.change(
        admin_of(programme),
        {"window": Window.VALIDITY, "validity_months": 6},
        idempotency_key=uuid.uuid4().hex,
    )


async def test_a_downgrade_warning_goes_out_once_per_period_with_what_is_still_needed(
    programme: Programme, make_member
) -> None:
    # given Silver (retention 10,000) earned today, held for 6 months
    await _tiers_held_for_six_months(programme)
    member = await make_member(programme)
    await complete(programme, await place_order(programme, member, line(price=20_000)))
    row = await Member.get(id=member.id)
    assert row.tier_valid_until is not None
    # when the jobs run daily over the last 20 days of the period (warnings 14 days ahead)
    clock = (await Programme.get(id=programme.id)).test_clock_at
    assert clock is not None
    await advance(
        programme, seconds=int((row.tier_valid_until - clock).total_seconds()) - 20 * 86400
    )
    counts = []
    for _ in range(19):
        await run_jobs(programme)
        await run_jobs(programme)
        counts.append(len(await _reminders(member, "tier.downgrade_warning")))
        await advance(programme, days=1)
    # then one warning, sent 14 days before the end, never repeated
    assert counts[:5] == [0] * 5
    assert set(counts[6:]) == {1}
    warning = (await _reminders(member, "tier.downgrade_warning"))[0]
    assert warning.payload["tier"] == {"code": "SILVER", "name": "Silver"}
    assert warning.payload["fallsTo"] == {"code": "BRONZE", "name": "Bronze"}
    assert warning.payload["needed"] == 10_000
    assert warning.payload["metric"] == "SPEND"
    assert warning.payload["validUntil"] == row.tier_valid_until.isoformat()
    # and at the period's end the drop itself is told
    await advance(programme, days=2)
    await run_jobs(programme)
    drops = [
        e for e in await _reminders(member, "tier.changed") if e.payload["direction"] == "DOWN"
    ]
    assert len(drops) == 1 and drops[0].payload["reason"] == "PERIOD_ENDED"


async def test_no_warning_when_retention_is_met(programme: Programme, make_member) -> None:
    await _tiers_held_for_six_months(programme)
    member = await make_member(programme)
    await complete(programme, await place_order(programme, member, line(price=20_000)))
    await advance(programme, days=30)
    await complete(programme, await place_order(programme, member, line(price=10_000)))
    row = await Member.get(id=member.id)
    clock = (await Programme.get(id=programme.id)).test_clock_at
    assert row.tier_valid_until is not None and clock is not None
    await advance(
        programme, seconds=int((row.tier_valid_until - clock - timedelta(days=3)).total_seconds())
    )
    await run_jobs(programme)
    assert await _reminders(member, "tier.downgrade_warning") == []
