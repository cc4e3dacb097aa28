"""The programme clock. Every time here is fixed; the real clock is never read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.clock import MAX_ADVANCE, ProgrammeMode, advanced_clock, programme_now, zone_problem
from domain.errors import ErrorCode, LiveProgramme, ValidationFailed

WALL = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
TEST_CLOCK = datetime(2024, 1, 15, 9, 30, tzinfo=UTC)
SANDBOX = ProgrammeMode.SANDBOX
LIVE = ProgrammeMode.LIVE


def test_a_sandbox_stands_still_at_its_test_clock():
    # given a sandbox whose test clock is far from the wall clock
    # when
    now = programme_now(SANDBOX, TEST_CLOCK, wall=WALL)
    # then
    assert now == TEST_CLOCK


def test_a_sandbox_without_a_test_clock_follows_the_wall():
    # given a sandbox never advanced
    # when
    now = programme_now(SANDBOX, None, wall=WALL)
    # then
    assert now == WALL


def test_a_live_programme_follows_the_wall_even_with_a_stale_test_clock():
    # given
    # when
    now = programme_now(LIVE, TEST_CLOCK, wall=WALL)
    # then
    assert now == WALL


@pytest.mark.parametrize(
    ("days", "seconds", "expected"),
    [
        (1, 0, TEST_CLOCK + timedelta(days=1)),
        (0, 90, TEST_CLOCK + timedelta(seconds=90)),
        (30, 3600, TEST_CLOCK + timedelta(days=30, hours=1)),
        (MAX_ADVANCE.days, 0, TEST_CLOCK + MAX_ADVANCE),
    ],
)
def test_advance_by_days_and_seconds(days, seconds, expected):
    # given a sandbox at TEST_CLOCK
    # when
    landed = advanced_clock(SANDBOX, TEST_CLOCK, days=days, seconds=seconds, to=None)
    # then
    assert landed == expected


def test_advance_to_a_later_moment():
    # given
    target = datetime(2024, 6, 1, tzinfo=UTC)
    # when
    landed = advanced_clock(SANDBOX, TEST_CLOCK, days=0, seconds=0, to=target)
    # then
    assert landed == target


def test_advance_to_a_moment_in_another_zone_compares_instants():
    # given 2024-01-15 18:30 at UTC+08:00 is 10:30 UTC, an hour after the test clock
    target = datetime(2024, 1, 15, 18, 30, tzinfo=timezone(timedelta(hours=8)))
    # when
    landed = advanced_clock(SANDBOX, TEST_CLOCK, days=0, seconds=0, to=target)
    # then
    assert landed - TEST_CLOCK == timedelta(hours=1)


def test_advance_to_exactly_five_years_is_allowed():
    # given
    target = TEST_CLOCK + MAX_ADVANCE
    # when
    landed = advanced_clock(SANDBOX, TEST_CLOCK, days=0, seconds=0, to=target)
    # then
    assert landed == target


def _failure(**kwargs: object) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as raised:
        advanced_clock(SANDBOX, TEST_CLOCK, **kwargs)  # type: ignore[arg-type]
    return raised.value


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"days": -1, "seconds": 0, "to": None}, "days"),
        ({"days": 0, "seconds": -1, "to": None}, "seconds"),
        ({"days": 0, "seconds": 0, "to": TEST_CLOCK}, "to"),
        ({"days": 0, "seconds": 0, "to": TEST_CLOCK - timedelta(seconds=1)}, "to"),
    ],
)
def test_a_test_clock_only_moves_forward(kwargs, field):
    # given a sandbox at TEST_CLOCK
    # when
    failure = _failure(**kwargs)
    # then
    assert [e.field for e in failure.errors] == [field]
    assert failure.code is ErrorCode.VALIDATION


def test_no_step_at_all_is_rejected():
    # given neither `to` nor a step
    # when
    failure = _failure(days=0, seconds=0, to=None)
    # then
    assert failure.errors[0].field in {"days", "seconds"}
    assert failure.code is ErrorCode.VALIDATION


@pytest.mark.parametrize(("days", "seconds"), [(1, 0), (0, 60), (2, 5)])
def test_to_together_with_a_step_is_rejected(days, seconds):
    # given both a target and a step
    target = TEST_CLOCK + timedelta(days=10)
    # when
    failure = _failure(days=days, seconds=seconds, to=target)
    # then
    assert [e.field for e in failure.errors] == ["to"]


def test_a_naive_to_is_rejected():
    # given a target without a time zone
    target = datetime(2024, 6, 1, 0, 0)
    # when
    failure = _failure(days=0, seconds=0, to=target)
    # then
    assert [e.field for e in failure.errors] == ["to"]
    assert "zone" in failure.errors[0].message


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"days": MAX_ADVANCE.days + 1, "seconds": 0, "to": None}, "days"),
        ({"days": MAX_ADVANCE.days, "seconds": 1, "to": None}, "days"),
        ({"days": 0, "seconds": int(MAX_ADVANCE.total_seconds()) + 1, "to": None}, "seconds"),
        ({"days": 10**9, "seconds": 0, "to": None}, "days"),
        ({"days": 0, "seconds": 0, "to": TEST_CLOCK + MAX_ADVANCE + timedelta(seconds=1)}, "to"),
    ],
)
def test_more_than_five_years_in_one_step_is_rejected(kwargs, field):
    # given a sandbox at TEST_CLOCK
    # when
    failure = _failure(**kwargs)
    # then
    assert [e.field for e in failure.errors] == [field]
    assert "five years" in failure.errors[0].message


@pytest.mark.parametrize(
    "kwargs",
    [
        {"days": 1, "seconds": 0, "to": None},
        {"days": 0, "seconds": 0, "to": TEST_CLOCK + timedelta(days=1)},
    ],
)
def test_a_live_programme_has_no_test_clock(kwargs):
    # given a live programme
    # when
    with pytest.raises(LiveProgramme) as raised:
        advanced_clock(LIVE, WALL, **kwargs)
    # then
    assert raised.value.code is ErrorCode.LIVE_PROGRAMME
    assert raised.value.errors[0].code is ErrorCode.LIVE_PROGRAMME


def test_a_programmes_zone_is_an_iana_name_postgresql_reads_as_python_does():
    known = {"Europe/Paris", "CET", "Asia/Shanghai", "UTC"}
    assert zone_problem("Europe/Paris", known) is None
    assert zone_problem("UTC", known) is None
    assert "IANA" in (zone_problem("Mars/Olympus", known) or "")
    # CET has summer time in Python, none in PostgreSQL: refused, naming a zone that works
    assert "Europe/Paris" in (zone_problem("CET", known) or "")
    assert all(zone_problem(z, {z}) for z in ("CET", "EET", "MET", "WET"))
