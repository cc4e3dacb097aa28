from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db.models import Member
from db.repositories.paging import keyset
from domain.paging import PageRequest


async def get_by_external_id(programme_id: int, external_id: str) -> Member | None:
    return await Member.get_or_none(programme_id=programme_id, external_id=external_id)


async def get_by_ids(programme_id: int, ids: list[int]) -> list[Member]:
    return await Member.filter(programme_id=programme_id, id__in=ids)


async def lock_by_external_id(programme_id: int, external_id: str) -> Member | None:
    return (
        await Member.filter(programme_id=programme_id, external_id=external_id)
        .select_for_update(no_key=True)
        .first()
    )


async def page(programme_id: int, request: PageRequest) -> list[Member]:
    """Keyset pagination by id (join order): stable under inserts, and cheap at any depth."""
    query = Member.filter(programme_id=programme_id)
    return await keyset(query, request, list_descending=False)


async def create(
    *, programme_id: int, external_id: str, joined_at: datetime, **fields: Any
) -> Member:
    return await Member.create(
        programme_id=programme_id, external_id=external_id, joined_at=joined_at, **fields
    )


async def update(member: Member, **fields: Any) -> Member:
    for name, value in fields.items():
        setattr(member, name, value)
    await member.save(update_fields=list(fields))
    return member


async def count(programme_id: int) -> int:
    return await Member.filter(programme_id=programme_id).count()


async def get_by_external_ids(programme_id: int, external_ids: list[str]) -> list[Member]:
    return await Member.filter(programme_id=programme_id, external_id__in=external_ids)


async def place_untiered(programme_id: int, *, tier_id: int, at: datetime) -> int:
    return await Member.filter(programme_id=programme_id, tier_id=None).update(
        tier_id=tier_id, tier_since=at, tier_period_start=at
    )


@dataclass(frozen=True)
class LockedMember:
    """The columns a ledger write reads off the member row it locked, mapped once."""

    id: int
    programme_id: int
    external_id: str
    tier_id: int | None
    birthday_month: int | None
    erased_at: datetime | None
    points_available: int
    points_pending: int
    points_held: int


LOCKED_COLUMNS = (
    "id, programme_id, external_id, tier_id, birthday_month, erased_at, points_available, "
    "points_pending, points_held"
)


def locked_of(row: Any) -> LockedMember:
    return LockedMember(
        id=int(row["id"]),
        programme_id=int(row["programme_id"]),
        external_id=str(row["external_id"]),
        tier_id=row["tier_id"],
        birthday_month=row["birthday_month"],
        erased_at=row["erased_at"],
        points_available=int(row["points_available"]),
        points_pending=int(row["points_pending"]),
        points_held=int(row["points_held"]),
    )


async def locked_by_external_id(programme_id: int, external_id: str) -> LockedMember | None:
    """`lock_by_external_id`, as a plain row."""
    member = await lock_by_external_id(programme_id, external_id)
    if member is None:
        return None
    return locked_of({name: getattr(member, name) for name in LOCKED_COLUMNS.split(", ")})
