"""Campaign rows: what the admin mutations write and what every order reads (cached)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise import connections

from db.connection import is_postgres
from db.models import Campaign as CampaignRow
from db.repositories.paging import keyset
from domain.campaigns import CampaignStatus
from domain.paging import PageRequest

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


# ---- admin: the campaigns an admin writes and lists ------------------------------------------


async def insert(**fields: Any) -> CampaignRow:
    return await CampaignRow.create(**fields)


async def get(programme_id: int, campaign_id: int) -> CampaignRow | None:
    return await CampaignRow.get_or_none(programme_id=programme_id, id=campaign_id)


async def get_by_code(programme_id: int, code: str) -> CampaignRow | None:
    return await CampaignRow.get_or_none(programme_id=programme_id, code=code)


async def lock_by_code(programme_id: int, code: str) -> CampaignRow | None:
    """The row, locked until the caller's transaction ends (see services.campaigns.admin)."""
    return (
        await CampaignRow.filter(programme_id=programme_id, code=code)
        .select_for_update(no_key=True)
        .first()
    )


async def get_many(programme_id: int, ids: list[int]) -> list[CampaignRow]:
    return await CampaignRow.filter(programme_id=programme_id, id__in=ids)


async def save(row: CampaignRow, *names: str) -> None:
    await row.save(update_fields=[*names, "updated_at"])


async def page(
    programme_id: int, request: PageRequest, *, status: CampaignStatus | None
) -> list[CampaignRow]:
    query = CampaignRow.filter(programme_id=programme_id)
    if status is not None:
        query = query.filter(status=status.value)
    return await keyset(query, request, list_descending=False)


# ---- results: what the campaign's awards add up to ------------------------------------------

_RESULTS_COLUMNS = """
SELECT a.campaign_id AS campaign_id,
  COALESCE(SUM(a.points), 0) AS awarded,
  COALESCE(SUM(CASE WHEN NOT a.cancelled AND o.status = 'PENDING'
    THEN a.points - a.points_reversed ELSE 0 END), 0) AS pending,
  COALESCE(SUM(CASE WHEN NOT a.cancelled AND (o.status IS NULL OR o.status <> 'PENDING')
    THEN a.points - a.points_reversed ELSE 0 END), 0) AS available,
  COALESCE(SUM(CASE WHEN a.cancelled THEN a.points ELSE a.points_reversed END), 0) AS reversed,
  COUNT(DISTINCT CASE WHEN NOT a.cancelled THEN a.order_id END) AS orders_rewarded,
  COUNT(DISTINCT CASE WHEN NOT a.cancelled THEN a.member_id END) AS members_rewarded,
  COALESCE(SUM(CASE WHEN NOT a.cancelled AND a.order_id IS NOT NULL
    THEN a.spend ELSE 0 END), 0) AS spend,
  COUNT(a.coupon_id) AS coupons_issued
FROM campaign_awards a LEFT JOIN orders o ON o.id = a.order_id
"""
_RESULTS_PG = _RESULTS_COLUMNS + (
    "WHERE a.programme_id = $1 AND a.campaign_id = ANY($2::int[]) GROUP BY a.campaign_id"
)


@dataclass(frozen=True)
class AwardTotals:
    """A campaign's awards added up (see services.campaigns.results for what each means)."""

    awarded: int = 0
    pending: int = 0
    available: int = 0
    reversed: int = 0
    orders_rewarded: int = 0
    members_rewarded: int = 0
    spend: int = 0
    coupons_issued: int = 0


async def award_totals(programme_id: int, campaign_ids: list[int]) -> dict[int, AwardTotals]:
    """Per campaign id with awards, in one statement however many campaigns are asked for."""
    if not campaign_ids:
        return {}
    db = connections.get("default")
    if is_postgres():
        rows = await db.execute_query_dict(_RESULTS_PG, [programme_id, campaign_ids])
    else:
        marks = ", ".join("?" for _ in campaign_ids)
        sql = (
            _RESULTS_COLUMNS
            + f"WHERE a.programme_id = ? AND a.campaign_id IN ({marks}) GROUP BY a.campaign_id"
        )
        rows = await db.execute_query_dict(sql, [programme_id, *campaign_ids])
    return {
        int(r["campaign_id"]): AwardTotals(
            **{k: int(r[k] or 0) for k in AwardTotals.__dataclass_fields__}
        )
        for r in rows
    }
