"""Production mode hides what helps an attacker and keeps what helps a caller (RELIABILITY 24)."""

from __future__ import annotations

import uuid

import pytest

from domain.auth import Role
from services import members as member_service
from tests.fixtures.factories import admin_of

INTROSPECTION = "query { __schema { types { name } } }"

MISSPELLED = "query { programme { nam } }"

MEMBER = """
query ($externalId: String!) { member(externalId: $externalId) { __typename externalId } }
"""

MEMBERS_PAGE = "query ($first: Int!) { members(first: $first) { edges { cursor } } }"

REGISTER_MEMBER = """
mutation ($input: RegisterMemberInput!) {
  registerMember(input: $input) {
    __typename
    ... on RegisterMemberSuccess { member { externalId } }
    ... on RegisterMemberError { errors { field code message } }
  }
}
"""

MASKED = "Unexpected error."


@pytest.fixture
def broken_member_lookup(monkeypatch):
    """Makes `member(externalId:)` fail the way a bug would."""

    async def boom(principal, external_id):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(member_service, "find_by_external_id", boom)


async def test_introspection_is_refused_in_production(production_gql, programme, make_key):
    # given
    key = await make_key(programme, Role.ADMIN)
    # when
    body = await production_gql(INTROSPECTION, auth=key)
    # then
    assert "data" not in body
    assert any("introspection" in e["message"].lower() for e in body["errors"]), body


async def test_introspection_is_answered_in_development(gql, programme, make_key):
    # given
    key = await make_key(programme, Role.ADMIN)
    # when
    body = await gql(INTROSPECTION, auth=key)
    # then
    assert "errors" not in body, body
    assert "Member" in {t["name"] for t in body["data"]["__schema"]["types"]}


async def test_a_misspelled_field_gets_no_suggestion_in_production(
    production_gql, programme, make_key
):
    # given
    key = await make_key(programme, Role.ADMIN)
    # when
    body = await production_gql(MISSPELLED, auth=key)
    # then
    assert "data" not in body
    [error] = body["errors"]
    assert "Cannot query field 'nam'" in error["message"]
    assert "Did you mean" not in error["message"]
    assert "'name'" not in error["message"]


async def test_a_misspelled_field_gets_a_suggestion_in_development(gql, programme, make_key):
    # given
    key = await make_key(programme, Role.ADMIN)
    # when
    body = await gql(MISSPELLED, auth=key)
    # then
    [error] = body["errors"]
    assert "Did you mean 'name'" in error["message"]


async def test_graphiql_is_not_served_in_production(production_http):
    # when
    response = await production_http.get("/graphql", headers={"Accept": "text/html"})
    # then
    assert response.status_code == 404, response.text
    assert "graphiql" not in response.text.lower()


async def test_graphiql_is_served_in_development(http):
    # when
    response = await http.get("/graphql", headers={"Accept": "text/html"})
    # then
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_a_bug_in_a_resolver_is_masked_in_production(
    production_http, programme, make_member, make_key, broken_member_lookup
):
    # given
    member = await make_member(programme)
    key = await make_key(programme, Role.STOREFRONT)
    # when
    response = await production_http.post(
        "/graphql",
        json={"query": MEMBER, "variables": {"externalId": member.external_id}},
        headers={"Authorization": f"Bearer {key}"},
    )
    # then
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] == {"member": None}
    assert [e["message"] for e in body["errors"]] == [MASKED]
    assert "secret detail" not in response.text
    assert "RuntimeError" not in response.text


async def test_a_bug_in_a_resolver_shows_its_message_in_development(
    gql, programme, make_member, make_key, broken_member_lookup
):
    # given the same failure, to show the masking above is production's doing
    member = await make_member(programme)
    key = await make_key(programme, Role.STOREFRONT)
    # when
    body = await gql(MEMBER, {"externalId": member.external_id}, auth=key)
    # then
    assert [e["message"] for e in body["errors"]] == ["secret detail"]


async def test_a_missing_credential_stays_readable_in_production(
    production_gql, programme, make_member
):
    # given
    member = await make_member(programme)
    # when
    body = await production_gql(MEMBER, {"externalId": member.external_id})
    # then
    assert body["data"] == {"member": None}
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["message"] != MASKED
    assert "Authorization" in error["message"]


async def test_a_mutation_domain_error_stays_readable_in_production(
    production_gql, programme, make_key
):
    # given
    key = await make_key(programme, Role.STOREFRONT)
    external_id = f"cust-{uuid.uuid4().hex[:8]}"
    registration = {
        "externalId": external_id,
        "displayName": "",
        "idempotencyKey": f"reg-{uuid.uuid4().hex}",
    }
    # when
    body = await production_gql(REGISTER_MEMBER, {"input": registration}, auth=key)
    # then
    assert "errors" not in body, body
    result = body["data"]["registerMember"]
    assert result["__typename"] == "RegisterMemberError"
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("displayName", "VALIDATION")]
    assert all(e["message"] and e["message"] != MASKED for e in result["errors"])
    assert await member_service.find_by_external_id(admin_of(programme), external_id) is None


