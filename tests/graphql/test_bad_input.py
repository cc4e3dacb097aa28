"""Odd input gets a readable answer (null or VALIDATION), never an unexpected error."""

from __future__ import annotations

import base64

import pytest

from domain.auth import Role

NODE = "query ($id: ID!) { node(id: $id) { __typename id } }"
MEMBER = "query ($e: String!) { member(externalId: $e) { externalId } }"
REGISTER = """
mutation ($input: RegisterMemberInput!) {
  registerMember(input: $input) {
    __typename ... on RegisterMemberError { errors { field code } }
  }
}
"""


def gid(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "raw",
    [
        "Member:²",
        "Member:\u0661",
        "Member:2147483648",
        "Member:" + "9" * 5000,
        "Member:-1",
        "Member:0",
        "Member:1.5",
        "Nothing:1",
        "Query:1",
    ],
)
async def test_odd_global_ids_are_not_found(gql, programme, make_key, raw):
    body = await gql(NODE, {"id": gid(raw)}, auth=await make_key(programme))
    assert "errors" not in body, body
    assert body["data"]["node"] is None


async def test_a_global_id_that_is_not_base64_is_a_validation_error(gql, programme, make_key):
    body = await gql(NODE, {"id": "%%%"}, auth=await make_key(programme))
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"


@pytest.mark.parametrize(
    "cursor", [gid("member:2147483648"), gid("member:" + "9" * 25), gid("member:²")]
)
async def test_out_of_range_cursors_are_validation_errors(gql, programme, make_key, cursor):
    body = await gql(
        "query ($a: String) { members(first: 5, after: $a) { edges { cursor } } }",
        {"a": cursor},
        auth=await make_key(programme),
    )
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"


@pytest.mark.parametrize("text", ["nul\x00byte", "bell\x07", "lone\ud800surrogate"])
async def test_control_characters_and_lone_surrogates_are_refused(gql, programme, make_key, text):
    key = await make_key(programme)
    for field in ("displayName", "email"):
        fields = {
            "externalId": "odd-1",
            "displayName": "Fine",
            "idempotencyKey": f"k-{field}",
            field: text,
        }
        body = await gql(REGISTER, {"input": fields}, auth=key)
        result = body["data"]["registerMember"]
        assert result["__typename"] == "RegisterMemberError"
        assert result["errors"] == [{"field": field, "code": "VALIDATION"}]
    lookup = await gql(MEMBER, {"e": text}, auth=key)
    assert lookup["data"] == {"member": None}
    assert [e["extensions"]["code"] for e in lookup["errors"]] == ["VALIDATION"]


async def test_tier_names_are_stored_trimmed(gql, programme, make_key):
    body = await gql(
        """mutation { upsertTier(input: {code: "TOP", name: "  Top  ", rank: 3, entryThreshold: 900000,
             idempotencyKey: "trim"}) { ... on UpsertTierSuccess { tier { name } } } }""",
        auth=await make_key(programme),
    )
    assert body["data"]["upsertTier"]["tier"]["name"] == "Top"


async def test_another_programmes_tiers_benefits_and_members_are_invisible(
    gql, make_programme, make_member, make_key
):
    from tests.fixtures.factories import add_tiers

    a, b = await make_programme(), await make_programme()
    await add_tiers(b, [("BASE", 0)])
    b_member = await make_member(b)
    key_a, key_b = await make_key(a), await make_key(b)
    await gql(
        'mutation { upsertBenefit(input: {tierCode: "BASE", code: "SHIP", title: "Ship", kind: FREE_SHIPPING, idempotencyKey: "s"}) { __typename } }',
        auth=key_b,
    )
    tiers = (await gql("{ programme { tiers { id benefits { id } } } }", auth=key_b))["data"][
        "programme"
    ]["tiers"]
    for node_id in (tiers[0]["id"], tiers[0]["benefits"][0]["id"]):
        assert (await gql(NODE, {"id": node_id}, auth=key_a))["data"]["node"] is None
        assert (await gql(NODE, {"id": node_id}, auth=key_b))["data"]["node"]["id"] == node_id
    token = await gql(
        "mutation ($e: String!) { issueMemberToken(input: {externalId: $e}) { __typename ... on IssueMemberTokenError { errors { code } } } }",
        {"e": b_member.external_id},
        auth=key_a,
    )
    assert token["data"]["issueMemberToken"]["errors"][0]["code"] == "NOT_FOUND"
    benefit = await gql(
        'mutation { upsertBenefit(input: {tierCode: "BASE", code: "X", title: "X", kind: FREE_SHIPPING, idempotencyKey: "x"}) { __typename ... on UpsertBenefitError { errors { field code } } } }',
        auth=key_a,
    )
    assert benefit["data"]["upsertBenefit"]["errors"] == [
        {"field": "tierCode", "code": "VALIDATION"}
    ]


async def test_a_staff_update_must_name_the_member(gql, programme, make_key):
    body = await gql(
        'mutation { updateMember(input: {displayName: "X"}) { ... on UpdateMemberError { errors { field code } } } }',
        auth=await make_key(programme, Role.STOREFRONT),
    )
    assert body["data"]["updateMember"]["errors"] == [{"field": "externalId", "code": "VALIDATION"}]


async def test_upsert_tier_and_benefit_replay_and_refuse_reuse(gql, programme, make_key):
    key = await make_key(programme)
    tier = 'mutation ($n: String!) { upsertTier(input: {code: "TOP", name: $n, rank: 3, entryThreshold: 900000, idempotencyKey: "same"}) { __typename ... on UpsertTierSuccess { tier { id name } } ... on UpsertTierError { errors { code } } } }'
    first = await gql(tier, {"n": "Top"}, auth=key)
    again = await gql(tier, {"n": "Top"}, auth=key)
    other = await gql(tier, {"n": "Other"}, auth=key)
    assert again["data"]["upsertTier"] == first["data"]["upsertTier"]
    assert other["data"]["upsertTier"]["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    benefit = 'mutation ($v: Int!) { upsertBenefit(input: {tierCode: "TOP", code: "PTS", title: "Points", kind: POINTS_MULTIPLIER, value: $v, idempotencyKey: "b-same"}) { __typename ... on UpsertBenefitSuccess { benefit { id value } } ... on UpsertBenefitError { errors { code } } } }'
    first = await gql(benefit, {"v": 15000}, auth=key)
    again = await gql(benefit, {"v": 15000}, auth=key)
    other = await gql(benefit, {"v": 20000}, auth=key)
    assert again["data"]["upsertBenefit"] == first["data"]["upsertBenefit"]
    assert other["data"]["upsertBenefit"]["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_a_retried_clock_advance_moves_the_clock_once(gql, programme, make_key):
    key = await make_key(programme)
    advance = 'mutation { advanceTestClock(input: {days: 10, idempotencyKey: "tick"}) { ... on AdvanceTestClockSuccess { programme { now } } } }'
    first = (await gql(advance, auth=key))["data"]["advanceTestClock"]["programme"]["now"]
    await gql(advance, auth=key)
    now = (await gql("{ programme { now } }", auth=key))["data"]["programme"]["now"]
    assert now == first


async def test_ledger_nodes_need_a_credential(gql):
    for type_name in ("PointTransaction", "Order", "PointHold"):
        body = await gql(NODE, {"id": gid(f"{type_name}:1")})
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body
