"""Tiers and benefits as plain data, and the rules a tier ladder must keep."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from itertools import pairwise

from domain.errors import Collector
from domain.text import is_clean

CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")
MAX_AMOUNT = 2_000_000_000


class BenefitKind(StrEnum):
    MEMBER_PRICE = "MEMBER_PRICE"  # value: price paid in basis points, 9800 = 98%
    POINTS_MULTIPLIER = "POINTS_MULTIPLIER"  # value: basis points, 15000 = 1.5x
    FREE_SHIPPING = "FREE_SHIPPING"
    BIRTHDAY_GIFT = "BIRTHDAY_GIFT"
    BIRTHDAY_MULTIPLIER = "BIRTHDAY_MULTIPLIER"  # value: basis points
    MEMBER_DAY = "MEMBER_DAY"
    PRIORITY_SERVICE = "PRIORITY_SERVICE"
    EARLY_ACCESS = "EARLY_ACCESS"
    MONTHLY_COUPONS = "MONTHLY_COUPONS"  # value: coupons per month


@dataclass(frozen=True)
class BenefitView:
    id: int
    tier_id: int
    code: str
    title: str
    kind: BenefitKind
    value: int
    description: str


@dataclass(frozen=True)
class TierView:
    """A tier with its benefits, as the cache holds it and the member page reads it."""

    id: int
    code: str
    name: str
    rank: int
    entry_threshold: int
    retention_threshold: int | None
    benefits: tuple[BenefitView, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class TierDraft:
    code: str
    name: str
    rank: int
    entry_threshold: int
    retention_threshold: int | None


def check_code(errors: Collector, field_name: str, code: str) -> None:
    if not CODE_RE.fullmatch(code):
        errors.add(
            field_name, "1-32 characters: capital letters, digits and _, starting with a letter"
        )


def normalised(draft: TierDraft) -> TierDraft:
    return replace(draft, name=draft.name.strip())


def validate_tier(draft: TierDraft, errors: Collector) -> None:
    """Checks a normalised draft (names trimmed), so what is checked is what is stored."""
    check_code(errors, "code", draft.code)
    if not (1 <= len(draft.name) <= 60 and is_clean(draft.name)):
        errors.add("name", "must be 1-60 characters, no control characters")
    if not 0 <= draft.rank <= 100:
        errors.add("rank", "must be 0-100")
    if not 0 <= draft.entry_threshold <= MAX_AMOUNT:
        errors.add("entryThreshold", f"must be 0-{MAX_AMOUNT}")
    if draft.retention_threshold is not None and not (
        0 <= draft.retention_threshold <= draft.entry_threshold
    ):
        errors.add("retentionThreshold", "must be between 0 and the entry threshold")


def validate_ladder(tiers: list[TierDraft], errors: Collector) -> None:
    """The lowest tier is where everyone starts (threshold 0); higher ranks need strictly more."""
    ordered = sorted(tiers, key=lambda t: t.rank)
    ranks = [t.rank for t in ordered]
    if len(set(ranks)) != len(ranks):
        errors.add("rank", "another tier already has this rank")
        return
    if ordered and ordered[0].entry_threshold != 0:
        errors.add("entryThreshold", "the lowest tier must have an entry threshold of 0")
    for lower, higher in pairwise(ordered):
        if higher.entry_threshold <= lower.entry_threshold:
            errors.add(
                "entryThreshold",
                f"tier {higher.code} must need more than tier {lower.code} "
                f"({lower.entry_threshold})",
            )


def entry_tier(tiers: list[TierView]) -> TierView | None:
    return min(tiers, key=lambda t: t.rank, default=None)


def validate_benefit(
    *, code: str, title: str, value: int, description: str, errors: Collector
) -> None:
    check_code(errors, "code", code)
    if not (1 <= len(title.strip()) <= 100 and is_clean(title)):
        errors.add("title", "must be 1-100 characters, no control characters")
    if not 0 <= value <= MAX_AMOUNT:
        errors.add("value", f"must be 0-{MAX_AMOUNT}")
    if not (len(description) <= 1000 and is_clean(description, multiline=True)):
        errors.add("description", "must be at most 1000 characters, no control characters")
