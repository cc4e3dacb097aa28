"""API keys: random, prefixed, stored only as a hash, shown once, revocable."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from db import key_cache
from db.repositories import keys as key_repo
from domain.auth import (
    KEY_ROLES,
    Principal,
    Role,
    api_key_role,
    format_api_key,
    hash_api_key,
    key_display_prefix,
)
from domain.errors import invalid
from services.clock import wall_now

log = logging.getLogger("loyalty.keys")


@dataclass(frozen=True)
class IssuedKey:
    id: int
    secret: str  # shown once; only its hash is stored
    display_prefix: str
    role: Role


async def create_key(
    programme_id: int, role: Role, *, label: str, partner_id: int | None = None
) -> IssuedKey:
    """An admin or storefront key, or (with `partner_id`) a partner's key."""
    if (role is Role.PARTNER) != (partner_id is not None) or (
        role is not Role.PARTNER and role not in KEY_ROLES
    ):
        raise invalid("role", "API keys are admin or storefront keys, or a partner's key")
    secret = format_api_key(role, secrets.token_hex(32))
    row = await key_repo.create(
        programme_id=programme_id,
        role=role.value,
        label=label,
        display_prefix=key_display_prefix(secret),
        secret_hash=hash_api_key(secret),
        now=wall_now(),
        partner_id=partner_id,
    )
    return IssuedKey(id=row.id, secret=secret, display_prefix=key_display_prefix(secret), role=role)


async def revoke_key(programme_id: int, display_prefix: str) -> int:
    """Revokes the programme's one active key with this prefix; refuses an ambiguous prefix."""
    hashes = await key_repo.active_hashes_with_prefix(programme_id, display_prefix)
    if len(hashes) > 1:
        raise invalid("prefix", "more than one active key has this prefix; give more of the key")
    revoked = await key_repo.revoke(programme_id, display_prefix, now=wall_now())
    if not await key_cache.forget(hashes):
        log.warning(
            "revoked key %s: the shared cache missed the invalidation; servers may accept "
            "the key for up to %d s more",
            display_prefix,
            key_cache.TTL_SECONDS,
        )
    return revoked


async def authenticate_key(secret: str) -> Principal | None:
    role = api_key_role(secret)
    if role is None:
        return None
    key = await key_cache.active_key(hash_api_key(secret))
    if key is None or key.role != role.value:
        return None
    return Principal(
        programme_id=key.programme_id, role=role, key_id=key.id, partner_id=key.partner_id
    )
