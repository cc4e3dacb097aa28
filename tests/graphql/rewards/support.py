"""Rewards for the redemption tests, and the documents and calls the tests share.

`make_reward` is the one place rewards are created: it inserts through the repository until
the catalogue's createReward lands, and can then call the API instead."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from db.models import Programme, RewardRedemption
from db.models import Reward as RewardRow
from db.repositories import rewards as reward_repo
from domain.rewards import Reward

REDEEM_REWARD = """
mutation ($input: RedeemRewardInput!) {
  redeemReward(input: $input) {
    __typename
    ... on RewardRedemptionSuccess { redemption { ...R } }
    ... on RedeemRewardError { errors { field code message } }
  }
}
fragment R on RewardRedemption {
  id rewardCode rewardTitle quantity points cash status orderId holdId couponCode digitalCode
  trackingRef cancelReason requestedAt fulfilledAt cancelledAt
}
"""
FULFIL = """
mutation ($input: FulfilRewardRedemptionInput!) {
  fulfilRewardRedemption(input: $input) {
    __typename
    ... on RewardRedemptionSuccess { redemption { id status trackingRef couponCode digitalCode fulfilledAt } }
    ... on FulfilRewardRedemptionError { errors { field code message } }
  }
}
"""
CANCEL = """
mutation ($input: CancelRewardRedemptionInput!) {
  cancelRewardRedemption(input: $input) {
    __typename
    ... on RewardRedemptionSuccess { redemption { id status cancelReason cancelledAt } }
    ... on CancelRewardRedemptionError { errors { field code message } }
  }
}
"""
QUOTE = """
query ($code: String!, $q: Int!, $e: String) {
  quoteReward(code: $code, quantity: $q, memberExternalId: $e) { points cash currency affordable }
}
"""
ONE = """
query ($id: ID!) { rewardRedemption(id: $id) { id rewardCode status points } }
"""
LIST = """
query ($e: String, $first: Int, $after: String, $status: RewardRedemptionStatus) {
  rewardRedemptions(memberExternalId: $e, first: $first, after: $after, status: $status) {
    edges { cursor node { id rewardCode status quantity } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def key() -> str:
    return uuid.uuid4().hex


async def make_reward(programme: Programme, **overrides: Any) -> Reward:
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "programme_id": programme.id,
        "code": f"R-{uuid.uuid4().hex[:8].upper()}",
        "title": "A mug",
        "category": "home",
        "kind": "PRODUCT",
        "points_price": 100,
        "cash_price": 0,
        "total_stock": None,
        "eligible_tiers": [],
        "status": "ACTIVE",
        "created_at": now,
        "updated_at": now,
        **overrides,
    }
    fields.setdefault("stock_left", fields["total_stock"])
    return await reward_repo.insert(**fields)


async def reward_row(reward: Reward) -> RewardRow:
    return await RewardRow.get(id=reward.id)


async def redemption_count(reward: Reward) -> int:
    return await RewardRedemption.filter(reward_id=reward.id).count()


async def redeem(gql, auth: str, code: str, **input: Any) -> dict[str, Any]:
    body = await gql(
        REDEEM_REWARD,
        {"input": {"code": code, "idempotencyKey": key(), **input}},
        auth=auth,
    )
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["redeemReward"]
    return result


async def call(gql, document: str, field: str, auth: str, **input: Any) -> dict[str, Any]:
    body = await gql(document, {"input": {"idempotencyKey": key(), **input}}, auth=auth)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][field]
    return result


def codes(result: dict[str, Any]) -> list[str]:
    return [e["code"] for e in result.get("errors", [])]
