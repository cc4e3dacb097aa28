"""Partners: the terms a partner platform exchanges points on, and the exact arithmetic of it.

A rate is an exact ratio of integers and every conversion rounds down, towards the programme:
a member never receives a fraction of a point the partner did not pay for, and a partner never
receives a unit the member did not pay for. With `inbound x outbound <= 1` (checked when terms
are set) a round trip A -> B -> A can therefore never gain (RELIABILITY 13).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from domain.errors import Collector, DomainError, ErrorCode
from domain.points import MAX_POINTS

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
RATE_TERM_MAX = 1_000_000
DEFAULT_TIMEOUT_MINUTES = 24 * 60
TIMEOUT_MINUTES_MAX = 30 * 24 * 60
PARTNER_ID_MAX = 64  # a partner's own ids (its transfer ids, its member ids)


class Direction(StrEnum):
    IN = "IN"  # partner units -> our points (creditFromPartner)
    OUT = "OUT"  # our points -> partner units (transferToPartner)


class PartnerStatus(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"


class TransferStatus(StrEnum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    REVERSED = "REVERSED"


class PartnerSuspended(DomainError):
    code = ErrorCode.PARTNER_SUSPENDED


class DirectionNotAllowed(DomainError):
    code = ErrorCode.DIRECTION_NOT_ALLOWED


class TransferOutOfRange(DomainError):
    code = ErrorCode.TRANSFER_OUT_OF_RANGE


class DailyLimitReached(DomainError):
    code = ErrorCode.DAILY_LIMIT_REACHED


@dataclass(frozen=True)
class Rate:
    """`source` units of what is given are worth `target` units of what is received."""

    source: int
    target: int

    @property
    def ratio(self) -> Fraction:
        return Fraction(self.target, self.source)

    def convert(self, amount: int) -> int:
        """What `amount` given is worth, rounded down (towards the programme; see module)."""
        return amount * self.target // self.source


@dataclass(frozen=True)
class DirectionTerms:
    """One direction's rate and limits. Limits are in our points; None means no daily limit."""

    rate: Rate
    min_points: int = 1
    max_points: int = 100_000
    daily_points_per_member: int | None = None
    daily_points_total: int | None = None


