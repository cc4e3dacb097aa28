"""Query.programme, upsertTier / upsertBenefit, advanceTestClock and Query.node on tiers."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.auth import Role
from domain.clock import ProgrammeMode

PROGRAMME = "{ programme { code mode now tiers { id code rank entryThreshold benefits { code kind value } } } }"
UPSERT_TIER = """
mutation ($input: UpsertTierInput!) {
  upsertTier(input: $input) {
    __typename
    ... on UpsertTierSuccess { tier { code name rank entryThreshold } }
    ... on UpsertTierError { errors { field code message } }
  }
}
"""
UPSERT_BENEFIT = """
mutation ($input: UpsertBenefitInput!) {
  upsertBenefit(input: $input) {
    __typename
    ... on UpsertBenefitSuccess { benefit { code title kind value } }
    ... on UpsertBenefitError { errors { field code message } }
  }
}
"""
ADVANCE = """
mutation ($input: AdvanceTestClockInput!) {
  advanceTestClock(input: $input) {
    __typename
    ... on AdvanceTestClockSuccess { programme { now } }
    ... on AdvanceTestClockError { errors { field code message } }
  }
}
"""


async def test_programme_lists_tiers_in_rank_order_with_benefits(gql, programme, make_key):
    admin = await make_key(programme)
    await gql(
        UPSERT_BENEFIT,
        {
            "input": {
                "tierCode": "GOLD",
                "code": "POINTS",
                "title": "1.5x points",
                "kind": "POINTS_MULTIPLIER",
                "value": 15000,
                "idempotencyKey": "b1",
            }
        },
        auth=admin,
    )
    body = await gql(PROGRAMME, auth=admin)
    tiers = body["data"]["programme"]["tiers"]
    assert [t["code"] for t in tiers] == ["BRONZE", "SILVER", "GOLD"]
    assert tiers[2]["benefits"] == [{"code": "POINTS", "kind": "POINTS_MULTIPLIER", "value": 15000}]
    node = await gql(
        "query ($id: ID!) { node(id: $id) { __typename ... on Tier { code } } }",
        {"id": tiers[2]["id"]},
        auth=admin,
    )
    assert node["data"]["node"] == {"__typename": "Tier", "code": "GOLD"}


async def test_upsert_tier_creates_then_updates_by_code(gql, programme, make_key):
    admin = await make_key(programme)
    created = await gql(
        UPSERT_TIER,
        {
            "input": {
                "code": "PLATINUM",
                "name": "Platinum",
                "rank": 3,
                "entryThreshold": 100_000,
                "idempotencyKey": "t1",
            }
        },
        auth=admin,
    )
    assert created["data"]["upsertTier"]["__typename"] == "UpsertTierSuccess"
    renamed = await gql(
        UPSERT_TIER,
        {
            "input": {
                "code": "PLATINUM",
                "name": "Platinum+",
                "rank": 3,
                "entryThreshold": 120_000,
                "idempotencyKey": "t2",
            }
        },
        auth=admin,
    )
    assert renamed["data"]["upsertTier"]["tier"] == {
        "code": "PLATINUM",
        "name": "Platinum+",
        "rank": 3,
        "entryThreshold": 120_000,
    }
    codes = [t["code"] for t in (await gql(PROGRAMME, auth=admin))["data"]["programme"]["tiers"]]
    assert codes == ["BRONZE", "SILVER", "GOLD", "PLATINUM"]


async def test_invalid_tiers_are_validation_errors_and_change_nothing(gql, programme, make_key):
    admin = await make_key(programme)
    cases = [
        ({"code": "lower", "name": "x", "rank": 5, "entryThreshold": 900_000}, "code"),
        (
            {"code": "MID", "name": "Mid", "rank": 5, "entryThreshold": 20_000},
            "entryThreshold",
        ),  # not above GOLD
        (
            {"code": "TWIN", "name": "Twin", "rank": 1, "entryThreshold": 900_000},
            "rank",
        ),  # SILVER's rank
        (
            {"code": "BRONZE", "name": "Bronze", "rank": 0, "entryThreshold": 5},
            "entryThreshold",
        ),  # first tier not 0
        ({"code": "NEG", "name": "Neg", "rank": 7, "entryThreshold": -1}, "entryThreshold"),
        ({"code": "EMPTY", "name": "", "rank": 7, "entryThreshold": 900_000}, "name"),
    ]
    before = (await gql(PROGRAMME, auth=admin))["data"]["programme"]["tiers"]
    for n, (fields, field) in enumerate(cases):
        body = await gql(
            UPSERT_TIER, {"input": {**fields, "idempotencyKey": f"bad-{n}"}}, auth=admin
        )
        result = body["data"]["upsertTier"]
        assert result["__typename"] == "UpsertTierError", fields
        assert (
            result["errors"][0]["field"] == field and result["errors"][0]["code"] == "VALIDATION"
        ), result
    assert (await gql(PROGRAMME, auth=admin))["data"]["programme"]["tiers"] == before


async def test_benefit_for_an_unknown_tier_code_is_a_validation_error(gql, programme, make_key):
    body = await gql(
        UPSERT_BENEFIT,
        {
            "input": {
                "tierCode": "NOPE",
                "code": "X",
                "title": "X",
                "kind": "FREE_SHIPPING",
                "idempotencyKey": "b",
            }
        },
        auth=await make_key(programme),
    )
    error = body["data"]["upsertBenefit"]["errors"][0]
    assert (error["field"], error["code"]) == ("tierCode", "VALIDATION")


async def test_sandbox_clock_stands_still_until_advanced(gql, programme, make_key):
    admin = await make_key(programme)
    first = datetime.fromisoformat((await gql(PROGRAMME, auth=admin))["data"]["programme"]["now"])
    again = datetime.fromisoformat((await gql(PROGRAMME, auth=admin))["data"]["programme"]["now"])
    assert first == again
    body = await gql(
        ADVANCE, {"input": {"days": 30, "seconds": 5, "idempotencyKey": "clock-1"}}, auth=admin
    )
    moved = datetime.fromisoformat(body["data"]["advanceTestClock"]["programme"]["now"])
    assert moved - first == timedelta(days=30, seconds=5)
    target = moved + timedelta(days=365)
    to = await gql(
        ADVANCE, {"input": {"to": target.isoformat(), "idempotencyKey": "clock-2"}}, auth=admin
    )
    assert datetime.fromisoformat(to["data"]["advanceTestClock"]["programme"]["now"]) == target
    backwards = await gql(
        ADVANCE, {"input": {"to": first.isoformat(), "idempotencyKey": "clock-3"}}, auth=admin
    )
    assert backwards["data"]["advanceTestClock"]["errors"][0]["code"] == "VALIDATION"


async def test_new_members_join_at_the_programme_clock(gql, programme, make_key, make_member):
    admin = await make_key(programme)
    await gql(ADVANCE, {"input": {"days": 400, "idempotencyKey": "clock-4"}}, auth=admin)
    now = (await gql(PROGRAMME, auth=admin))["data"]["programme"]["now"]
    member = await make_member(programme)
    joined = (
        await gql(
            "query ($e: String!) { member(externalId: $e) { joinedAt } }",
            {"e": member.external_id},
            auth=admin,
        )
    )["data"]["member"]["joinedAt"]
    assert datetime.fromisoformat(joined) == datetime.fromisoformat(now)


async def test_live_programmes_refuse_the_test_clock(gql, make_programme, make_key):
    live = await make_programme(mode=ProgrammeMode.LIVE)
    body = await gql(
        ADVANCE, {"input": {"days": 1, "idempotencyKey": "clock-5"}}, auth=await make_key(live)
    )
    result = body["data"]["advanceTestClock"]
    assert result["__typename"] == "AdvanceTestClockError"
    assert result["errors"][0]["code"] == "LIVE_PROGRAMME"


async def test_only_admins_move_the_clock(gql, programme, make_key):
    body = await gql(
        ADVANCE,
        {"input": {"days": 1, "idempotencyKey": "clock-6"}},
        auth=await make_key(programme, Role.STOREFRONT),
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
