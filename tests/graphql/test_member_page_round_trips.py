"""The member page (the benchmark's MEMBER_PAGE document, plus nextBestActions) costs at most
three statements with warm caches: the member row, the programme row (read alongside it, until
the programme is cached in process), and one statement for everything below the member
(db/sql/page.py; since issue 20 with the rewards and challenges the next best actions name,
still three). Before: 13. Statements are counted as tests/graphql/test_query_counts.py
counts them: every call of the connection client's execute_* methods is one round trip.

Without Redis (the SQLite run) the API key itself is read from the database on every request
(the key cache is Redis's): that one statement is the request's, not the page's."""

from __future__ import annotations

import asyncio

from api.member_page import MEMBER_PAGE
from db.sql.page import PageReader
from domain.auth import Role
from tests.conftest import TEST_REDIS_URL
from tests.fixtures.page import a_full_member
from tests.graphql.test_query_counts import counting_statements

PAGE_MAX_ROUND_TRIPS = 3
KEY_LOOKUP = 0 if TEST_REDIS_URL else 1

WITH_ACTIONS = MEMBER_PAGE.replace(
    "recommendations(first: 10) { sku title price score reason }",
    "recommendations(first: 10) { sku title price score reason }\n"
    "    nextBestActions {\n"
    "      __typename\n"
    "      ... on UseExpiringPointsAction { priority points expiresAt }\n"
    "      ... on RedeemPointsAction { priority pointsPrice template { code } }\n"
    "      ... on RedeemRewardAction { priority rewardCode title pointsPrice }\n"
    "      ... on ClaimCouponAction { priority template { code } }\n"
    "      ... on CompleteChallengeAction { priority challengeCode current target endsAt }\n"
    "      ... on ReachNextTierAction { priority amountToNext tier { code } }\n"
    "    }",
)


async def test_the_member_page_takes_at_most_three_round_trips(
    gql, programme, make_member, make_key
):
    # given a member with something in every part of the page, and warm caches
    member = await a_full_member(programme, make_member)
    key = await make_key(programme, Role.STOREFRONT)
    variables = {"e": member.external_id}
    first = await gql(WITH_ACTIONS, variables, auth=key)
    # when the page is asked again
    with counting_statements() as counted:
        body = await gql(WITH_ACTIONS, variables, auth=key)
    # then it is the same page, every part filled, in at most three statements
    assert "errors" not in body, body
    assert body["data"] == first["data"]
    page = body["data"]["member"]
    assert page["benefits"] and page["recommendations"] and page["points"]["expiringWithin"]
    assert len(page["coupons"]["edges"]) == 2 and len(page["transactions"]["edges"]) == 3
    assert {a["__typename"] for a in page["nextBestActions"]} >= {
        "UseExpiringPointsAction",
        "RedeemRewardAction",
        "CompleteChallengeAction",
        "ReachNextTierAction",
    }
    assert counted["n"] <= PAGE_MAX_ROUND_TRIPS + KEY_LOOKUP, counted["n"]


async def test_a_member_alone_does_not_read_the_rest_of_the_page(
    gql, programme, make_member, make_key
):
    # given the same member and warm caches
    member = await a_full_member(programme, make_member)
    key = await make_key(programme, Role.STOREFRONT)
    small = "query ($e: String!) { member(externalId: $e) { externalId displayName } }"
    await gql(WITH_ACTIONS, {"e": member.external_id}, auth=key)
    # when only the member's own fields are asked
    with counting_statements() as counted:
        body = await gql(small, {"e": member.external_id}, auth=key)
    # then nothing but the member row is read
    assert body["data"]["member"]["externalId"] == member.external_id
    assert counted["n"] == 1 + KEY_LOOKUP, counted["n"]


async def test_a_part_asked_twice_in_a_batch_is_read_once_and_later_read_again(
    programme, make_member
):
    # given a member with points in a lot
    member = await a_full_member(programme, make_member)
    reader = PageReader()
    # when two fields ask for its lots together, and a later one (a second mutation's) again
    with counting_statements() as counted:
        first, again = await asyncio.gather(reader.lots(member.id), reader.lots(member.id))
        later = await reader.lots(member.id)
    # then the pair costs one statement, and the later ask reads afresh
    assert first and first == again == later
    assert counted["n"] == 2 and reader.statements == 2
