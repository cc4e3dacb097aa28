"""GraphQL over HTTP through the ASGI app (issue 14, point 4): the two response media types
and their status codes, no `data` when nothing ran, queries over GET (never mutations),
Cache-Control on GET persisted queries, CORS."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from db.models import Member as MemberRow
from domain.auth import Role
from tests.fixtures.graphql import _client as client_for
from tests.fixtures.graphql import test_settings as settings_with

NEW = "application/graphql-response+json"
# What Apollo Client 3.8+ and graphql-http's client send.
PREFERS_NEW = f"{NEW}, application/json;q=0.9"
SHOP = "https://shop.example"
RENAME = (
    'mutation { updateMember(input: {externalId: "EXTERNAL_ID", displayName: "After"}) '
    "{ __typename } }"
)


def unique(query: str) -> str:
    """The query with a comment no other test's document has (persisted queries are shared)."""
    return f"{query} # {uuid.uuid4().hex}"


def digest(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def persisted_params(query: str, **variables: object) -> dict[str, str]:
    """A hashed query as Apollo's `useGETForHashedQueries` sends it: query parameters."""
    return {
        "variables": json.dumps(variables),
        "extensions": json.dumps({"persistedQuery": {"version": 1, "sha256Hash": digest(query)}}),
    }


def bearer(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


async def register(http: httpx.AsyncClient, key: str, query: str, **variables: object) -> None:
    """Send the document with its hash once (POST), as a client does after NOT_FOUND."""
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest(query)}}
    body = {"query": query, "variables": variables, "extensions": extensions}
    response = await http.post("/graphql", json=body, headers=bearer(key))
    assert response.status_code == 200 and "errors" not in response.json(), response.text


# ------------------------------------------------------------ media types and status codes


