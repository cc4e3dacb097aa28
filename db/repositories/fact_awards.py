"""Campaign awards of the facts that are not orders (check-ins, reviews, referral rewards,
registrations): found by the fact's own reference, to take them back with it."""

from __future__ import annotations

from db.models import CampaignAward


async def of_fact(member_id: int, *, reference_type: str, reference: str) -> list[CampaignAward]:
    """The member's awards for one fact, oldest first."""
    return await CampaignAward.filter(
        member_id=member_id,
        order_id=None,
        reference_type=reference_type,
        reference=reference,
        cancelled=False,
    ).order_by("id")


async def mark_reversed(award: CampaignAward, points: int) -> None:
    award.points_reversed += points
    await award.save(update_fields=["points_reversed"])
