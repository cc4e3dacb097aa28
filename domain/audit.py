"""The audit trail's pure rules: who is audited, what of the input is kept, how long rows live."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.auth import Principal, Role

SUCCESS = "SUCCESS"
INTERNAL_ERROR = "INTERNAL_ERROR"
MASK = "***"

# Staff credentials, a partner's key among them (it moves points for members). Member tokens
# are left out: what a member does to itself is its own business and the hot path of the
# member page.
AUDITED_ROLES = frozenset({Role.ADMIN, Role.STOREFRONT, Role.PARTNER})

DEFAULT_RETENTION_DAYS = 730
# The PostgreSQL trigger refuses to delete rows younger than a year, whatever the setting.
MIN_RETENTION_DAYS = 366

# Input fields whose values are personal or secret, by their GraphQL (camelCase) name,
# compared without case, singular or plural (`memberExternalIds` lists as many members as
# `memberExternalId` names one): the value becomes "***" and never reaches the log. The shop's
# customer id counts as personal: an erased member's old id must be nowhere, and the log
# is append-only; the member's global id in `target_ids` says whom an action touched.
_MASKED = re.compile(
    r"(e-?mail|phone|name|birthday|token|secret|password|note|comment|address|text|externalid)s?$",
    re.IGNORECASE,
)
# Names that end like a masked one but carry no personal data: codes, kinds, references.
_KEPT = frozenset({"tierCode", "code", "kind", "operationName"})
MAX_SUMMARY_ITEMS = 20
MAX_SUMMARY_TEXT = 200


def is_audited(principal: Principal | None) -> bool:
    return principal is not None and principal.role in AUDITED_ROLES


@functools.lru_cache(maxsize=4096)
def _masked(name: str) -> bool:
    """Kept per name: the names are the schema's, asked on every audited mutation."""
    return name not in _KEPT and bool(_MASKED.search(name))


def redact_input(value: Any, name: str = "") -> Any:
    """The input as the audit row keeps it: personal and secret fields masked, long lists cut
    to their first items with a count, long text cut. Recursion is bounded by the schema's
    depth limit (input objects nest a few levels at most)."""
    if value is None:
        return None
    if name and _masked(name):
        return MASK
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {key: redact_input(item, key) for key, item in value.items()}
    if isinstance(value, list | tuple):
        kept = [redact_input(item, name) for item in value[:MAX_SUMMARY_ITEMS]]
        if len(value) > MAX_SUMMARY_ITEMS:
            kept.append({"omitted": len(value) - MAX_SUMMARY_ITEMS})
        return kept
    if isinstance(value, bool | int | float):
        return value
    return clean_text(str(value))


def clean_text(value: str) -> str:
    """Cut to 200 characters, without what a JSON column or a log refuses or misprints: NUL,
    other control characters, lone surrogates (a refused input is audited too, as it came)."""
    cut = value[:MAX_SUMMARY_TEXT]
    if cut.isprintable():  # nearly always: no character to look at one by one
        return cut
    return "".join(ch if ch.isprintable() or ch in "\t\n" else "\ufffd" for ch in cut)


def pack_targets(ids: list[str]) -> str:
    """Stored as ' a b c ': one id is found with a LIKE on ' a ' in both dialects."""
    unique = list(dict.fromkeys(i for i in ids if i and " " not in i))
    return f" {' '.join(unique)} " if unique else " "


def unpack_targets(packed: str) -> list[str]:
    return packed.split()


def retention_cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=max(days, MIN_RETENTION_DAYS))


@dataclass(frozen=True)
class Actor:
    role: str
    key_id: int | None
    key_prefix: str | None
    key_label: str | None
    member_id: int | None


def actor_of(principal: Principal) -> Actor:
    return Actor(
        role=principal.role.value,
        key_id=principal.key_id,
        key_prefix=principal.key_prefix,
        key_label=principal.key_label,
        member_id=principal.member_id,
    )
