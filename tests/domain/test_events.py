"""Pure event rules: which ledger row is which event, reminder windows, policy checks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.errors import Collector
from domain.events import (
    Event,
    EventPolicy,
    Position,
    balance_expiring,
    check_types,
    envelope,
    expiring_by_day,
    points_event_type,
    subject_of,
    tier_direction,
    warning_due,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.mark.parametrize(
    ("kind", "bucket", "amount", "reference_type", "expected"),
    [
        ("EARN", "PENDING", 100, "ORDER", "points.earned"),
        ("EARN", "PENDING", -100, "ORDER", None),  # leaving pending as it becomes available
        ("EARN", "AVAILABLE", 100, "ORDER", "points.available"),
        ("EARN", "AVAILABLE", 5, "CHECK_IN", "points.earned"),
        ("REDEEM", "AVAILABLE", -50, "REWARD", "points.redeemed"),
        ("REVERSE", "PENDING", -100, "ORDER", "points.reversed"),
        ("ADJUST", "AVAILABLE", 7, "ADJUSTMENT", "points.adjusted"),
        ("EXPIRE", "AVAILABLE", -9, "EXPIRY", "points.expired"),
        ("TRANSFER_IN", "AVAILABLE", 9, "PARTNER", "points.transferred_in"),
        ("TRANSFER_OUT", "AVAILABLE", -9, "GIFT", "points.transferred_out"),
    ],
)
def test_each_ledger_row_is_one_event_or_none(kind, bucket, amount, reference_type, expected):
    found = points_event_type(
        kind=kind, bucket=bucket, amount=amount, reference_type=reference_type
    )
    assert found == expected


def test_lots_expiring_are_grouped_by_local_day_within_whole_days():
    lots = [
        (100, NOW + timedelta(days=3)),
        (50, NOW + timedelta(days=3, hours=5)),  # same Shanghai day (15:00)
        (20, NOW + timedelta(days=3, hours=14)),  # next Shanghai day (00:00)
        (70, NOW + timedelta(days=7, hours=13)),  # 23:00 on the last day in the window
        (30, NOW + timedelta(days=7, hours=14)),  # the day after it: not yet
        (0, NOW + timedelta(days=1)),  # spent
        (40, None),  # never expires
        (60, NOW - timedelta(minutes=1)),  # already due: expiry's business, not a reminder
    ]
    found = expiring_by_day(lots, now=NOW, days=7, tz=SHANGHAI)
    assert [(e.day, e.points) for e in found] == [
        (date(2027, 3, 4), 150),
        (date(2027, 3, 5), 20),
        (date(2027, 3, 8), 70),
    ]
    assert found[0].first_at == NOW + timedelta(days=3)
    assert found[0].key == "lots:2027-03-04"
    assert expiring_by_day(lots, now=NOW, days=0, tz=SHANGHAI) == []


def test_a_rolling_balance_is_one_reminder_keyed_by_its_date():
    one = balance_expiring(
        expires_at=NOW + timedelta(days=2), available=300, now=NOW, days=7, tz=SHANGHAI
    )
    assert one is not None and one.points == 300 and one.key == "balance:2027-03-03"
    assert (
        balance_expiring(
            expires_at=NOW + timedelta(days=9), available=300, now=NOW, days=7, tz=SHANGHAI
        )
        is None
    )
    assert (
        balance_expiring(
            expires_at=NOW + timedelta(days=2), available=0, now=NOW, days=7, tz=SHANGHAI
        )
        is None
    )
    assert balance_expiring(expires_at=None, available=5, now=NOW, days=7, tz=SHANGHAI) is None


def test_a_warning_is_due_inside_the_lead_time_before_the_end():
    assert warning_due(valid_until=NOW + timedelta(days=14), now=NOW, days=14)
    assert not warning_due(valid_until=NOW + timedelta(days=14, seconds=1), now=NOW, days=14)
    assert not warning_due(valid_until=NOW, now=NOW, days=14)  # ended: the job judges it
    assert not warning_due(valid_until=NOW + timedelta(days=1), now=NOW, days=0)
    assert not warning_due(valid_until=None, now=NOW, days=14)


def test_tier_direction():
    assert tier_direction(None, 0) == "UP"
    assert tier_direction(1, 2) == "UP"
    assert tier_direction(2, 1) == "DOWN"
    assert tier_direction(1, 1) == "SAME"


def test_type_filters_name_known_types():
    errors = Collector()
    check_types(errors, ["points.earned", "tier.changed"])
    assert not errors.errors
    for bad in ([], ["points.stolen"], ["x"] * 51):
        errors = Collector()
        check_types(errors, bad)
        assert [e.field for e in errors.errors] == ["types"]


def test_policy_defaults_round_trip_and_bounds():
    assert EventPolicy.from_json(None) == EventPolicy(30, 7, 14)
    policy = EventPolicy(90, 0, 30)
    assert EventPolicy.from_json(policy.to_json()) == policy
    errors = Collector()
    EventPolicy(0, -1, 367).check(errors)
    assert [e.field for e in errors.errors] == [
        "retentionDays",
        "expiringDays",
        "downgradeWarningDays",
    ]


def test_the_envelope_names_the_member_by_its_global_id():
    event = Event(Position(5, 9), "e-1", 1, "points.earned", 42, 3, NOW, {"version": 1})
    body = envelope(event, programme_code="demo")
    assert body == {
        "id": "e-1",
        "type": "points.earned",
        "programme": "demo",
        "timestamp": NOW.isoformat(),
        "subject": "TWVtYmVyOjQy",  # base64 "Member:42", as GraphQL gives it out
        "sequence": 3,
        "data": {"version": 1},
    }
    assert subject_of(None) is None
