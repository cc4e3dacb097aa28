"""Automatic persisted queries (Apollo's APQ protocol) through the ASGI app."""

from __future__ import annotations

import hashlib

from api.persisted import PersistedQueries
from domain.auth import Role
from tests.fixtures.graphql import answer

PAGE = "query ($e: String!) { member(externalId: $e) { externalId displayName } }"


def digest(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def persisted(query: str | None, *, hash_of: str | None = None, version: int = 1) -> dict:
    body: dict = {
        "extensions": {
            "persistedQuery": {"version": version, "sha256Hash": digest(hash_of or query or "")}
        }
    }
    if query is not None:
        body["query"] = query
    return body


async def post(http, key: str | None, body: dict, **variables) -> dict:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = await http.post("/graphql", json={**body, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def code_of(body: dict) -> str:
    return body["errors"][0]["extensions"]["code"]


async def test_an_unknown_hash_asks_for_the_query_then_the_hash_alone_is_enough(
    http, programme, make_member, make_key
):
    member = await make_member(programme)
    key = await make_key(programme, Role.STOREFRONT)
    query = PAGE + " # " + member.external_id  # a document no other test registered
    # given the hash alone, unknown: the client is told to send the query
    first = await post(http, key, persisted(None, hash_of=query), e=member.external_id)
    assert code_of(first) == "PERSISTED_QUERY_NOT_FOUND"
    assert first["errors"][0]["message"] == "PersistedQueryNotFound"
    # when it sends the query with its hash, it runs and is registered
    second = await post(http, key, persisted(query), e=member.external_id)
    assert second["data"]["member"]["externalId"] == member.external_id
    # then the hash alone runs it
    third = await post(http, key, persisted(None, hash_of=query), e=member.external_id)
    assert answer(third) == answer(second)


async def test_a_hash_that_does_not_match_the_query_is_refused_and_not_registered(
    http, programme, make_member, make_key
):
    member = await make_member(programme)
    key = await make_key(programme)
    query = PAGE + " # mismatch"
    body = await post(http, key, persisted(query, hash_of="something else"), e=member.external_id)
    assert code_of(body) == "PERSISTED_QUERY_HASH_MISMATCH"
    again = await post(http, key, persisted(None, hash_of="something else"), e="x")
    assert code_of(again) == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_bad_version_or_hash_is_refused(http, programme, make_key):
    key = await make_key(programme)
    assert code_of(await post(http, key, persisted(PAGE, version=2))) == "PERSISTED_QUERY_INVALID"
    bad_hash = {
        "query": PAGE,
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ABC"}},
    }
    assert code_of(await post(http, key, bad_hash)) == "PERSISTED_QUERY_INVALID"


async def test_a_refused_document_is_not_registered(http, programme, make_key):
    key = await make_key(programme)
    broken = "query { member(externalId: 1) { noSuchField } } # refused"
    refused = await post(http, key, persisted(broken))
    assert code_of(refused) == "GRAPHQL_VALIDATION_FAILED"
    assert code_of(await post(http, key, persisted(None, hash_of=broken))) == (
        "PERSISTED_QUERY_NOT_FOUND"
    )


async def test_nothing_is_registered_without_a_credential(http):
    query = "{ programme { name } } # anonymous"
    body = await post(http, None, persisted(query))
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert code_of(await post(http, None, persisted(None, hash_of=query))) == (
        "PERSISTED_QUERY_NOT_FOUND"
    )


async def test_a_document_registered_in_one_process_is_known_to_another():
    # two stores stand for two processes; they share the configured cache
    query = "{ programme { code } } # shared"
    one, two = PersistedQueries(), PersistedQueries()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest(query)}}
    _, register = await one.resolve(query, extensions)
    assert register == digest(query)
    await one.register(register, query, caller="test")
    assert await two.resolve(None, extensions) == (query, None)


async def test_one_caller_registers_at_most_its_hourly_quota(
    http, programme, make_key, monkeypatch
):
    from api import persisted as persisted_module

    monkeypatch.setattr(persisted_module, "REGISTRATIONS_PER_HOUR", 2)
    key = await make_key(programme)
    documents = [f"{{ programme {{ code }} }} # quota {n} {programme.id}" for n in range(3)]
    for document in documents:  # each runs
        assert (await post(http, key, persisted(document)))["data"]["programme"]
    known = ["errors" not in await post(http, key, persisted(None, hash_of=d)) for d in documents]
    assert known == [True, True, False]