async def test_a_query_domain_error_stays_readable_in_production(
    production_gql, programme, make_key
):
    # given
    key = await make_key(programme, Role.ADMIN)
    # when
    body = await production_gql(MEMBERS_PAGE, {"first": 101}, auth=key)
    # then
    [error] = body["errors"]
    assert error["extensions"]["code"] == "VALIDATION"
    assert error["message"] != MASKED


async def test_bad_variables_stay_readable_in_production(production_gql, programme, make_key):
    # given variables of the wrong type or range: the caller's mistake, not our bug
    key = await make_key(programme)
    cases = [
        ("query ($f: Int!) { members(first: $f) { edges { cursor } } }", {"f": 3_000_000_000}),
        ("query ($f: Int!) { members(first: $f) { edges { cursor } } }", {"f": "abc"}),
        ("query ($f: Int!) { members(first: $f) { edges { cursor } } }", {}),
        (
            'mutation ($t: DateTime) { advanceTestClock(input: {to: $t, idempotencyKey: "k"}) { __typename } }',
            {"t": "not-a-date"},
        ),
        (
            'mutation ($k: BenefitKind!) { upsertBenefit(input: {tierCode: "GOLD", code: "X", title: "X", kind: $k, idempotencyKey: "k"}) { __typename } }',
            {"k": "NOPE"},
        ),
    ]
    for query, variables in cases:
        # when
        body = await production_gql(query, variables, auth=key)
        # then
        message = body["errors"][0]["message"]
        assert message != "Unexpected error.", (query, variables)
        assert "Variable" in message, message


async def test_a_document_refused_before_running_has_a_code(
    gql, production_gql, programme, make_key
):
    key = await make_key(programme)
    for call in (gql, production_gql):
        missing_argument = await call("{ member { externalId } }", auth=key)
        wrong_type = await call(
            "query ($f: Int!) { members(first: $f) { edges { cursor } } }", {"f": "x"}, auth=key
        )
        for body in (missing_argument, wrong_type):
            assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


# Issue 13, item 6: a production message names nothing of the schema the caller did not write.
PROBES = {
    "argument": ('query { member(externalid: "x") { externalId } }', {}, "externalId"),
    "type": ("query ($x: Strin!) { member(externalId: $x) { externalId } }", {"x": "a"}, "String"),
    "enum value": (
        'query { member(externalId: "x") { coupons(first: 1, status: AVAILABL) { edges { cursor } } } }',
        {},
        "AVAILABLE",
    ),
    "fragment type": ("query { ...F } fragment F on Membr { externalId }", {}, "Member"),
    "enum variable": (
        'query ($s: CouponStatus) { member(externalId: "x") { coupons(first: 1, status: $s) { edges { cursor } } } }',
        {"s": "AVAILABL"},
        "AVAILABLE",
    ),
    "input field": (
        'mutation { checkIn(input: {idempotencykey: "k"}) { __typename } }',
        {},
        "idempotencyKey",
    ),
    "missing argument": ("{ member { externalId } }", {}, "externalId"),
    "field on type": ("{ programme { nam } }", {}, "Programme"),
}


def quoted_names(message: str) -> set[str]:
    import re

    return {
        name
        for quoted in re.findall(r"'([^']*)'", message)
        for name in re.findall(r"[_A-Za-z][_0-9A-Za-z]*", quoted)
    }


# A value an enum does not have is bad input (VALIDATION); the other probes are documents
# GraphQL cannot run (GRAPHQL_VALIDATION_FAILED). Either way the message is redacted alike.
BAD_VALUES = {"enum value", "enum variable"}


@pytest.mark.parametrize("probe", PROBES.keys())
async def test_production_errors_name_only_what_the_caller_wrote(
    gql, production_gql, programme, make_key, probe
):
    import re

    query, variables, hidden = PROBES[probe]
    code = "VALIDATION" if probe in BAD_VALUES else "GRAPHQL_VALIDATION_FAILED"
    key = await make_key(programme, Role.ADMIN)
    # given what development says, to show the name is there to be leaked
    development = await gql(query, variables, auth=key)
    assert any(hidden in e["message"] for e in development["errors"]), development
    # when production is asked the same
    body = await production_gql(query, variables, auth=key)
    # then
    written = set(re.findall(r"[_A-Za-z][_0-9A-Za-z]*", query + str(variables)))
    for error in body["errors"]:
        assert "Did you mean" not in error["message"]
        assert quoted_names(error["message"]) <= written, error["message"]
        assert error["extensions"]["code"] == code
