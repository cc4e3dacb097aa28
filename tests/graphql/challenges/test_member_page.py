"""member.challenges and member.badges for a page of members: the statements do not grow with
the page (dataloaders), and each member sees its own."""

from __future__ import annotations

from tests.graphql.challenges.helpers import create_challenge
from tests.graphql.points.helpers import completed_order
from tests.graphql.test_query_counts import counting_statements

PAGE = """
query ($first: Int!) {
  members(first: $first) {
    edges { node { externalId challenges { code current completedAt } badges { code } } }
  }
}
"""


async def _count(gql, admin: str, first: int) -> tuple[int, list[dict]]:
    with counting_statements() as counted:
        body = await gql(PAGE, {"first": first}, auth=admin)
    assert "errors" not in body, body
    return counted["n"], [e["node"] for e in body["data"]["members"]["edges"]]


async def test_a_page_of_members_reads_its_challenges_and_badges_in_constant_statements(
    gql, programme, admin, storefront, make_member
):
    # given a challenge two of six members completed (one order each)
    challenge = await create_challenge(
        gql, admin, target=1, reward={"badge": {"code": "FIRST", "title": "First"}}
    )
    members = [await make_member(programme) for _ in range(6)]
    for member in members[:2]:
        await completed_order(gql, storefront, member.external_id)
    # when pages of two and of six are read
    await _count(gql, admin, 1)  # warm the caches
    small, _ = await _count(gql, admin, 2)
    large, nodes = await _count(gql, admin, 6)
    # then both cost the same, and each member sees its own progress and badges
    assert small == large, (small, large)
    by_id = {n["externalId"]: n for n in nodes}
    for n, member in enumerate(members):
        node = by_id[member.external_id]
        [mine] = node["challenges"]
        assert mine["code"] == challenge["code"]
        assert mine["current"] == (1 if n < 2 else 0)
        assert (mine["completedAt"] is not None) == (n < 2)
        assert node["badges"] == ([{"code": "FIRST"}] if n < 2 else [])


EXPORT = "query ($e: String!) { exportMember(externalId: $e) { url } }"


async def test_the_members_export_holds_its_challenge_progress_and_badges(
    gql, http, programme, admin, storefront, make_member
):
    await create_challenge(gql, admin, target=1, reward={"badge": {"code": "B1", "title": "One"}})
    member = await make_member(programme)
    order = await completed_order(gql, storefront, member.external_id)
    body = await gql(EXPORT, {"e": member.external_id}, auth=admin)
    document = (await http.get(body["data"]["exportMember"]["url"])).json()
    [progress] = document["challengeProgress"]
    assert progress["current"] == 1 and progress["completed_at"] is not None
    [counted] = document["challengeContributions"]
    assert (counted["reference_type"], counted["reference"]) == ("ORDER", order["orderId"])
    assert [b["code"] for b in document["badges"]] == ["B1"]
