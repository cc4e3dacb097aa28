"""A campaign's status machine, what may change while it runs, and the cache orders read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from db import campaign_cache
from db.models import Campaign as CampaignRow
from tests.graphql.campaigns.helpers import (
    activate,
    active_campaign,
    create_campaign,
    end,
    errors_of,
    moment,
    pause,
    stored,
    update,
)

STEPS = {"activate": activate, "pause": pause, "end": end}


async def test_draft_active_paused_active_ended(gql, programme, admin):
    code = (await create_campaign(gql, admin))["code"]
    seen = []
    for step in ("activate", "pause", "activate", "end"):
        result = await STEPS[step](gql, admin, code)
        assert result["__typename"] == "CampaignSuccess", (step, result)
        seen.append(result["campaign"]["status"])
    assert seen == ["ACTIVE", "PAUSED", "ACTIVE", "ENDED"]
    ended = result["campaign"]
    assert ended["activatedAt"] is not None and ended["endedAt"] is not None


@pytest.mark.parametrize(
    ("path", "step", "code"),
    [
        ([], "pause", "INVALID_TRANSITION"),  # a draft has not run
        (["activate"], "activate", "INVALID_TRANSITION"),
        (["activate", "pause"], "pause", "INVALID_TRANSITION"),
        (["end"], "activate", "CAMPAIGN_ENDED"),
        (["end"], "pause", "CAMPAIGN_ENDED"),
        (["activate", "end"], "end", "CAMPAIGN_ENDED"),
    ],
)
async def test_moves_the_machine_has_not_are_refused_and_change_nothing(
    gql, programme, admin, path, step, code
):
    made = (await create_campaign(gql, admin))["code"]
    for done in path:
        assert (await STEPS[done](gql, admin, made))["__typename"] == "CampaignSuccess"
    before = await stored(programme.id)
    result = await STEPS[step](gql, admin, made)
    assert result["__typename"] == f"{step.title()}CampaignError"
    assert [c for _, c in errors_of(result)] == [code]
    assert await stored(programme.id) == before


async def test_an_unknown_campaign_code_is_not_found(gql, programme, admin):
    for step in STEPS.values():
        assert errors_of(await step(gql, admin, "NO-SUCH")) == [("campaignCode", "NOT_FOUND")]
    assert errors_of(await update(gql, admin, "NO-SUCH", name="x")) == [
        ("campaignCode", "NOT_FOUND")
    ]


async def test_a_draft_may_change_anything(gql, programme, admin):
    code = (await create_campaign(gql, admin, limits={"budget": 1_000}))["code"]
    result = await update(
        gql,
        admin,
        code,
        code=f"{code}-2",
        trigger="CHECK_IN",
        effects={"multiplier": None, "bonusPerOrder": 50},
        limits={"budget": None, "memberCap": 100},
        recurrence={"weekdays": [6, 7]},
    )
    assert result["__typename"] == "CampaignSuccess", result
    changed = result["campaign"]
    assert changed["code"] == f"{code}-2" and changed["trigger"] == "CHECK_IN"
    # a part given changes only its fields given; null is the default
    assert changed["effects"] == {
        "multiplier": 10_000,
        "bonusPerOrder": 50,
        "bonusPerItem": 0,
        "couponTemplate": None,
    }
    assert changed["limits"]["budget"] is None and changed["limits"]["memberCap"] == 100
    assert changed["recurrence"]["weekdays"] == [6, 7]


async def test_a_running_campaign_changes_only_its_safe_fields(gql, programme, admin):
    # given an active campaign with a budget
    code = (await active_campaign(gql, admin, limits={"budget": 1_000}))["code"]
    # when its name, description, priority, end and budget change
    result = await update(
        gql,
        admin,
        code,
        name="Renamed",
        description="longer",
        priority=9,
        endsAt=moment(60),
        limits={"budget": 5_000},
    )
    # then they do, and it stays active
    assert result["__typename"] == "CampaignSuccess", result
    changed = result["campaign"]
    assert (changed["name"], changed["description"], changed["priority"]) == (
        "Renamed",
        "longer",
        9,
    )
    assert (changed["limits"]["budget"], changed["budgetLeft"], changed["status"]) == (
        5_000,
        5_000,
        "ACTIVE",
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"effects": {"multiplier": 30_000}}, "effects.multiplier"),
        ({"startsAt": moment(-2)}, "startsAt"),
        ({"trigger": "REVIEW"}, "trigger"),
        ({"audience": {"tiers": ["GOLD"]}}, "audience.tiers"),
        ({"conditions": {"minSpend": 100}}, "conditions.minSpend"),
        ({"limits": {"memberCap": 10}}, "limits.memberCap"),
        ({"code": "OTHER-CODE"}, "code"),
    ],
)
async def test_an_unsafe_change_to_a_running_campaign_is_campaign_running(
    gql, programme, admin, changes, field
):
    code = (await active_campaign(gql, admin))["code"]
    assert (await pause(gql, admin, code))["__typename"] == "CampaignSuccess"  # paused runs too
    before = await stored(programme.id)
    result = await update(gql, admin, code, **changes)
    assert result["__typename"] == "UpdateCampaignError"
    assert errors_of(result) == [(field, "CAMPAIGN_RUNNING")]
    assert await stored(programme.id) == before


async def test_a_running_campaign_end_may_not_move_into_the_past_or_its_budget_below_spent(
    gql, programme, admin
):
    code = (await active_campaign(gql, admin, limits={"budget": 1_000}))["code"]
    await CampaignRow.filter(programme_id=programme.id, code=code).update(budget_spent=600)
    before = await stored(programme.id)
    past = await update(gql, admin, code, endsAt=moment(-0.5))
    below = await update(gql, admin, code, limits={"budget": 599})
    assert errors_of(past) == [("endsAt", "VALIDATION")]
    assert errors_of(below) == [("limits.budget", "VALIDATION")]
    assert await stored(programme.id) == before
    exactly = await update(gql, admin, code, limits={"budget": 600})
    assert exactly["campaign"]["budgetLeft"] == 0


async def test_a_running_campaign_without_a_budget_may_not_be_given_one(gql, programme, admin):
    # given a running campaign without a budget: its awards so far were spent from none, so a
    # budget added now would get back, when those orders are returned, what it never spent
    code = (await active_campaign(gql, admin))["code"]
    before = await stored(programme.id)
    # when it is given a budget
    result = await update(gql, admin, code, limits={"budget": 1_000})
    # then it is refused, and nothing changed
    assert errors_of(result) == [("limits.budget", "CAMPAIGN_RUNNING")]
    assert await stored(programme.id) == before


async def test_an_ended_campaign_changes_no_more(gql, programme, admin):
    code = (await create_campaign(gql, admin))["code"]
    assert (await end(gql, admin, code))["__typename"] == "CampaignSuccess"
    before = await stored(programme.id)
    result = await update(gql, admin, code, name="Again")
    assert errors_of(result) == [("campaignCode", "CAMPAIGN_ENDED")]
    assert await stored(programme.id) == before


async def test_activation_checks_the_window_again(gql, programme, admin):
    # given a draft whose window has ended since it was written
    code = (await create_campaign(gql, admin))["code"]
    await CampaignRow.filter(programme_id=programme.id, code=code).update(
        ends_at=datetime.now(UTC) - timedelta(hours=1)
    )
    before = await stored(programme.id)
    result = await activate(gql, admin, code)
    assert errors_of(result) == [("endsAt", "VALIDATION")]
    assert await stored(programme.id) == before


async def test_orders_see_an_activated_campaign_at_once_and_a_paused_one_no_more(
    gql, programme, admin
):
    # given the programme's active campaigns read (and cached: in Redis when the tests have
    # it) before any exists
    assert await campaign_cache.active_campaigns(programme.id) == ()
    # when a campaign is activated
    code = (await active_campaign(gql, admin))["code"]
    # then the cache serves it at once
    assert [c.code for c in await campaign_cache.active_campaigns(programme.id)] == [code]
    # when it is paused, then it is gone; activated again, back
    await pause(gql, admin, code)
    assert await campaign_cache.active_campaigns(programme.id) == ()
    await activate(gql, admin, code)
    assert [c.code for c in await campaign_cache.active_campaigns(programme.id)] == [code]
    # and an edit of a running one is seen too
    await update(gql, admin, code, priority=7)
    assert [c.priority for c in await campaign_cache.active_campaigns(programme.id)] == [7]
