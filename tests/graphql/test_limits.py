"""Limits on expensive documents (RELIABILITY 22) and on connection pages (RELIABILITY 23)."""

from __future__ import annotations

import base64

import pytest

from db.models import Member as MemberRow
from domain.auth import Role
from tests.fixtures.graphql import answer

# The limits RELIABILITY 22 promises, written out so that raising one in the code fails here.
MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2_000
MAX_BATCH = 10

DEPTH_ERROR = f"exceeds maximum operation depth of {MAX_DEPTH}"

DEEPEST_REAL_QUERY = """
query { members(first: 10) { edges { node { externalId tier { code benefits { code } } } } } }
"""

MEMBER_NAME = """
query ($externalId: String!) { member(externalId: $externalId) { __typename displayName } }
"""

PROGRAMME_CODE = "query { programme { code } }"

MEMBERS_PAGE = """
query ($first: Int!, $after: String) {
  members(first: $first, after: $after) {
    edges { cursor node { __typename externalId } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def nested(depth: int) -> str:
    """A document whose innermost field sits `depth` levels below the root field.

    Our schema has no cycle, so no path of real fields goes past depth 5: a deeper document is
    invalid in other ways too. Both depths use the same made-up shape so that only the depth
    differs, and the tests look for the depth limiter's own message."""
    selection = "leaf"
    for level in reversed(range(depth)):
        selection = f"level{level} {{ {selection} }}"
    return "{ " + selection + " }"


def renames(count: int) -> str:
    fields = " ".join(
        f'rename{i}: updateMember(input: {{externalId: $externalId, displayName: "Renamed {i}"}}) '
        "{ __typename ... on UpdateMemberError { errors { field code message } } }"
        for i in range(count)
    )
    return f"mutation ($externalId: String!) {{ {fields} }}"


def messages(body: dict) -> list[str]:
    return [error["message"] for error in body.get("errors") or []]


async def test_a_query_eleven_levels_deep_is_rejected_by_the_depth_limit(gql, programme, make_key):
    # given
    key = await make_key(programme, Role.ADMIN)
    # when
    body = await gql(nested(MAX_DEPTH + 1), auth=key)
    # then
    assert "data" not in body
    assert any(DEPTH_ERROR in message for message in messages(body)), body


async def test_a_query_ten_levels_deep_passes_the_depth_limit(gql, programme, make_key):
    # given the same shape one level shallower
    key = await make_key(programme, Role.ADMIN)
    # when
    body = await gql(nested(MAX_DEPTH), auth=key)
    # then its made-up fields are refused, but not for its depth
    assert body["errors"], body
    assert not any(DEPTH_ERROR in message for message in messages(body)), body


async def test_the_deepest_real_query_is_answered(gql, programme, make_member, make_key):
    # given
    member = await make_member(programme)
    key = await make_key(programme, Role.ADMIN)
    # when
    body = await gql(DEEPEST_REAL_QUERY, auth=key)
    # then
    assert "errors" not in body, body
    nodes = [edge["node"] for edge in body["data"]["members"]["edges"]]
    assert [(n["externalId"], n["tier"]["code"]) for n in nodes] == [(member.external_id, "BRONZE")]


async def test_sixteen_aliased_mutations_are_rejected_and_change_nothing(
    gql, programme, make_member, make_key
):
    # given
    member = await make_member(programme, display_name="Original Name")
    key = await make_key(programme, Role.ADMIN)
    # when
    body = await gql(renames(MAX_ALIASES + 1), {"externalId": member.external_id}, auth=key)
    # then
    assert "data" not in body
    assert any("aliases" in message for message in messages(body)), body
    assert (await MemberRow.get(id=member.id)).display_name == "Original Name"
    seen = await gql(MEMBER_NAME, {"externalId": member.external_id}, auth=key)
    assert seen["data"]["member"] == {"__typename": "Member", "displayName": "Original Name"}


