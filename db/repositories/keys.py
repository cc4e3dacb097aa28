from __future__ import annotations

from datetime import datetime

from tortoise.expressions import Q

from db.models import ApiKey


async def create(
    *,
    programme_id: int,
    role: str,
    label: str,
    display_prefix: str,
    secret_hash: str,
    now: datetime,
    expires_at: datetime | None = None,
    partner_id: int | None = None,
) -> ApiKey:
    return await ApiKey.create(
        programme_id=programme_id,
        role=role,
        label=label,
        display_prefix=display_prefix,
        secret_hash=secret_hash,
        created_at=now,
        expires_at=expires_at,
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


async def get(programme_id: int, key_id: int) -> ApiKey | None:
    return await ApiKey.get_or_none(programme_id=programme_id, id=key_id)


async def lock(programme_id: int, key_id: int) -> ApiKey | None:
    return await ApiKey.filter(programme_id=programme_id, id=key_id).select_for_update().first()


async def revoke_by_id(programme_id: int, key_id: int, *, now: datetime) -> int:
    return await ApiKey.filter(programme_id=programme_id, id=key_id, revoked_at=None).update(
        revoked_at=now
    )


async def active_admin_ids(programme_id: int, *, now: datetime) -> list[int]:
    rows = await ApiKey.filter(programme_id=programme_id, role="admin", revoked_at=None)
    return [r.id for r in rows if r.expires_at is None or r.expires_at > now]


async def page(programme_id: int, *, first: int, after_id: int | None) -> list[ApiKey]:
    query = ApiKey.filter(programme_id=programme_id)
    if after_id is not None:
        query = query.filter(id__gt=after_id)
    return await query.order_by("id").limit(first + 1)


async def touch(key_id: int, *, now: datetime, before: datetime) -> None:
    """One conditional UPDATE: many processes touching one key in the same minute write once."""
    await (
        ApiKey.filter(id=key_id)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=before))
        .update(last_used_at=now)
    )


async def by_ids(programme_id: int, ids: list[int]) -> list[ApiKey]:
    return await ApiKey.filter(programme_id=programme_id, id__in=ids)
