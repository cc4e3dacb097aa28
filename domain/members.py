"""Member profile rules: shape and range checks that need no database."""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.errors import Collector
from domain.text import is_clean

EXTERNAL_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@\-]{0,127}$")
EMAIL_RE = re.compile(
    r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)+$"
)
PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-]{4,19}$")
BIRTHDAY_RE = re.compile(r"([0-9]{2})-([0-9]{2})")
DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
DISPLAY_NAME_MAX = 100
EMAIL_MAX = 254


@dataclass(frozen=True)
class Birthday:
    month: int
    day: int

    def __str__(self) -> str:
        return f"{self.month:02d}-{self.day:02d}"


def parse_birthday(value: str) -> Birthday | None:
    """`MM-DD`; 02-29 is allowed (members born on a leap day exist)."""
    match = BIRTHDAY_RE.fullmatch(value)
    if not match:
        return None
    month, day = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or not 1 <= day <= DAYS_IN_MONTH[month - 1]:
        return None
    return Birthday(month, day)


@dataclass(frozen=True)
class ProfileChanges:
    """Validated profile fields; a field left as None was not given (or cleared, per `cleared`)."""

    display_name: str | None = None
    email: str | None = None
    phone: str | None = None
    birthday: Birthday | None = None
    consent_marketing: bool | None = None
    consent_profiling: bool | None = None
    cleared: frozenset[str] = frozenset()


def is_external_id(value: str) -> bool:
    return EXTERNAL_ID_RE.fullmatch(value) is not None


def check_external_id(errors: Collector, value: str) -> None:
    if not is_external_id(value):
        errors.add(
            "externalId",
            "1-128 characters: letters, digits and _ . : @ -, starting with a letter or digit",
        )


def validate_profile(
    *,
    display_name: str | None,
    email: str | None,
    phone: str | None,
    birthday: str | None,
    consent_marketing: bool | None = None,
    consent_profiling: bool | None = None,
    cleared: frozenset[str] = frozenset(),
    errors: Collector,
) -> ProfileChanges:
    name = display_name.strip() if display_name is not None else None
    if name is not None and not (1 <= len(name) <= DISPLAY_NAME_MAX and is_clean(name)):
        errors.add("displayName", f"must be 1-{DISPLAY_NAME_MAX} characters, no control characters")
    mail = email.strip().lower() if email is not None else None
    if mail is not None and (
        len(mail) > EMAIL_MAX or not EMAIL_RE.fullmatch(mail) or not is_clean(mail)
    ):
        errors.add("email", "is not a valid email address")
    tel = phone.strip() if phone is not None else None
    if tel is not None and not PHONE_RE.fullmatch(tel):
        errors.add("phone", "is not a valid phone number (digits, spaces, dashes, optional +)")
    day = None
    if birthday is not None:
        day = parse_birthday(birthday)
        if day is None:
            errors.add("birthday", "must be a real month and day as MM-DD")
    return ProfileChanges(
        display_name=name,
        email=mail,
        phone=tel,
        birthday=day,
        consent_marketing=consent_marketing,
        consent_profiling=consent_profiling,
        cleared=cleared,
    )


def check_external_id_list(
    errors: Collector, external_ids: list[str], *, limit: int, field: str = "memberExternalIds"
) -> None:
    """A bulk call's members: 1 to `limit` of them, each once, each a possible external id."""
    if not 1 <= len(external_ids) <= limit:
        errors.add(field, f"1-{limit} members at a time")
    if len(set(external_ids)) != len(external_ids):
        errors.add(field, "each member once")
    bad = [e for e in external_ids if not is_external_id(e)]
    if bad:
        errors.add(field, f"not external ids: {', '.join(map(repr, bad[:5]))}")
