"""Edges of the expiry reminders: the horizon itself, and the smallest balance worth a reminder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.lots import Expiring, Lot, expiring_within
from domain.points import ExpiryPolicy

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
EARNED = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def lot(id: int, remaining: int, expires_at: datetime | None) -> Lot:
    return Lot(id=id, remaining=remaining, earned_at=EARNED, expires_at=expires_at)


def test_a_rolling_expiry_exactly_at_the_horizon_is_reminded_of():
    # given a rolling balance due exactly 30 days from now
    due = NOW + timedelta(days=30)
    # when the member asks what expires within 30 days
    expiring = expiring_within(
        [lot(1, 40, None)], NOW, 30, policy=ExpiryPolicy.ROLLING_ACTIVITY, rolling_expires_at=due
    )
    # then
    assert expiring == [Expiring(40, due)]


def test_a_rolling_balance_of_one_point_is_reminded_of():
    # given
    due = NOW + timedelta(days=3)
    # when
    expiring = expiring_within(
        [lot(1, 1, None)], NOW, 30, policy=ExpiryPolicy.ROLLING_ACTIVITY, rolling_expires_at=due
    )
    # then
    assert expiring == [Expiring(1, due)]


def test_a_lot_of_one_point_is_reminded_of():
    # given
    due = NOW + timedelta(days=3)
    # when
    expiring = expiring_within(
        [lot(1, 1, due)], NOW, 30, policy=ExpiryPolicy.LOTS, rolling_expires_at=None
    )
    # then
    assert expiring == [Expiring(1, due)]
