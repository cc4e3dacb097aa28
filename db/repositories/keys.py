from __future__ import annotations

from datetime import datetime

from db.models import ApiKey


async def create(
    *,
    programme_id: int,
    role: str,
    label: str,
    display_prefix: str,
    secret_hash: str,
    now: datetime,
    partner_id: int | None = None,
) -> ApiKey:
    return await ApiKey.create(
        programme_id=programme_id,
        role=role,
        label=label,
        display_prefix=display_prefix,
        secret_hash=secret_hash,
        created_at=now,
        partner_id=partner_id,
    )


async def find_active(secret_hash: str) -> ApiKey | None:
    return await ApiKey.get_or_none(secret_hash=secret_hash, revoked_at=None)


async def revoke(programme_id: int, display_prefix: str, *, now: datetime) -> int:
    return await ApiKey.filter(
        programme_id=programme_id, display_prefix=display_prefix, revoked_at=None
    ).update(revoked_at=now)


async def active_hashes_with_prefix(programme_id: int, display_prefix: str) -> list[str]:
    return await ApiKey.filter(
        programme_id=programme_id, display_prefix=display_prefix, revoked_at=None
    ).values_list("secret_hash", flat=True)  # type: ignore[return-value]