async def test_a_client_asking_for_graphql_response_json_gets_it(http, programme, make_key):
    key = await make_key(programme)
    response = await http.post(
        "/graphql",
        json={"query": "{ programme { code } }"},
        headers={"Accept": PREFERS_NEW, **bearer(key)},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{NEW}; charset=utf-8"
    assert response.json()["data"] == {"programme": {"code": programme.code}}


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
async def test_other_clients_get_application_json(http, accept):
    headers = {"Accept": accept} if accept else {}
    if accept is None:
        headers = {"Accept": ""}  # httpx would send */*
    response = await http.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["data"] == {"__typename": "Query"}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": "{"}, "GRAPHQL_PARSE_FAILED"),  # syntax
        ({"query": "{ noSuchField }"}, "GRAPHQL_VALIDATION_FAILED"),  # validation
        (
            {
                "query": "query ($n: String!) { __type(name: $n) { name } }",
                "variables": {"n": None},
            },
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ({"query": "query A { __typename } query B { __typename }"}, "BAD_REQUEST"),
    ],
    ids=["syntax", "validation", "variables", "no-operation-chosen"],
)
async def test_a_request_refused_before_it_ran_is_a_400_without_data(http, body, code):
    # given a client that asked for application/graphql-response+json
    response = await http.post("/graphql", json=body, headers={"Accept": PREFERS_NEW})
    # then the status says nothing ran, and so does the body
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(NEW)
    answer = response.json()
    assert "data" not in answer
    assert answer["errors"]
    if code:
        assert answer["errors"][0]["extensions"]["code"] == code


async def test_a_legacy_client_gets_the_same_refusal_with_200_and_still_no_data(http):
    response = await http.post(
        "/graphql", json={"query": "{ noSuchField }"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200
    assert "data" not in response.json()


async def test_an_operation_that_ran_and_failed_keeps_data_and_200(http):
    # no credential: `programme` runs and fails at its (non-null) root
    response = await http.post(
        "/graphql", json={"query": "{ programme { code } }"}, headers={"Accept": PREFERS_NEW}
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["data"] is None
    assert answer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_edge_refusal_is_sent_in_the_media_type_asked_for(http):
    response = await http.post(
        "/graphql",
        content=b'{"query": ',
        headers={"Content-Type": "application/json", "Accept": PREFERS_NEW},
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(NEW)
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_a_batch_in_which_nothing_ran_is_a_400_and_one_that_ran_a_200(http):
    refused = [{"query": "{ noSuchField }"}, {"query": "{"}]
    ran = [{"query": "{ noSuchField }"}, {"query": "{ __typename }"}]
    headers = {"Accept": PREFERS_NEW}
    first = await http.post("/graphql", json=refused, headers=headers)
    second = await http.post("/graphql", json=ran, headers=headers)
    assert first.status_code == 400
    assert ["data" in answer for answer in first.json()] == [False, False]
    assert second.status_code == 200
    assert ["data" in answer for answer in second.json()] == [False, True]


async def test_a_request_over_the_cost_budget_is_a_400_and_a_bad_hash_too(
    http, programme, make_key
):
    key = await make_key(programme, Role.ADMIN)
    page = "members(first: 100) { edges { node { externalId } } }"
    costly = {"query": "{ " + " ".join(f"p{n}: {page}" for n in range(9)) + " }"}
    bad_hash = {"query": "{ __typename }", "extensions": {"persistedQuery": {"version": 2}}}
    headers = {"Accept": PREFERS_NEW, **bearer(key)}
    # 9 pages of 301 points, twice: over the 5,000 a request may cost
    over = await http.post("/graphql", json=[costly, costly], headers=headers)
    invalid = await http.post("/graphql", json=bad_hash, headers=headers)
    assert over.status_code == 400
    assert [a["errors"][0]["extensions"]["code"] for a in over.json()] == ["THROTTLED"] * 2
    assert invalid.status_code == 400
    assert invalid.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_INVALID"


# ------------------------------------------------------------ GET


async def test_a_query_may_be_sent_with_get(http, programme, make_key):
    key = await make_key(programme)
    response = await http.get(
        "/graphql",
        params={
            "query": "query ($n: String!) { __type(name: $n) { name } programme { code } }",
            "variables": json.dumps({"n": "Member"}),
        },
        headers={"Accept": PREFERS_NEW, **bearer(key)},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {
        "__type": {"name": "Member"},
        "programme": {"code": programme.code},
    }


@pytest.mark.parametrize("accept", [PREFERS_NEW, "application/json"])
async def test_a_mutation_sent_with_get_is_refused_with_405_and_changes_nothing(
    http, programme, make_member, make_key, accept
):
    member = await make_member(programme, display_name="Before")
    key = await make_key(programme)
    mutation = RENAME.replace("EXTERNAL_ID", member.external_id)
    response = await http.get(
        "/graphql", params={"query": mutation}, headers={"Accept": accept, **bearer(key)}
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert (await MemberRow.get(id=member.id)).display_name == "Before"


async def test_a_persisted_mutation_sent_with_get_is_refused_too(
    http, programme, make_member, make_key
):
    member = await make_member(programme, display_name="Before")
    key = await make_key(programme)
    mutation = unique(RENAME.replace("EXTERNAL_ID", member.external_id))
    await register(http, key, mutation)  # ran once, by POST: the name is "After" now
    await MemberRow.filter(id=member.id).update(display_name="Before")
    response = await http.get("/graphql", params=persisted_params(mutation), headers=bearer(key))
    assert response.status_code == 405
    assert (await MemberRow.get(id=member.id)).display_name == "Before"


async def test_apollo_hashed_queries_over_get(http, programme, make_key):
    """Apollo's useGETForHashedQueries: GET with the hash; on NOT_FOUND, POST with the
    document and the hash; from then on GET with the hash alone."""
    key = await make_key(programme, Role.STOREFRONT)
    query = unique("query Policy { pointsPolicy { holdMinutes } }")
    headers = {"Accept": PREFERS_NEW, **bearer(key)}
    # given an unknown hash: 404 (not 400, after which Apollo Client 3 stops hashing)
    unknown = await http.get("/graphql", params=persisted_params(query), headers=headers)
    assert unknown.status_code == 404
    assert "data" not in unknown.json()
    assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert unknown.headers["cache-control"] == "no-store"
    # when the client sends the document once
    await register(http, key, query)
    # then the hash alone is answered with GET, and may be kept by the caller's browser
    known = await http.get("/graphql", params=persisted_params(query), headers=headers)
    assert known.status_code == 200, known.text
    assert "holdMinutes" in known.json()["data"]["pointsPolicy"]
    assert known.headers["cache-control"] == "private, max-age=60"
    assert known.headers["vary"].startswith("Accept, Authorization")


@pytest.mark.parametrize("accept", ["*/*", "text/html,application/xhtml+xml,*/*;q=0.8"])
async def test_a_get_that_only_carries_a_hash_is_not_taken_for_a_browser(http, accept):
    # Not even when it accepts HTML: GraphiQL's page is for a GET that names no query at all.
    query = unique("{ __typename }")
    response = await http.get(
        "/graphql", params=persisted_params(query), headers={"Accept": accept}
    )
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errors"][0]["message"] == "PersistedQueryNotFound"


# ------------------------------------------------------------ Cache-Control


async def test_a_persisted_schema_query_without_a_credential_is_public(http, programme, make_key):
    key = await make_key(programme)
    query = unique("{ __typename }")
    await register(http, key, query)
    response = await http.get("/graphql", params=persisted_params(query))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"


async def test_member_data_over_get_is_never_stored(http, programme, make_member, make_key):
    member = await make_member(programme)
    key = await make_key(programme, Role.STOREFRONT)
    query = unique("query ($e: String!) { member(externalId: $e) { externalId } }")
    await register(http, key, query, e=member.external_id)
    response = await http.get(
        "/graphql", params=persisted_params(query, e=member.external_id), headers=bearer(key)
    )
    assert response.json()["data"]["member"]["externalId"] == member.external_id
    assert response.headers["cache-control"] == "no-store"


async def test_a_get_query_that_is_not_persisted_is_not_stored(http, programme, make_key):
    key = await make_key(programme)
    response = await http.get(
        "/graphql", params={"query": "{ pointsPolicy { holdMinutes } }"}, headers=bearer(key)
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


async def test_a_persisted_query_answered_with_an_error_is_not_stored(http, programme, make_key):
    key = await make_key(programme)
    query = unique("{ pointsPolicy { holdMinutes } }")
    await register(http, key, query)
    # the same hash without a credential: UNAUTHENTICATED
    response = await http.get("/graphql", params=persisted_params(query))
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.headers["cache-control"] == "no-store"


async def test_post_answers_carry_no_cache_control(http):
    response = await http.post("/graphql", json={"query": "{ __typename }"})
    assert "cache-control" not in response.headers


# ------------------------------------------------------------ CORS


@pytest.fixture
async def cors_http() -> AsyncIterator[httpx.AsyncClient]:
    settings = settings_with(LOYALTY_CORS_ORIGINS=f"{SHOP}, https://app.example:8443")
    async for client in client_for(settings):
        yield client


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


async def test_a_preflight_from_an_allowed_origin_is_answered(cors_http):
    response = await cors_http.options("/graphql", headers=preflight(SHOP))
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SHOP
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "access-control-allow-credentials" not in response.headers
    assert int(response.headers["access-control-max-age"]) > 0


async def test_a_preflight_from_another_origin_is_refused(cors_http):
    for origin in ("https://evil.example", "http://shop.example", "https://shop.example:444"):
        response = await cors_http.options("/graphql", headers=preflight(origin))
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers


async def test_a_call_from_an_allowed_origin_may_be_read_by_the_page(cors_http):
    response = await cors_http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": SHOP}
    )
    assert response.headers["access-control-allow-origin"] == SHOP
    assert "origin" in response.headers["vary"].lower()
    # and so may a refusal at the edge, with what to do about it
    refused = await cors_http.post(
        "/graphql",
        content=b"[",
        headers={"Origin": SHOP, "Content-Type": "application/json"},
    )
    assert refused.status_code == 400
    assert refused.headers["access-control-allow-origin"] == SHOP
    assert "retry-after" in refused.headers["access-control-expose-headers"].lower()


async def test_a_call_from_another_origin_gets_no_cors_header(cors_http):
    response = await cors_http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in response.headers


async def test_by_default_no_origin_is_allowed(http):
    answered = await http.options("/graphql", headers=preflight(SHOP))
    assert answered.status_code == 400
    assert "access-control-allow-origin" not in answered.headers
    response = await http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": SHOP}
    )
    assert "access-control-allow-origin" not in response.headers
