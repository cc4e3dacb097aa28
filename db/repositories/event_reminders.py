"""The reminders already sent: their once-only keys (member, kind, what it is about)."""

from __future__ import annotations

from datetime import datetime

from db.models import EventReminder


async def reminders_sent(member_ids: list[int], kind: str) -> set[tuple[int, str]]:
    rows = await EventReminder.filter(member_id__in=member_ids, kind=kind).values(
        "member_id", "about"
    )
    return {(int(r["member_id"]), str(r["about"])) for r in rows}


async def add_reminder(
    *,
    programme_id: int,
    member_id: int,
    kind: str,
    about: str,
    due_at: datetime,
    sent_at: datetime,
) -> None:
    await EventReminder.create(
        programme_id=programme_id,
        member_id=member_id,
        kind=kind,
        about=about,
        due_at=due_at,
        sent_at=sent_at,
    )


async def prune_reminders(programme_id: int, *, due_before: datetime) -> int:
    return int(
        await EventReminder.filter(programme_id=programme_id, due_at__lt=due_before).delete()
    )
