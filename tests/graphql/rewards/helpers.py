"""Inputs for the rewards catalogue tests, and calls that bring a reward to a known state."""

from __future__ import annotations

import uuid
from typing import Any

from db.models import Reward as RewardRow
from tests.graphql.rewards.documents import CREATE, RETIRE, SHELF, UPDATE


def reward_code() -> str:
    return f"R-{uuid.uuid4().hex[:12].upper()}"


def reward_input(**overrides: Any) -> dict[str, Any]:
    """A tumbler for 1,200 points."""
    return {
        "code": reward_code(),
        "title": "Steel tumbler",
        "category": "home",
        "kind": "PRODUCT",
        "pointsPrice": 1200,
        "idempotencyKey": uuid.uuid4().hex,
        **overrides,
    }


async def run(gql, document: str, field: str, auth: str, input: dict[str, Any]) -> dict[str, Any]:
    body = await gql(document, {"input": input}, auth=auth)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][field]
    return result


async def create_result(gql, auth: str, **overrides: Any) -> dict[str, Any]:
    return await run(gql, CREATE, "createReward", auth, reward_input(**overrides))


async def create_reward(gql, auth: str, **overrides: Any) -> dict[str, Any]:
    result = await create_result(gql, auth, **overrides)
    assert result["__typename"] == "RewardSuccess", result
    reward: dict[str, Any] = result["reward"]
    return reward


async def update(gql, auth: str, code: str, **changes: Any) -> dict[str, Any]:
    return await run(gql, UPDATE, "updateReward", auth, {"rewardCode": code, **changes})


async def retire(gql, auth: str, code: str) -> dict[str, Any]:
    return await run(gql, RETIRE, "retireReward", auth, {"rewardCode": code})


def errors_of(result: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in result.get("errors", [])]


async def shelf(gql, auth: str, **variables: Any) -> list[str]:
    """The codes the caller's catalogue lists (first 20)."""
    body = await gql(SHELF, variables, auth=auth)
    assert "errors" not in body, body
    return [e["node"]["code"] for e in body["data"]["rewards"]["edges"]]


async def rows_of(programme_id: int) -> list[RewardRow]:
    return await RewardRow.filter(programme_id=programme_id).order_by("id")
