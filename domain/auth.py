"""Who is calling, and the pure parts of API keys (format, hashing)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

KEY_PREFIX = "lk"
MEMBER_TOKEN_MAX_SECONDS = 15 * 60


class Role(StrEnum):
    ADMIN = "admin"
    STOREFRONT = "storefront"
    MEMBER = "member"
    PARTNER = "partner"


KEY_ROLES = (Role.ADMIN, Role.STOREFRONT)
# Kinds of API key a secret may carry. A partner key is issued for one partner only
# (services.partners.admin.issue_key), never by the generic create-key.
SECRET_ROLES = (*KEY_ROLES, Role.PARTNER)


@dataclass(frozen=True)
class Principal:
    """The caller, resolved from its credential. The programme comes only from here."""

    programme_id: int
    role: Role
    key_id: int | None = None
    member_id: int | None = None
    # What the audit trail names an API key by; not part of the principal's identity.
    key_prefix: str | None = field(default=None, compare=False)
    key_label: str | None = field(default=None, compare=False)
    partner_id: int | None = None  # role PARTNER: the partner the key was issued to

    @property
    def scope(self) -> str:
        """What idempotency keys are scoped by, besides the programme."""
        if self.role is Role.MEMBER:
            return f"member:{self.member_id}"
        return f"key:{self.key_id}"

    def can(self, *roles: Role) -> bool:
        return self.role in roles


def format_api_key(role: Role, token: str) -> str:
    """`lk_admin_<token>`: the prefix tells a leaked key's kind at a glance (secret scanners)."""
    return f"{KEY_PREFIX}_{role.value}_{token}"


def api_key_role(secret: str) -> Role | None:
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[2]:
        return None
    try:
        role = Role(parts[1])
    except ValueError:
        return None
    return role if role in SECRET_ROLES else None


def hash_api_key(secret: str) -> str:
    """Keys carry 256 random bits, so one SHA-256 is enough; no slow KDF is needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


DISPLAY_TOKEN_CHARS = 12


def key_display_prefix(secret: str) -> str:
    """What a key list may show: the kind and the first 12 hex characters (48 of 256 bits)."""
    prefix, role, token = secret.split("_", 2)
    return f"{prefix}_{role}_{token[:DISPLAY_TOKEN_CHARS]}"
