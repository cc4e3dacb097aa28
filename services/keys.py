"""API keys: random, prefixed, stored only as a hash, shown once, revocable."""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from db import key_cache
from db.models import ApiKey
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
from domain.errors import LastAdminKey, NotFound, invalid
from services.clock import wall_now
from services.idempotency import run_once

log = logging.getLogger("loyalty.keys")


@dataclass(frozen=True)
class IssuedKey:
    id: int
    secret: str  # shown once; only its hash is stored
    display_prefix: str
    role: Role


async def create_key(
    programme_id: int,
    role: Role,
    *,
    label: str,
    expires_at: datetime | None = None,
    partner_id: int | None = None,
) -> IssuedKey:
    """An admin or storefront key, or (with `partner_id`) a partner's key."""
    if (role is Role.PARTNER) != (partner_id is not None) or (
        role is not Role.PARTNER and role not in KEY_ROLES
    ):
        raise invalid("role", "API keys are admin or storefront keys, or a partner's key")
    now = wall_now()
    if expires_at is not None and expires_at <= now:
        raise invalid("expiresAt", "must be in the future")
    secret = format_api_key(role, secrets.token_hex(32))
    row = await key_repo.create(
        programme_id=programme_id,
        role=role.value,
        label=label,
        display_prefix=key_display_prefix(secret),
        secret_hash=hash_api_key(secret),
        now=now,
        expires_at=expires_at,
        partner_id=partner_id,
    )
    return IssuedKey(id=row.id, secret=secret, display_prefix=key_display_prefix(secret), role=role)


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    secret: str | None  # None when an idempotent replay answers: the secret is shown once


async def create_over_api(
    principal: Principal,
    role: Role,
    *,
    label: str,
    expires_at: datetime | None,
    idempotency_key: str,
) -> CreatedKey:
    """An admin creates a key for its own programme. The idempotency key's stored result holds
    the key's id, never its secret: a replay answers with the key and no secret."""
    shown: list[str] = []

    async def create() -> dict[str, Any]:
        issued = await create_key(principal.programme_id, role, label=label, expires_at=expires_at)
        shown.append(issued.secret)
        return {"keyId": issued.id}

    result = await run_once(
        principal,
        key=idempotency_key,
        operation="createApiKey",
        payload={"role": role.value, "label": label, "expiresAt": expires_at},
        action=create,
    )
    row = await key_repo.get(principal.programme_id, int(result["keyId"]))
    assert row is not None
    return CreatedKey(key=row, secret=shown[0] if shown else None)


async def revoke_by_id(principal: Principal, key_id: int) -> ApiKey:
    """Revoking twice answers the key as it is. The programme's last usable admin key cannot
    be revoked over the API (nobody could then manage the programme but an operator)."""
    now = wall_now()
    async with in_transaction():
        row = await key_repo.lock(principal.programme_id, key_id)
        if row is None:
            raise NotFound("no API key with this id", field="id")
        if row.revoked_at is None:
            if row.role == Role.ADMIN.value and await key_repo.active_admin_ids(
                principal.programme_id, now=now
            ) == [row.id]:
                raise LastAdminKey("this is the programme's last admin key", field="id")
            await key_repo.revoke_by_id(principal.programme_id, key_id, now=now)
            row.revoked_at = now
    if not await key_cache.forget([row.secret_hash]):
        log.warning("revoked key %s: the shared cache missed the invalidation", row.id)
    return row


async def page(
    principal: Principal, *, first: int, after_id: int | None
) -> tuple[list[ApiKey], bool]:
    rows = await key_repo.page(principal.programme_id, first=first, after_id=after_id)
    return rows[:first], len(rows) > first


async def find(principal: Principal, ids: list[int]) -> list[ApiKey]:
    return await key_repo.by_ids(principal.programme_id, ids)


# Per process: when each key's last_used_at was last written (monotonic seconds).
_touched: dict[int, float] = {}
TOUCH_EVERY_SECONDS = 60.0
_TOUCHED_MAX = 10_000


async def note_use(key_id: int) -> None:
    """`last_used_at`, at most once a minute per key: this process skips the write for a
    minute after it made one, and the UPDATE itself is conditional, so several processes
    move it at most once a minute too."""
    clock = time.monotonic()
    if clock - _touched.get(key_id, -TOUCH_EVERY_SECONDS) < TOUCH_EVERY_SECONDS:
        return
    if len(_touched) >= _TOUCHED_MAX:
        _touched.clear()
    _touched[key_id] = clock
    now = wall_now()
    try:
        await key_repo.touch(key_id, now=now, before=now - timedelta(seconds=TOUCH_EVERY_SECONDS))
    except Exception as error:  # a bookkeeping write must not fail the request
        log.warning("last_used_at of key %s not written: %s", key_id, error)


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
    if key.expires_at is not None and key.expires_at <= wall_now().timestamp():
        return None
    await note_use(key.id)
    return Principal(
        programme_id=key.programme_id,
        role=role,
        key_id=key.id,
        key_prefix=key.display_prefix,
        key_label=key.label,
        partner_id=key.partner_id,
    )
