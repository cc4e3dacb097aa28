"""The writes of an erasure, and what it must reach: every row about one member."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from db.models import Event, Member, MemberSegment, RecommendationList

BATCH = 500


async def forget_profile(member: Member, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(member, name, value)
    await member.save(update_fields=list(fields))


async def delete_personalisation(member_id: int) -> None:
    """The member's segment and recommendation list (both rebuilt from purchases nightly)."""
    await RecommendationList.filter(member_id=member_id).delete()
    await MemberSegment.filter(member_id=member_id).delete()


async def rewrite_event_payloads(
    member_id: int, rewrite: Callable[[dict[str, Any]], dict[str, Any]]
) -> int:
    """Rewrites the payloads of the member's events in batches by id (a member with 100,000
    events holds one batch at a time). Only `payload` changes: ids, order and sequence stay."""
    after_id, changed = 0, 0
    while True:
        rows = await Event.filter(member_id=member_id, id__gt=after_id).order_by("id").limit(BATCH)
        if not rows:
            return changed
        dirty = []
        for row in rows:
            new = rewrite(row.payload)
            if new != row.payload:
                row.payload = new
                dirty.append(row)
        if dirty:
            await Event.bulk_update(dirty, fields=["payload"])
            changed += len(dirty)
        after_id = rows[-1].id
