"""The programme clock: live programmes follow the wall clock, sandboxes a test clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from domain.errors import LiveProgramme, invalid

MAX_ADVANCE = timedelta(days=366 * 5)


class ProgrammeMode(StrEnum):
    LIVE = "LIVE"
    SANDBOX = "SANDBOX"


def programme_now(
    mode: ProgrammeMode, test_clock_at: datetime | None, *, wall: datetime
) -> datetime:
    """A sandbox's time stands still at its test clock until it is advanced."""
    if mode is ProgrammeMode.SANDBOX and test_clock_at is not None:
        return test_clock_at
    return wall


def advanced_clock(
    mode: ProgrammeMode, current: datetime, *, days: int, seconds: int, to: datetime | None
) -> datetime:
    """Where a test clock lands: forward only, at most five years a step, and only in a sandbox."""
    if mode is not ProgrammeMode.SANDBOX:
        raise LiveProgramme("a live programme follows real time; only sandboxes have a test clock")
    if to is not None:
        if days or seconds:
            raise invalid("to", "give either `to` or `days`/`seconds`, not both")
        if to.tzinfo is None:
            raise invalid("to", "`to` needs a time zone")
        field, step = "to", to - current
    else:
        field = "days" if days else "seconds"
        if abs(days) > MAX_ADVANCE.days:
            raise invalid("days", "advance at most five years at a time")
        if abs(seconds) > MAX_ADVANCE.total_seconds():
            raise invalid("seconds", "advance at most five years at a time")
        step = timedelta(days=days, seconds=seconds)
    if step <= timedelta(0):
        raise invalid(field, "a test clock only moves forward")
    if step > MAX_ADVANCE:
        raise invalid(field, "advance at most five years at a time")
    return current + step


# Zone names PostgreSQL reads as its fixed-offset abbreviations before its zone files (CET is
# always +01:00 there, never +02:00 in summer), while Python's tz database gives them summer
# time. A programme's local days are worked out on both sides (insights' rollups in a trigger,
# everything else in Python), so these would put an hour of each summer night on another day.
OFFSET_ALIKE_ZONES = frozenset({"CET", "EET", "MET", "WET"})


def zone_problem(name: str, known: frozenset[str] | set[str]) -> str | None:
    """Why `name` cannot be a programme's time zone (`known`: the IANA names available), or
    None when it can."""
    if name not in known:
        return "must be an IANA time zone such as Asia/Shanghai"
    if name in OFFSET_ALIKE_ZONES:
        return f"{name} is read as a fixed offset by PostgreSQL; use a city's zone (Europe/Paris)"
    return None
