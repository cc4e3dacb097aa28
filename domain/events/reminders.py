"""Reminders: what is due, and the key that makes each one go out once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo


@dataclass(frozen=True)
class Expiring:
    """Points that expire on one local day: one reminder."""

    day: date
    first_at: datetime
    points: int
    scope: str = "lots"  # or "balance" (rolling expiry)

    @property
    def key(self) -> str:
        return f"{self.scope}:{self.day.isoformat()}"


def expiring_by_day(
    lots: list[tuple[int, datetime | None]], *, now: datetime, days: int, tz: tzinfo
) -> list[Expiring]:
    """Lots (remaining, expires_at) that expire after `now` and on or before the local day
    `days` days ahead, grouped by local day. Whole days, so a day's lots come due together
    whatever the hour the job runs, and its one reminder covers all of them."""
    if days <= 0:
        return []
    last_day = now.astimezone(tz).date() + timedelta(days=days)
    found: dict[date, Expiring] = {}
    for remaining, expires_at in lots:
        if expires_at is None or remaining <= 0 or expires_at <= now:
            continue
        day = expires_at.astimezone(tz).date()
        if day > last_day:
            continue
        seen = found.get(day)
        if seen is None:
            found[day] = Expiring(day, expires_at, remaining)
        else:
            found[day] = Expiring(day, min(seen.first_at, expires_at), seen.points + remaining)
    return [found[day] for day in sorted(found)]


def balance_expiring(
    *, expires_at: datetime | None, available: int, now: datetime, days: int, tz: tzinfo
) -> Expiring | None:
    """Rolling expiry: the whole balance goes at once; a new earning moves the date (and so
    the key: the next reminder is for the new date)."""
    if days <= 0 or expires_at is None or available <= 0 or expires_at <= now:
        return None
    day = expires_at.astimezone(tz).date()
    if day > now.astimezone(tz).date() + timedelta(days=days):
        return None
    return Expiring(day, expires_at, available, "balance")


def warning_due(*, valid_until: datetime | None, now: datetime, days: int) -> bool:
    """The tier's validity period ends within `days` (and has not ended yet)."""
    return days > 0 and valid_until is not None and now < valid_until <= now + timedelta(days=days)


def period_key(valid_until: datetime) -> str:
    return f"period:{valid_until.isoformat()}"
