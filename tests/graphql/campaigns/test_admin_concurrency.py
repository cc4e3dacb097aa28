"""A budget cut racing an order that spends the budget (PostgreSQL, through the API)."""

from __future__ import annotations

import asyncio

import asyncpg
from tortoise.transactions import in_transaction

from db.models import Campaign as CampaignRow
from db.repositories import campaigns as campaign_repo
from tests.conftest import DATABASE_URL, needs_postgres
from tests.graphql.campaigns.helpers import active_campaign, errors_of, update

pytestmark = needs_postgres


async def _until_someone_waits_for_a_lock() -> None:
    """Returns once another session of the database waits for a row lock (at most ~10 s)."""
    conn = await asyncpg.connect(DATABASE_URL.replace("postgres://", "postgresql://", 1))
    try:
        for _ in range(1_000):
            waiting = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if waiting:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the update never waited for the order's row lock")
    finally:
        await conn.close()


async def test_a_budget_cut_waits_for_an_order_spending_it_and_then_sees_what_it_spent(
    gql, programme, admin
):
    # given an active campaign with a budget of 1,000, and an order spending 100 of it in a
    # transaction still open
    code = (await active_campaign(gql, admin, limits={"budget": 1_000}))["code"]
    row = await CampaignRow.get(programme_id=programme.id, code=code)
    spent, release = asyncio.Event(), asyncio.Event()

    async def order_spending() -> None:
        async with in_transaction():
            assert await campaign_repo.spend_budget(row.id, 100)
            spent.set()
            await release.wait()

    order = asyncio.create_task(order_spending())
    await spent.wait()  # the order holds the campaign's row before the admin comes
    # when an admin cuts the budget to 50 meanwhile, and the order commits while it waits
    cut = asyncio.create_task(update(gql, admin, code, limits={"budget": 50}))
    await _until_someone_waits_for_a_lock()
    release.set()
    await order
    result = await cut
    # then the cut is judged against what the order spent: refused, and the budget holds
    assert errors_of(result) == [("limits.budget", "VALIDATION")]
    after = await CampaignRow.get(id=row.id)
    assert (after.budget, after.budget_spent) == (1_000, 100)
