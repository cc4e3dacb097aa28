"""DESIGN.md §9 and RELIABILITY.md 25-27: credentials, member tokens and programme isolation."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from domain.auth import Role
from services import keys as key_service
from tests.fixtures.graphql import JWT_SECRET

ISSUE_TOKEN = """
mutation ($externalId: String!, $ttl: Int! = 900) {
  issueMemberToken(input: {externalId: $externalId, ttlSeconds: $ttl}) {
    __typename
    ... on IssueMemberTokenSuccess { token expiresAt }
    ... on IssueMemberTokenError { errors { field code message } }
  }
}
"""
MEMBER = "query ($e: String!) { member(externalId: $e) { id externalId email } }"
NODE = "query ($id: ID!) { node(id: $id) { __typename id ... on Member { externalId email } } }"
VIEWER = "{ viewer { externalId } }"


async def token_for(gql, storefront_key: str, external_id: str, ttl: int = 900) -> str:
    body = await gql(ISSUE_TOKEN, {"externalId": external_id, "ttl": ttl}, auth=storefront_key)
    result = body["data"]["issueMemberToken"]
    assert result["__typename"] == "IssueMemberTokenSuccess", result
    return str(result["token"])


def forged(claims_override: dict, *, secret: str = JWT_SECRET, algorithm: str = "HS256") -> str:
    now = int(time.time())
    claims = {
        "iss": "loyalty",
        "aud": "loyalty-members",
        "sub": "1",
        "pid": 1,
        "iat": now,
        "exp": now + 600,
        **claims_override,
    }
    return jwt.encode(claims, secret, algorithm=algorithm)


def unsigned(claims: dict) -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


async def test_no_credential_is_a_top_level_unauthenticated_error(gql):
    body = await gql("{ programme { code } }")
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("header", ["lk_admin_" + "0" * 64, "not-a-token", "a.b.c", "lk_root_abc"])
async def test_unknown_or_malformed_credentials_are_refused(gql, header):
    body = await gql("{ programme { code } }", auth=header)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_database_holds_no_plaintext_key_and_a_revoked_key_is_refused(gql, programme):
    # given
    issued = await key_service.create_key(programme.id, Role.ADMIN, label="to revoke")
    from db.models import ApiKey

    rows = await ApiKey.filter(programme_id=programme.id).values()
    assert all(issued.secret not in json.dumps(row, default=str) for row in rows)
    assert (await gql("{ programme { id } }", auth=issued.secret))["data"]["programme"]["id"]
    # when
    assert await key_service.revoke_key(programme.id, issued.display_prefix) == 1
    # then
    body = await gql("{ programme { id } }", auth=issued.secret)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_member_token_reads_own_member_and_nothing_of_another(
    gql, programme, make_member, make_key
):
    # given
    alice = await make_member(programme)
    bob = await make_member(programme)
    storefront = await make_key(programme, Role.STOREFRONT)
    token = await token_for(gql, storefront, alice.external_id)
    bob_id = (await gql(MEMBER, {"e": bob.external_id}, auth=storefront))["data"]["member"]["id"]
    alice_id = (await gql(MEMBER, {"e": alice.external_id}, auth=storefront))["data"]["member"][
        "id"
    ]
    # when / then: own data
    assert (await gql(VIEWER, auth=token))["data"]["viewer"]["externalId"] == alice.external_id
    assert (await gql(MEMBER, {"e": alice.external_id}, auth=token))["data"]["member"]["email"]
    assert (await gql(NODE, {"id": alice_id}, auth=token))["data"]["node"][
        "externalId"
    ] == alice.external_id
    # B by externalId, by node id: not found, no error that leaks existence
    by_external = await gql(MEMBER, {"e": bob.external_id}, auth=token)
    assert by_external["data"]["member"] is None and "errors" not in by_external
    by_node = await gql(NODE, {"id": bob_id}, auth=token)
    assert by_node["data"]["node"] is None
    # nor through the member list, nor by changing B's profile
    listing = await gql("{ members(first: 10) { edges { node { externalId } } } }", auth=token)
    assert listing["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    update = await gql(
        """mutation ($e: String!) { updateMember(input: {externalId: $e, displayName: "Hacked"}) {
             __typename ... on UpdateMemberError { errors { code } } } }""",
        {"e": bob.external_id},
        auth=token,
    )
    assert update["data"]["updateMember"]["errors"][0]["code"] == "NOT_FOUND"
    assert (
        await gql(
            "query ($e: String!) { member(externalId: $e) { displayName } }",
            {"e": bob.external_id},
            auth=storefront,
        )
    )["data"]["member"]["displayName"] != "Hacked"


async def test_member_token_cannot_do_staff_things(gql, programme, make_member, make_key):
    alice = await make_member(programme)
    token = await token_for(gql, await make_key(programme, Role.STOREFRONT), alice.external_id)
    minted = await gql(ISSUE_TOKEN, {"externalId": alice.external_id}, auth=token)
    assert minted["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    tier = await gql(
        'mutation { upsertTier(input: {code: "X", name: "X", rank: 9, entryThreshold: 9999999, idempotencyKey: "k"}) { __typename } }',
        auth=token,
    )
    assert tier["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_storefront_key_cannot_administer_tiers(gql, programme, make_key):
    storefront = await make_key(programme, Role.STOREFRONT)
    body = await gql(
        'mutation { upsertTier(input: {code: "X", name: "X", rank: 9, entryThreshold: 9999999, idempotencyKey: "k"}) { __typename } }',
        auth=storefront,
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["message"] == "this needs an admin credential"


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "2147483648"},
        {"pid": 2**31},
        {"sub": str(2**63)},
        {"pid": 2**64},
        {"sub": "0"},
        {"pid": -1},
        {"sub": "-5"},
        {"sub": " 1"},
        {"sub": "\u0661"},  # an Arabic-Indic one: a digit to str.isdigit
        {"pid": True},
        {"pid": 1.5},
        {"sub": ["1"]},
    ],
    ids=repr,
)
async def test_signed_tokens_naming_ids_no_row_can_have_are_unauthenticated(
    gql, programme, make_member, claims
):
    # given a correctly signed token (a leaked secret, say) whose ids are out of range
    alice = await make_member(programme)
    token = forged({"sub": str(alice.id), "pid": programme.id, **claims})
    # when
    body = await gql(VIEWER, auth=token)
    # then it never reaches the database: refused like any other bad token
    assert body["data"] is None or body["data"]["viewer"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"], body


async def test_token_lifetime_is_at_most_fifteen_minutes(gql, programme, make_member, make_key):
    alice = await make_member(programme)
    storefront = await make_key(programme, Role.STOREFRONT)
    body = await gql(ISSUE_TOKEN, {"externalId": alice.external_id, "ttl": 901}, auth=storefront)
    result = body["data"]["issueMemberToken"]
    assert result["__typename"] == "IssueMemberTokenError"
    assert result["errors"][0] == {
        "field": "ttlSeconds",
        "code": "VALIDATION",
        "message": "must be 60-900",
    }
    unknown = await gql(ISSUE_TOKEN, {"externalId": "nobody"}, auth=storefront)
    assert unknown["data"]["issueMemberToken"]["errors"][0]["code"] == "NOT_FOUND"


async def test_tampered_tokens_are_refused(gql, programme, make_member, make_key):
    # given a real member, so only the token's flaw can be why it is refused
    alice = await make_member(programme)
    base = {"sub": str(alice.id), "pid": programme.id}
    now = int(time.time())
    bad_tokens = {
        "alg none": unsigned(
            {"iss": "loyalty", "aud": "loyalty-members", "iat": now, "exp": now + 600, **base}
        ),
        "wrong audience": forged({**base, "aud": "someone-else"}),
        "wrong issuer": forged({**base, "iss": "evil"}),
        "expired": forged({**base, "iat": now - 1000, "exp": now - 100}),
        "wrong secret": forged(base, secret="another-secret-" + "y" * 32),
        "too long-lived": forged({**base, "exp": now + 3600}),
        "HS512": forged(base, algorithm="HS512"),
        "no pid": forged({"sub": str(alice.id), "pid": None}),
    }
    control = forged(base)
    assert (await gql(VIEWER, auth=control))["data"]["viewer"]["externalId"] == alice.external_id
    for name, token in bad_tokens.items():
        body = await gql(VIEWER, auth=token)
        assert body.get("errors"), name
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", name


async def test_programme_a_keys_see_nothing_of_programme_b(
    gql, make_programme, make_member, make_key
):
    # given two programmes, each with a member with the same externalId
    a, b = await make_programme(), await make_programme()
    await make_member(a, external_id="same-id")
    b_member = await make_member(b, external_id="same-id", display_name="B's member")
    key_a, key_b = await make_key(a), await make_key(b)
    b_node = (await gql(MEMBER, {"e": "same-id"}, auth=key_b))["data"]["member"]["id"]
    b_programme = (await gql("{ programme { id tiers { id } } }", auth=key_b))["data"]["programme"][
        "id"
    ]
    # when A asks for B's things
    by_external = await gql(
        "query ($e: String!) { member(externalId: $e) { displayName } }",
        {"e": "same-id"},
        auth=key_a,
    )
    by_node = await gql(NODE, {"id": b_node}, auth=key_a)
    programme_node = await gql(
        "query ($id: ID!) { node(id: $id) { id } }", {"id": b_programme}, auth=key_a
    )
    listing = await gql("{ members(first: 100) { edges { node { id } } } }", auth=key_a)
    update = await gql(
        """mutation { updateMember(input: {externalId: "same-id", displayName: "changed by A"}) {
             __typename ... on UpdateMemberSuccess { member { id } } } }""",
        auth=key_a,
    )
    # then A sees only its own member, and B's member is untouched
    assert by_external["data"]["member"]["displayName"] != "B's member"
    assert by_node["data"]["node"] is None
    assert programme_node["data"]["node"] is None
    assert b_node not in [e["node"]["id"] for e in listing["data"]["members"]["edges"]]
    assert update["data"]["updateMember"]["member"]["id"] != b_node
    again = await gql(
        "query ($e: String!) { member(externalId: $e) { displayName } }",
        {"e": "same-id"},
        auth=key_b,
    )
    assert again["data"]["member"]["displayName"] == b_member.display_name


async def test_a_member_token_of_programme_b_sees_nothing_of_programme_a(
    gql, make_programme, make_member, make_key
):
    a, b = await make_programme(), await make_programme()
    a_member = await make_member(a)
    b_member = await make_member(b)
    token_b = await token_for(gql, await make_key(b, Role.STOREFRONT), b_member.external_id)
    a_node = (await gql(MEMBER, {"e": a_member.external_id}, auth=await make_key(a)))["data"][
        "member"
    ]["id"]
    assert (await gql(NODE, {"id": a_node}, auth=token_b))["data"]["node"] is None
    assert (await gql(MEMBER, {"e": a_member.external_id}, auth=token_b))["data"]["member"] is None
