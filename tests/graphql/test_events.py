"""Query.events (the admin's pull, in commit order) and setEventPolicy, through the app."""

from __future__ import annotations

import uuid

from domain.auth import Role
from tests.fixtures.events import feed_caught_up
from tests.fixtures.points import place_order

EVENTS = """
query ($first: Int!, $after: String, $types: [String!], $memberId: ID) {
  events(first: $first, after: $after, types: $types, memberId: $memberId) {
    edges { cursor node { id type occurredAt subject sequence payload } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
MEMBER_ID = "query ($externalId: String!) { member(externalId: $externalId) { id } }"
SET_POLICY = """
mutation ($input: SetEventPolicyInput!) {
  setEventPolicy(input: $input) {
    __typename
    ... on SetEventPolicySuccess { eventPolicy { retentionDays expiringDays downgradeWarningDays } }
    ... on SetEventPolicyError { errors { field code message } }
  }
}
"""


async def _all(gql, auth: str, **filters) -> list[dict]:
    await feed_caught_up()
    found, after = [], None
    while True:
        body = await gql(EVENTS, {"first": 2, "after": after, **filters}, auth=auth)
        assert "errors" not in body, body
        page = body["data"]["events"]
        found += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


async def test_an_admin_pages_through_its_events_in_commit_order(
    gql, programme, make_member, make_key
):
    admin = await make_key(programme, Role.ADMIN)
    member = await make_member(programme)
    other = await make_member(programme)
    await place_order(programme, member)
    await place_order(programme, other)
    events = await _all(gql, admin)
    assert [e["type"] for e in events] == [
        "member.registered",
        "member.registered",
        "points.earned",
        "points.earned",
    ]
    member_gid = (await gql(MEMBER_ID, {"externalId": member.external_id}, auth=admin))["data"][
        "member"
    ]["id"]
    assert events[0]["subject"] == member_gid and events[0]["sequence"] == 1
    assert events[2]["payload"]["member"] == {"externalId": member.external_id}
    assert len({e["id"] for e in events}) == 4
    # filtered by member and by type
    mine = await _all(gql, admin, memberId=member_gid)
    assert [(e["type"], e["sequence"]) for e in mine] == [
        ("member.registered", 1),
        ("points.earned", 2),
    ]
    earned = await _all(gql, admin, types=["points.earned"])
    assert earned[0]["subject"] == member_gid and len(earned) == 2
    assert {e["type"] for e in earned} == {"points.earned"}


async def test_a_cursor_resumes_with_what_committed_since(gql, programme, make_member, make_key):
    admin = await make_key(programme, Role.ADMIN)
    member = await make_member(programme)
    await feed_caught_up()
    first = (await gql(EVENTS, {"first": 10}, auth=admin))["data"]["events"]
    end = first["pageInfo"]["endCursor"]
    assert not first["pageInfo"]["hasNextPage"] and end
    await place_order(programme, member)
    await feed_caught_up()
    later = (await gql(EVENTS, {"first": 10, "after": end}, auth=admin))["data"]["events"]
    assert [edge["node"]["type"] for edge in later["edges"]] == ["points.earned"]


async def test_programme_b_sees_none_of_as_events_nor_filters_by_as_members(
    gql, programme, make_programme, make_member, make_key
):
    other = await make_programme()
    admin_a = await make_key(programme, Role.ADMIN)
    admin_b = await make_key(other, Role.ADMIN)
    member_a = await make_member(programme)
    await place_order(programme, member_a)
    a_gid = (await gql(MEMBER_ID, {"externalId": member_a.external_id}, auth=admin_a))["data"][
        "member"
    ]["id"]
    assert len(await _all(gql, admin_a)) == 2
    assert await _all(gql, admin_b) == []
    assert await _all(gql, admin_b, memberId=a_gid) == []
    # and A's cursor in B's hands gives B only B's events
    await feed_caught_up()
    end = (await gql(EVENTS, {"first": 1}, auth=admin_a))["data"]["events"]["pageInfo"]["endCursor"]
    assert (await gql(EVENTS, {"first": 5, "after": end}, auth=admin_b))["data"]["events"][
        "edges"
    ] == []


async def test_only_an_admin_reads_events(gql, programme, make_key):
    for role in (Role.STOREFRONT,):
        body = await gql(EVENTS, {"first": 5}, auth=await make_key(programme, role))
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await gql(EVENTS, {"first": 5})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_bad_arguments_are_refused_with_a_code(gql, programme, make_key):
    admin = await make_key(programme, Role.ADMIN)
    for variables in (
        {"first": 0},
        {"first": 101},
        {"first": 5, "types": ["points.stolen"]},
        {"first": 5, "types": []},
        {"first": 5, "after": "not-a-cursor"},
        {"first": 5, "memberId": "bm90LWEtbWVtYmVy"},
    ):
        body = await gql(EVENTS, variables, auth=admin)
        assert body["errors"][0]["extensions"]["code"] == "VALIDATION", (variables, body)


async def test_set_event_policy(gql, programme, make_key):
    admin = await make_key(programme, Role.ADMIN)
    key = uuid.uuid4().hex
    body = await gql(SET_POLICY, {"input": {"expiringDays": 3, "idempotencyKey": key}}, auth=admin)
    assert body["data"]["setEventPolicy"] == {
        "__typename": "SetEventPolicySuccess",
        "eventPolicy": {"retentionDays": 30, "expiringDays": 3, "downgradeWarningDays": 14},
    }
    bad = await gql(
        SET_POLICY,
        {"input": {"retentionDays": 0, "idempotencyKey": uuid.uuid4().hex}},
        auth=admin,
    )
    assert bad["data"]["setEventPolicy"]["__typename"] == "SetEventPolicyError"
    assert bad["data"]["setEventPolicy"]["errors"][0] == {
        "field": "retentionDays",
        "code": "VALIDATION",
        "message": "must be 1-3650",
    }
    read = await gql("{ eventPolicy { retentionDays expiringDays } }", auth=admin)
    assert read["data"]["eventPolicy"] == {"retentionDays": 30, "expiringDays": 3}
    storefront = await make_key(programme, Role.STOREFRONT)
    denied = await gql(
        SET_POLICY, {"input": {"expiringDays": 1, "idempotencyKey": "x"}}, auth=storefront
    )
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
