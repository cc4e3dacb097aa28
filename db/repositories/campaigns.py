"""Campaign rows: what the admin mutations write and what every order reads (cached)."""

from __future__ import annotations

from typing import Any

from tortoise import connections

from db.connection import is_postgres
from db.models import Campaign as CampaignRow
from domain.campaigns import CampaignStatus

# The columns the domain's Campaign is made of (domain.campaigns.campaign_of's arguments).
STORED = (
    "id",
    "code",
    "name",
    "status",
    "trigger",
    "stacking",
    "priority",
    "starts_at",
    "ends_at",
    "budget",
    "rule",
)


async def active_rows(programme_id: int) -> list[dict[str, Any]]:
    """The programme's ACTIVE campaigns as plain rows (STORED), by id; ended windows included
    until an admin ends them (the schedule says they no longer apply)."""
    return list(
        await CampaignRow.filter(programme_id=programme_id, status=CampaignStatus.ACTIVE.value)
        .order_by("id")
        .values(*STORED)
    )


async def budgets_left(campaign_ids: list[int]) -> dict[int, int | None]:
    """What is left of each campaign's budget now (None: no budget). A hint for judging and
    the preview: only `spend_budget` decides."""
    if not campaign_ids:
        return {}
    rows = await CampaignRow.filter(id__in=campaign_ids).values("id", "budget", "budget_spent")
    return {
        r["id"]: None if r["budget"] is None else max(0, r["budget"] - r["budget_spent"])
        for r in rows
    }


_SPEND = {
    True: 'UPDATE "campaigns" SET "budget_spent" = "budget_spent" + $1 WHERE "id" = $2'
    ' AND "status" = \'ACTIVE\' AND ("budget" IS NULL OR "budget_spent" + $1 <= "budget")',
    False: 'UPDATE "campaigns" SET "budget_spent" = "budget_spent" + ?1 WHERE "id" = ?2'
    ' AND "status" = \'ACTIVE\' AND ("budget" IS NULL OR "budget_spent" + ?1 <= "budget")',
}
_GIVE_BACK = {
    True: 'UPDATE "campaigns" SET "budget_spent" = "budget_spent" - $1 WHERE "id" = $2',
    False: 'UPDATE "campaigns" SET "budget_spent" = "budget_spent" - ?1 WHERE "id" = ?2',
}


async def spend_budget(campaign_id: int, points: int) -> bool:
    """Takes `points` from the campaign's budget if all of them are left and it is still
    active; False (and nothing changed) if not. A conditional UPDATE in the caller's
    transaction: concurrent facts queue on the row and each re-reads `budget_spent` after the
    one before commits, so no process can overspend it, and a rollback gives the points back."""
    db = connections.get("default")
    changed, _ = await db.execute_query(_SPEND[is_postgres()], [points, campaign_id])
    return bool(changed)


async def give_back_budget(campaign_id: int, points: int) -> None:
    """A take-back (a return, a cancelled order) returns its points to the budget, whatever
    the campaign's status now."""
    db = connections.get("default")
    await db.execute_query(_GIVE_BACK[is_postgres()], [points, campaign_id])