async def test_fifteen_aliased_mutations_are_allowed(gql, programme, make_member, make_key):
    # given
    member = await make_member(programme, display_name="Original Name")
    key = await make_key(programme, Role.ADMIN)
    # when
    body = await gql(renames(MAX_ALIASES), {"externalId": member.external_id}, auth=key)
    # then every alias ran, in order
    assert "errors" not in body, body
    assert [body["data"][f"rename{i}"]["__typename"] for i in range(MAX_ALIASES)] == [
        "UpdateMemberSuccess"
    ] * MAX_ALIASES
    assert (await MemberRow.get(id=member.id)).display_name == f"Renamed {MAX_ALIASES - 1}"


def named_operations(count: int) -> str:
    """`count` operations of five tokens each (`query`, name, `{`, `__typename`, `}`)."""
    return " ".join(f"query Op{i} {{ __typename }}" for i in range(count))


async def run_first(http, document: str, key: str) -> dict:
    response = await http.post(
        "/graphql",
        json={"query": document, "operationName": "Op0"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_document_over_the_token_limit_is_rejected(http, programme, make_key):
    # given five tokens too many
    key = await make_key(programme, Role.ADMIN)
    document = named_operations(MAX_TOKENS // 5 + 1)
    # when
    body = await run_first(http, document, key)
    # then
    assert "data" not in body
    assert any(f"more than {MAX_TOKENS} tokens" in message for message in messages(body)), body


async def test_a_document_at_the_token_limit_is_answered(http, programme, make_key):
    # given exactly MAX_TOKENS tokens
    key = await make_key(programme, Role.ADMIN)
    document = named_operations(MAX_TOKENS // 5)
    # when
    body = await run_first(http, document, key)
    # then
    assert answer(body) == {"data": {"__typename": "Query"}}


async def test_a_batch_of_eleven_operations_is_rejected(http, programme, make_key):
    # given
    key = await make_key(programme, Role.ADMIN)
    batch = [{"query": PROGRAMME_CODE}] * (MAX_BATCH + 1)
    # when
    response = await http.post("/graphql", json=batch, headers={"Authorization": f"Bearer {key}"})
    # then
    assert response.status_code == 400, response.text


async def test_a_batch_of_ten_operations_is_answered(http, programme, make_key):
    # given
    key = await make_key(programme, Role.ADMIN)
    batch = [{"query": PROGRAMME_CODE}] * MAX_BATCH
    # when
    response = await http.post("/graphql", json=batch, headers={"Authorization": f"Bearer {key}"})
    # then
    assert response.status_code == 200, response.text
    assert [answer(b) for b in response.json()] == [
        {"data": {"programme": {"code": programme.code}}}
    ] * MAX_BATCH


async def test_a_page_of_more_than_a_hundred_is_refused(gql, programme, make_key):
    # given
    key = await make_key(programme, Role.ADMIN)
    # when
    body = await gql(MEMBERS_PAGE, {"first": 101}, auth=key)
    # then
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["VALIDATION"]
    assert body["errors"][0]["path"] == ["members"]


async def test_an_empty_page_is_refused(gql, programme, make_key):
    # given
    key = await make_key(programme, Role.ADMIN)
    # when
    body = await gql(MEMBERS_PAGE, {"first": 0}, auth=key)
    # then
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["VALIDATION"]


async def test_a_page_of_a_hundred_is_answered(gql, programme, make_member, make_key):
    # given
    member = await make_member(programme)
    key = await make_key(programme, Role.ADMIN)
    # when
    body = await gql(MEMBERS_PAGE, {"first": 100}, auth=key)
    # then
    assert "errors" not in body, body
    page = body["data"]["members"]
    assert [e["node"]["externalId"] for e in page["edges"]] == [member.external_id]
    assert page["pageInfo"]["hasNextPage"] is False


async def test_members_page_forward_with_after(gql, make_programme, make_member, make_key):
    # given three members in a programme of their own
    shop = await make_programme()
    joined = [(await make_member(shop)).external_id for _ in range(3)]
    key = await make_key(shop, Role.ADMIN)
    # when
    first = await gql(MEMBERS_PAGE, {"first": 2}, auth=key)
    cursor = first["data"]["members"]["pageInfo"]["endCursor"]
    second = await gql(MEMBERS_PAGE, {"first": 2, "after": cursor}, auth=key)
    # then
    assert "errors" not in first and "errors" not in second, (first, second)
    first_page = [e["node"]["externalId"] for e in first["data"]["members"]["edges"]]
    second_page = [e["node"]["externalId"] for e in second["data"]["members"]["edges"]]
    assert first_page == joined[:2]
    assert second_page == joined[2:]
    assert first["data"]["members"]["pageInfo"]["hasNextPage"] is True
    assert second["data"]["members"]["pageInfo"]["hasNextPage"] is False
    assert not set(first_page) & set(second_page)


@pytest.mark.parametrize(
    "after",
    [
        "not-a-cursor!",
        base64.urlsafe_b64encode(b"programme:1").decode(),
        base64.urlsafe_b64encode(b"member:one").decode(),
    ],
    ids=["not-base64", "another-prefix", "not-a-number"],
)
async def test_a_garbage_after_cursor_is_refused(gql, programme, make_member, make_key, after):
    # given
    await make_member(programme)
    key = await make_key(programme, Role.ADMIN)
    # when
    body = await gql(MEMBERS_PAGE, {"first": 2, "after": after}, auth=key)
    # then
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["VALIDATION"]
    assert body["errors"][0]["path"] == ["members"]


async def test_a_query_over_the_cost_budget_is_throttled_with_its_cost(gql, programme, make_key):
    # given 15 aliased pages of 100 members with their tiers and benefits
    key = await make_key(programme)
    page = "members(first: 100) { edges { node { externalId tier { code benefits { code title } } } } }"
    expensive = "{ " + " ".join(f"p{n}: {page}" for n in range(15)) + " }"
    cheap = "{ " + page + " }"
    # when
    throttled = await gql(expensive, auth=key)
    allowed = await gql(cheap, auth=key)
    # then
    error = throttled["errors"][0]
    assert throttled.get("data") is None
    assert error["extensions"]["code"] == "THROTTLED"
    assert error["extensions"]["cost"]["requestedQueryCost"] > 5000
    assert error["extensions"]["cost"]["actualQueryCost"] is None
    assert "errors" not in allowed


async def test_a_variable_page_size_is_costed_at_the_maximum(gql, programme, make_key):
    key = await make_key(programme)
    page = (
        "members(first: $f) { edges { node { externalId tier { code benefits { code title } } } } }"
    )
    query = "query ($f: Int!) { " + " ".join(f"p{n}: {page}" for n in range(9)) + " }"
    body = await gql(query, {"f": 1}, auth=key)
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"


async def test_a_document_sent_again_is_not_validated_again(gql, programme, make_key):
    """The limits' rules are built once, so the validation cache (keyed by them) hits."""
    from schema.limits import Guard

    key = await make_key(programme)
    query = "{ programme { code name } } # validated once"
    await gql(query, auth=key)
    before = (Guard.validations.hits, Guard.validations.misses)
    for _ in range(3):
        body = await gql(query, auth=key)
        assert body["data"]["programme"]["code"] == programme.code
    after = (Guard.validations.hits, Guard.validations.misses)
    assert (after[0] - before[0], after[1] - before[1]) == (3, 0)


async def test_an_invalid_document_sent_again_is_refused_again(gql, programme, make_key):
    """A cached validation keeps its errors: the second try is refused the same way."""
    key = await make_key(programme)
    query = "{ programme { code noSuchField } }"
    first = await gql(query, auth=key)
    second = await gql(query, auth=key)
    assert first["errors"] == second["errors"]
    assert first["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "data" not in first and "data" not in second  # refused before running
