"""Which GET answers a cache may keep, and whose cache (api/cache_control.py)."""

from __future__ import annotations

import pytest
from graphql import OperationDefinitionNode, parse

from api.cache_control import NO_STORE, SCHEMA_SECONDS, SETTINGS_SECONDS, cache_control_for_get


def header(query: str, *, persisted: bool = True, answered: bool = True, credential: bool):
    document = parse(query)
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return cache_control_for_get(
        persisted=persisted,
        document=document,
        operation=operation,
        answered=answered,
        credential=credential,
    )


def test_settings_read_with_a_credential_are_private():
    query = (
        "{ pointsPolicy { holdMinutes } tierPolicy { metric } programme { code tiers { name } } }"
    )
    assert header(query, credential=True) == f"private, max-age={SETTINGS_SECONDS}"


def test_the_schema_read_without_a_credential_is_public():
    assert header("{ __typename }", credential=False) == f"public, max-age={SCHEMA_SECONDS}"


def test_the_shortest_time_of_the_fields_asked_for_wins():
    query = "{ __typename products(first: 5) { edges { node { sku } } } }"
    assert header(query, credential=True) == f"private, max-age={SETTINGS_SECONDS}"


@pytest.mark.parametrize(
    "query",
    [
        '{ member(externalId: "m1") { externalId } }',
        "{ viewer { externalId } }",
        "{ programme { code } viewer { externalId } }",
        "{ members(first: 5) { edges { node { externalId } } } }",
        '{ node(id: "UHJvZ3JhbW1lOjE=") { id } }',
        # the programme's clock changes from one request to the next
        "{ programme { code now } }",
        "query { ...Clock } fragment Clock on Query { programme { now } }",
        "{ ... on Query { viewer { externalId } } }",
    ],
)
def test_member_data_and_the_clock_are_never_stored(query):
    assert header(query, credential=True) == NO_STORE
    assert header(query, credential=False) == NO_STORE


def test_a_fragment_of_settings_is_read_through():
    query = "query { ...Policy } fragment Policy on Query { pointsPolicy { holdMinutes } }"
    assert header(query, credential=True) == f"private, max-age={SETTINGS_SECONDS}"


def test_only_persisted_queries_that_answered_without_error_are_kept():
    assert header("{ __typename }", persisted=False, credential=False) == NO_STORE
    assert header("{ __typename }", answered=False, credential=False) == NO_STORE
