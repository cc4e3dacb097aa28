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


def forgotten(payload: dict[str, Any], replacements: dict[str, str], *, pseudonym: str) -> Any:
    """One of the erased member's own events: the member it names gets the pseudonym and the
    erased name whatever they were then (a former display name is not among the current
    values `scrubbed` replaces), and any other string equal to a current value is replaced."""
    result = scrubbed(payload, replacements)
    subject = result.get("member") if isinstance(result, dict) else None
    if isinstance(subject, dict):
        if "externalId" in subject:
            subject["externalId"] = pseudonym
        if "displayName" in subject:
            subject["displayName"] = ERASED_NAME
    return result


def invitee_forgotten(payload: dict[str, Any], pseudonym: str) -> dict[str, Any]:
    """The inviter's `referral.rewarded` event names the erased invitee by its pseudonym."""
    invitee = payload.get("invitee")
    if isinstance(invitee, dict) and "externalId" in invitee:
        return {**payload, "invitee": {**invitee, "externalId": pseudonym}}
    return payload


def erased_payload(*, pseudonym: str, forfeited: int) -> dict[str, Any]:
    """`member.erased`: no personal data, not even the reason (free text may name someone)."""
    return {"version": 1, "member": {"externalId": pseudonym}, "forfeitedPoints": forfeited}