@dataclass(frozen=True)
class PartnerTerms:
    """What a partner may do. A direction left out (None) is not allowed."""

    inbound: DirectionTerms | None = None
    outbound: DirectionTerms | None = None
    eligible_tiers: tuple[str, ...] = ()  # tier codes; empty: every tier
    timeout_minutes: int = DEFAULT_TIMEOUT_MINUTES

    def direction(self, direction: Direction) -> DirectionTerms:
        terms = self.inbound if direction is Direction.IN else self.outbound
        if terms is None:
            word = "into" if direction is Direction.IN else "out of"
            raise DirectionNotAllowed(
                f"this partner may not move points {word} the programme", field="direction"
            )
        return terms

    def to_json(self) -> dict[str, Any]:
        return {
            "inbound": _direction_json(self.inbound),
            "outbound": _direction_json(self.outbound),
            "eligible_tiers": list(self.eligible_tiers),
            "timeout_minutes": self.timeout_minutes,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> PartnerTerms:
        raw = raw or {}
        return cls(
            inbound=_direction_of(raw.get("inbound")),
            outbound=_direction_of(raw.get("outbound")),
            eligible_tiers=tuple(raw.get("eligible_tiers") or ()),
            timeout_minutes=int(raw.get("timeout_minutes", DEFAULT_TIMEOUT_MINUTES)),
        )


def _direction_json(terms: DirectionTerms | None) -> dict[str, Any] | None:
    if terms is None:
        return None
    return {
        "rate": [terms.rate.source, terms.rate.target],
        "min_points": terms.min_points,
        "max_points": terms.max_points,
        "daily_points_per_member": terms.daily_points_per_member,
        "daily_points_total": terms.daily_points_total,
    }


def _direction_of(raw: dict[str, Any] | None) -> DirectionTerms | None:
    if raw is None:
        return None
    source, target = raw["rate"]
    return DirectionTerms(
        rate=Rate(int(source), int(target)),
        min_points=int(raw["min_points"]),
        max_points=int(raw["max_points"]),
        daily_points_per_member=raw.get("daily_points_per_member"),
        daily_points_total=raw.get("daily_points_total"),
    )


def check_code(errors: Collector, code: str, field: str = "code") -> None:
    if not CODE_PATTERN.match(code):
        errors.add(field, "1-32 letters, digits, '-' or '_', starting with a letter or digit")


def check_partner_id(errors: Collector, value: str, field: str) -> None:
    """A partner's own id (transfer id, member id): 1-64 printable characters."""
    if not 1 <= len(value) <= PARTNER_ID_MAX or not value.isprintable() or value != value.strip():
        errors.add(field, f"1-{PARTNER_ID_MAX} printable characters, no surrounding spaces")


def _check_direction(errors: Collector, terms: DirectionTerms | None, name: str) -> None:
    if terms is None:
        return
    for part, value in (("source", terms.rate.source), ("target", terms.rate.target)):
        if not 1 <= value <= RATE_TERM_MAX:
            errors.add(f"{name}.rate.{part}", f"must be 1-{RATE_TERM_MAX}")
    if not 1 <= terms.min_points <= terms.max_points <= MAX_POINTS:
        errors.add(f"{name}.minPoints", f"need 1 <= minPoints <= maxPoints <= {MAX_POINTS}")
    for part, limit in (
        ("dailyPointsPerMember", terms.daily_points_per_member),
        ("dailyPointsTotal", terms.daily_points_total),
    ):
        if limit is not None and not 1 <= limit <= MAX_POINTS:
            errors.add(f"{name}.{part}", f"must be 1-{MAX_POINTS}, or null for no limit")


def check_terms(errors: Collector, terms: PartnerTerms) -> None:
    """Shape, and the one rule between the two rates: a round trip must not be able to gain."""
    _check_direction(errors, terms.inbound, "inbound")
    _check_direction(errors, terms.outbound, "outbound")
    if not 1 <= terms.timeout_minutes <= TIMEOUT_MINUTES_MAX:
        errors.add("timeoutMinutes", f"must be 1-{TIMEOUT_MINUTES_MAX}")
    if len(terms.eligible_tiers) > 20:
        errors.add("eligibleTiers", "at most 20 tier codes")
    if errors.errors or terms.inbound is None or terms.outbound is None:
        return
    if terms.inbound.rate.ratio * terms.outbound.rate.ratio > 1:
        errors.add(
            "outbound.rate",
            "inbound x outbound exceeds 1: a member could gain points by a round trip",
        )


# ---- conversions ----------------------------------------------------------------------------


def points_for_units(terms: PartnerTerms, units: int) -> int:
    """Partner units coming in -> our points, rounded down."""
    return terms.direction(Direction.IN).rate.convert(units)


def units_for_points(terms: PartnerTerms, points: int) -> int:
    """Our points going out -> partner units, rounded down."""
    return terms.direction(Direction.OUT).rate.convert(points)


def check_amount(terms: DirectionTerms, points: int, field: str) -> None:
    if points < terms.min_points or points > terms.max_points:
        raise TransferOutOfRange(
            f"a transfer is {terms.min_points}-{terms.max_points} points (this one is {points})",
            field=field,
        )


def check_daily(
    terms: DirectionTerms, points: int, *, member_today: int, total_today: int, field: str
) -> None:
    """The day's limits, given what this member and the partner already moved today."""
    per_member = terms.daily_points_per_member
    if per_member is not None and member_today + points > per_member:
        raise DailyLimitReached(
            f"the member may move {max(per_member - member_today, 0)} more points today",
            field=field,
        )
    total = terms.daily_points_total
    if total is not None and total_today + points > total:
        raise DailyLimitReached(
            f"this partner may move {max(total - total_today, 0)} more points today",
            field=field,
        )


def local_day_bounds(day: Any, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a calendar day in the programme's time zone, as aware datetimes."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def normalised(text: str) -> str:
    """For comparing a verifying attribute (e-mail, last name): NFKC, case-folded, inner
    spaces collapsed, outer ones dropped."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())
