"""Which media type an answer is sent as, from the request's Accept (GraphQL over HTTP)."""

from __future__ import annotations

import pytest

from api.media_types import GRAPHQL_RESPONSE, JSON, negotiate


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        # the clients that ask for the new type by name
        ("application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE),
        ("application/json, application/graphql-response+json", GRAPHQL_RESPONSE),
        ("APPLICATION/GRAPHQL-RESPONSE+JSON", GRAPHQL_RESPONSE),
        ("*/*, application/json;q=0", GRAPHQL_RESPONSE),
        # legacy clients, and those that do not say
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/json", JSON),
        ("application/json, application/graphql-response+json;q=0.5", JSON),
        ("application/graphql-response+json;q=0, */*", JSON),
        ("application/graphql-response+json;q=nonsense", JSON),
        # nothing we speak: answered as application/json rather than with a 406
        ("text/html", JSON),
    ],
)
def test_the_media_type_follows_the_accept_header(accept, expected):
    assert negotiate(accept) == expected
