"""Challenge rows, members' progress on them, what each fact added, and badges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from db.models import Challenge as ChallengeRow
from db.models import ChallengeContribution, ChallengeProgress, Coupon, MemberBadge
from db.repositories.paging import keyset
from domain.campaigns import audience_of_rule
from domain.challenges import (
    Challenge,
    ChallengeStatus,
    Counted,
    Goal,
    reward_of_rule,
)
from domain.paging import PageRequest

STORED = (
    "id",
    "code",
    "name",
    "description",
    "status",
    "starts_at",
    "ends_at",
    "goal",
    "target",
    "audience",
    "reward",
    "undo_on_return",
)


def challenge_of(row: dict[str, Any] | ChallengeRow) -> Challenge:
    """A stored challenge (a row, or its STORED values) as the domain judges it."""
    r = row if isinstance(row, dict) else {name: getattr(row, name) for name in STORED}
    return Challenge(
        id=r["id"],
        code=r["code"],
        name=r["name"],
        description=r["description"],
        status=ChallengeStatus(r["status"]),
        starts_at=r["starts_at"],
        ends_at=r["ends_at"],
        goal=Goal(r["goal"]),
        target=int(r["target"]),
        audience=audience_of_rule(r["audience"]),
        reward=reward_of_rule(r["reward"]),
        undo_on_return=bool(r["undo_on_return"]),
    )


async def active_rows(programme_id: int) -> list[dict[str, Any]]:
    """The programme's ACTIVE challenges as plain rows (STORED), by id."""
    return list(
        await ChallengeRow.filter(programme_id=programme_id, status=ChallengeStatus.ACTIVE.value)
        .order_by("id")
        .values(*STORED)
    )


async def insert(**fields: Any) -> ChallengeRow:
    return await ChallengeRow.create(**fields)


async def get(programme_id: int, challenge_id: int) -> ChallengeRow | None:
    return await ChallengeRow.get_or_none(programme_id=programme_id, id=challenge_id)


async def get_by_code(programme_id: int, code: str) -> ChallengeRow | None:
    return await ChallengeRow.get_or_none(programme_id=programme_id, code=code)


async def lock_by_code(programme_id: int, code: str) -> ChallengeRow | None:
    return (
        await ChallengeRow.filter(programme_id=programme_id, code=code)
        .select_for_update(no_key=True)
        .first()
    )


async def get_many(ids: list[int]) -> dict[int, ChallengeRow]:
    return {r.id: r for r in await ChallengeRow.filter(id__in=ids)} if ids else {}


async def save(row: ChallengeRow, *names: str) -> None:
    await row.save(update_fields=[*names, "updated_at"])


async def page(
    programme_id: int, request: PageRequest, *, status: ChallengeStatus | None
) -> list[ChallengeRow]:
    query = ChallengeRow.filter(programme_id=programme_id)
    if status is not None:
        query = query.filter(status=status.value)
    return await keyset(query, request, list_descending=False)


# ---- progress ---------------------------------------------------------------------------------


async def progress_of(
    programme_id: int, challenge_id: int, member_id: int, *, at: datetime
) -> ChallengeProgress:
    """The member's progress on the challenge, made at 0 on its first fact. The caller holds
    the member's row lock, so no other transaction makes it meanwhile."""
    found = await ChallengeProgress.get_or_none(challenge_id=challenge_id, member_id=member_id)
    if found is not None:
        return found
    return await ChallengeProgress.create(
        programme_id=programme_id,
        challenge_id=challenge_id,
        member_id=member_id,
        current=0,
        updated_at=at,
    )


async def save_progress(progress: ChallengeProgress, *names: str) -> None:
    await progress.save(update_fields=[*names, "updated_at"])


async def progress_of_members(member_ids: list[int]) -> list[ChallengeProgress]:
    """The members' progress rows, one statement for a page of members."""
    return list(await ChallengeProgress.filter(member_id__in=member_ids).order_by("id"))


async def counted_of(progress_id: int) -> list[Counted]:
    rows = await ChallengeContribution.filter(progress_id=progress_id).values(
        "reference", "amount", "categories", "undone"
    )
    return [
        Counted(r["reference"], int(r["amount"]), frozenset(r["categories"]), bool(r["undone"]))
        for r in rows
    ]


async def has_contribution(progress_id: int, reference_type: str, reference: str) -> bool:
    return await ChallengeContribution.exists(
        progress_id=progress_id, reference_type=reference_type, reference=reference
    )


async def add_contribution(
    progress_id: int,
    *,
    reference_type: str,
    reference: str,
    amount: int,
    categories: list[str],
    at: datetime,
) -> None:
    await ChallengeContribution.create(
        progress_id=progress_id,
        reference_type=reference_type,
        reference=reference,
        amount=amount,
        categories=categories,
        undone=False,
        at=at,
    )


async def contributions_of_fact(
    member_id: int, reference_type: str, reference: str
) -> list[ChallengeContribution]:
    """What one fact added to each of the member's progress rows, with the progress."""
    return list(
        await ChallengeContribution.filter(
            progress__member_id=member_id, reference_type=reference_type, reference=reference
        )
        .select_related("progress")
        .order_by("progress_id")
    )


async def save_contribution(contribution: ChallengeContribution) -> None:
    await contribution.save(update_fields=["amount", "categories", "undone"])


# ---- badges and the coupon a reward gave ----------------------------------------------------


async def badge_of(member_id: int, code: str) -> MemberBadge | None:
    return await MemberBadge.get_or_none(member_id=member_id, code=code)


async def insert_badge(**fields: Any) -> MemberBadge:
    return await MemberBadge.create(**fields)


async def save_badge(badge: MemberBadge, *names: str) -> None:
    await badge.save(update_fields=list(names))


async def revoke_badge(badge_id: int, challenge_id: int, at: datetime) -> bool:
    """The badge the challenge gave, revoked (its row kept); False when it was not held."""
    changed = await MemberBadge.filter(
        id=badge_id, challenge_id=challenge_id, revoked_at__isnull=True
    ).update(revoked_at=at)
    return bool(changed)


async def badges_of_members(member_ids: list[int]) -> list[MemberBadge]:
    """The badges the members hold (not revoked), first awarded first; one statement."""
    return list(
        await MemberBadge.filter(member_id__in=member_ids, revoked_at__isnull=True).order_by(
            "awarded_at", "id"
        )
    )


async def void_unused_coupon(coupon_id: int, at: datetime) -> bool:
    """An AVAILABLE coupon ends now (it reads EXPIRED from then on); one locked to an order or
    used stays as it is. A conditional UPDATE: a checkout locking it at the same moment either
    locks it first (it stays) or finds it ended."""
    changed = await Coupon.filter(id=coupon_id, status="AVAILABLE", ends_at__gt=at).update(
        ends_at=at
    )
    return bool(changed)
