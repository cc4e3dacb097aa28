"""Inputs for the campaign API tests, and calls that bring a campaign to a known state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from db.models import Campaign as CampaignRow
from tests.graphql.campaigns.documents import ACTIVATE, CAMPAIGN_BY_CODE, CREATE, END, PAUSE, UPDATE
from tests.graphql.points.helpers import new_key


async def mutate(gql, document: str, field: str, auth: str, **input: Any) -> dict[str, Any]:
    """Run a mutation whose input is `input`, as sent."""
    body = await gql(document, {"input": input}, auth=auth)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][field]
    return result


def campaign_code() -> str:
    return f"C-{uuid.uuid4().hex[:12].upper()}"


def errors_of(result: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in result.get("errors", [])]


def top_level_code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


def moment(days: float) -> str:
    """Days from the wall clock now (a sandbox's clock follows it until advanced)."""
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def campaign_input(**overrides: Any) -> dict[str, Any]:
    """Double points on orders, from yesterday for 30 days."""
    return {
        "code": campaign_code(),
        "name": "Double points",
        "trigger": "ORDER",
        "startsAt": moment(-1),
        "endsAt": moment(30),
        "effects": {"multiplier": 20_000},
        "idempotencyKey": new_key(),
        **overrides,
    }


async def create_result(gql, auth: str, **overrides: Any) -> dict[str, Any]:
    return await mutate(gql, CREATE, "createCampaign", auth, **campaign_input(**overrides))


async def create_campaign(gql, auth: str, **overrides: Any) -> dict[str, Any]:
    result = await create_result(gql, auth, **overrides)
    assert result["__typename"] == "CampaignSuccess", result
    campaign: dict[str, Any] = result["campaign"]
    return campaign


async def update(gql, auth: str, campaign: str, **changes: Any) -> dict[str, Any]:
    return await mutate(gql, UPDATE, "updateCampaign", auth, campaignCode=campaign, **changes)


async def activate(gql, auth: str, code: str) -> dict[str, Any]:
    return await mutate(gql, ACTIVATE, "activateCampaign", auth, campaignCode=code)


async def pause(gql, auth: str, code: str) -> dict[str, Any]:
    return await mutate(gql, PAUSE, "pauseCampaign", auth, campaignCode=code)


async def end(gql, auth: str, code: str) -> dict[str, Any]:
    return await mutate(gql, END, "endCampaign", auth, campaignCode=code)


async def active_campaign(gql, auth: str, **overrides: Any) -> dict[str, Any]:
    made = await create_campaign(gql, auth, **overrides)
    result = await activate(gql, auth, made["code"])
    assert result["__typename"] == "CampaignSuccess", result
    campaign: dict[str, Any] = result["campaign"]
    return campaign


async def campaign_of(gql, auth: str, code: str) -> dict[str, Any] | None:
    body = await gql(CAMPAIGN_BY_CODE, {"code": code}, auth=auth)
    assert "errors" not in body, body
    found: dict[str, Any] | None = body["data"]["campaign"]
    return found


async def stored(programme_id: int) -> list[tuple[Any, ...]]:
    """Every campaign row of the programme, as written (to see that nothing changed)."""
    return [
        tuple(r.values())
        for r in await CampaignRow.filter(programme_id=programme_id).order_by("id").values()
    ]
