"""Erasure's pure rules (issue 18.3): what an erased member's data becomes."""

from __future__ import annotations

from typing import Any

ERASED_PREFIX = "erased-"
ERASED_NAME = ""


def pseudonym(random_hex: str) -> str:
    """The externalId an erased member gets: never a shop's id, so the old one is free again."""
    return f"{ERASED_PREFIX}{random_hex}"


def is_pseudonym(external_id: str) -> bool:
    return external_id.startswith(ERASED_PREFIX)


def scrubbed(value: Any, replacements: dict[str, str]) -> Any:
    """A JSON value with every string equal to one of the `replacements` keys replaced (an
    event payload naming the member by its old externalId or display name)."""
    if isinstance(value, str):
        return replacements.get(value, value)
    if isinstance(value, dict):
        return {key: scrubbed(item, replacements) for key, item in value.items()}
    if isinstance(value, list):
        return [scrubbed(item, replacements) for item in value]
    return value


def erased_payload(*, pseudonym: str, forfeited: int) -> dict[str, Any]:
    """`member.erased`: no personal data, not even the reason (free text may name someone)."""
    return {"version": 1, "member": {"externalId": pseudonym}, "forfeitedPoints": forfeited}
