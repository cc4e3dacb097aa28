"""registerMember / updateMember / member queries, and the bad inputs of issue 2 point 13."""

from __future__ import annotations

import pytest

from db import cache as cache_module
from db.cache import RedisCache
from db.models import Member
from domain.auth import Role

REGISTER = """
mutation ($input: RegisterMemberInput!) {
  registerMember(input: $input) {
    __typename
    ... on RegisterMemberSuccess { member { id externalId displayName email birthday tier { code } consent { marketing profiling } } }
    ... on RegisterMemberError { errors { field code message } }
  }
}
"""
UPDATE = """
mutation ($input: UpdateMemberInput!) {
  updateMember(input: $input) {
    __typename
    ... on UpdateMemberSuccess { member { externalId displayName email phone birthday consent { marketing profiling } } }
    ... on UpdateMemberError { errors { field code message } }
  }
}
"""
MEMBER = "query ($e: String!) { member(externalId: $e) { externalId displayName email phone birthday consent { marketing profiling } } }"


def registration(**overrides):
    return {
        "externalId": "shop-42",
        "displayName": "Chen Jing",
        "email": "Chen.Jing@Example.com",
        "birthday": "02-29",
        "consent": {"marketing": True, "profiling": False},
        "idempotencyKey": "reg-1",
        **overrides,
    }


async def test_register_then_read_the_member_page(gql, programme, make_key):
    key = await make_key(programme, Role.STOREFRONT)
    body = await gql(REGISTER, {"input": registration()}, auth=key)
    result = body["data"]["registerMember"]
    assert result["__typename"] == "RegisterMemberSuccess"
    member = result["member"]
    assert member["email"] == "chen.jing@example.com"
    assert member["birthday"] == "02-29"
    assert member["tier"]["code"] == "BRONZE"
    assert member["consent"] == {"marketing": True, "profiling": False}
    # the same key again replays the same member
    again = await gql(REGISTER, {"input": registration()}, auth=key)
    assert again["data"]["registerMember"]["member"]["id"] == member["id"]
    # the same key with other input is refused
    reused = await gql(REGISTER, {"input": registration(displayName="Other")}, auth=key)
    assert reused["data"]["registerMember"]["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"displayName": ""}, "displayName"),
        ({"displayName": "   "}, "displayName"),
        ({"displayName": "x" * 10_000}, "displayName"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"birthday": "02-30"}, "birthday"),
        ({"birthday": "13-01"}, "birthday"),
        ({"phone": "call me"}, "phone"),
        ({"externalId": ""}, "externalId"),
        ({"externalId": "has space"}, "externalId"),
        ({"externalId": "x" * 129}, "externalId"),
        ({"idempotencyKey": ""}, "idempotencyKey"),
    ],
)
async def test_bad_registration_is_a_validation_error_and_changes_nothing(
    gql, programme, make_key, overrides, field
):
    key = await make_key(programme, Role.STOREFRONT)
    before = await Member.filter(programme_id=programme.id).count()
    body = await gql(REGISTER, {"input": registration(**overrides)}, auth=key)
    result = body["data"]["registerMember"]
    assert result["__typename"] == "RegisterMemberError"
    assert {"field": field, "code": "VALIDATION"} in [
        {"field": e["field"], "code": e["code"]} for e in result["errors"]
    ]
    assert await Member.filter(programme_id=programme.id).count() == before


async def test_every_bad_field_is_reported_at_once(gql, programme, make_key):
    key = await make_key(programme, Role.STOREFRONT)
    body = await gql(
        REGISTER, {"input": registration(displayName="", email="x", birthday="02-30")}, auth=key
    )
    fields = {e["field"] for e in body["data"]["registerMember"]["errors"]}
    assert fields == {"displayName", "email", "birthday"}


async def test_registering_an_existing_external_id_is_already_exists(
    gql, programme, make_member, make_key
):
    member = await make_member(programme)
    body = await gql(
        REGISTER,
        {"input": registration(externalId=member.external_id, idempotencyKey="dup")},
        auth=await make_key(programme),
    )
    error = body["data"]["registerMember"]["errors"][0]
    assert (error["field"], error["code"]) == ("externalId", "ALREADY_EXISTS")


async def test_unknown_external_id_is_null_on_queries_and_not_found_on_mutations(
    gql, programme, make_key
):
    key = await make_key(programme)
    query = await gql(MEMBER, {"e": "nobody"}, auth=key)
    assert query["data"]["member"] is None and "errors" not in query
    mutation = await gql(UPDATE, {"input": {"externalId": "nobody", "displayName": "X"}}, auth=key)
    result = mutation["data"]["updateMember"]
    assert result["__typename"] == "UpdateMemberError"
    assert result["errors"][0]["code"] == "NOT_FOUND"


async def test_update_changes_given_fields_clears_nulls_and_keeps_the_rest(
    gql, programme, make_member, make_key
):
    member = await make_member(programme, phone="+86 138 0000 0000", birthday="07-14")
    key = await make_key(programme, Role.STOREFRONT)
    body = await gql(
        UPDATE,
        {
            "input": {
                "externalId": member.external_id,
                "displayName": "New Name",
                "phone": None,
                "profilingConsent": True,
            }
        },
        auth=key,
    )
    updated = body["data"]["updateMember"]["member"]
    assert updated["displayName"] == "New Name"
    assert updated["phone"] is None
    assert updated["birthday"] == "07-14"
    assert updated["email"] == member.email
    assert updated["consent"]["profiling"] is True


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"displayName": ""}, "displayName"),
        ({"displayName": None}, "displayName"),
        ({"email": "bad"}, "email"),
        ({"birthday": "02-30"}, "birthday"),
    ],
)
async def test_bad_update_changes_nothing(gql, programme, make_member, make_key, change, field):
    member = await make_member(programme, birthday="01-01")
    key = await make_key(programme)
    body = await gql(
        UPDATE,
        {"input": {"externalId": member.external_id, "phone": "+1 555 0100", **change}},
        auth=key,
    )
    result = body["data"]["updateMember"]
    assert result["__typename"] == "UpdateMemberError"
    assert result["errors"][0]["field"] == field and result["errors"][0]["code"] == "VALIDATION"
    after = (await gql(MEMBER, {"e": member.external_id}, auth=key))["data"]["member"]
    assert (
        after["phone"] is None
        and after["displayName"] == member.display_name
        and after["birthday"] == "01-01"
    )


async def test_a_member_updates_own_consent_without_naming_itself(
    gql, programme, make_member, make_key
):
    from tests.graphql.test_auth import token_for

    member = await make_member(programme)
    token = await token_for(gql, await make_key(programme, Role.STOREFRONT), member.external_id)
    body = await gql(UPDATE, {"input": {"marketingConsent": True}}, auth=token)
    assert body["data"]["updateMember"]["member"]["consent"]["marketing"] is True


async def test_the_member_page_still_answers_when_redis_is_down(
    gql, programme, make_member, make_key, monkeypatch
):
    # given the configured cache is a Redis nobody listens on
    dead = RedisCache("redis://127.0.0.1:1/0", timeout=0.2)
    monkeypatch.setattr(cache_module, "_current", dead)
    member = await make_member(programme)
    # when
    body = await gql(
        "query ($e: String!) { member(externalId: $e) { tier { code benefits { code } } } }",
        {"e": member.external_id},
        auth=await make_key(programme),
    )
    # then
    await dead.close()
    assert body["data"]["member"]["tier"]["code"] == "BRONZE"
