"""A campaign's results (issue 19.4): what it gave, to whom, and the spend of the orders it
rewarded, from its awards (db.models.CampaignAward) — for "evaluate the effect".

Points awarded split three ways that add up to all it ever gave: pending (awards of orders
still PENDING, net of returns), available (orders past PENDING and facts without an order,
net of returns) and reversed (what returns took back, and the whole award of a cancelled
order). Orders and members rewarded, and the spend, count awards not cancelled."""

from __future__ import annotations

from dataclasses import dataclass

from db.models import Campaign as CampaignRow
from db.repositories import campaigns as campaign_repo
from db.repositories.campaigns import AwardTotals
from domain.auth import Principal


@dataclass(frozen=True)
class CampaignResults:
    totals: AwardTotals
    budget: int | None
    budget_spent: int

    @property
    def budget_left(self) -> int | None:
        return None if self.budget is None else max(0, self.budget - self.budget_spent)


async def totals_by_ids(principal: Principal, campaign_ids: list[int]) -> dict[int, AwardTotals]:
    """One statement for any number of the programme's campaigns (a page of them)."""
    return await campaign_repo.award_totals(principal.programme_id, campaign_ids)


def results_of(row: CampaignRow, totals: AwardTotals | None) -> CampaignResults:
    return CampaignResults(
        totals=totals or AwardTotals(), budget=row.budget, budget_spent=row.budget_spent
    )
