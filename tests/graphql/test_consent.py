"""Issue 18.4: consent withdrawn acts at once."""

from __future__ import annotations

from db.models import Event, Member, MemberSegment, RecommendationList
from domain.auth import Role
from services.recommendations.build import build
from tests.fixtures.points import advance, complete, line, place_order, run_jobs
from tests.fixtures.recommendations import buy, stock_shop
from tests.graphql.test_auth import token_for

UPDATE = """
mutation ($input: UpdateMemberInput!) {
  updateMember(input: $input) { __typename }
}
"""
PAGE = "{ viewer { recommendations(first: 5) { sku reason } segment { lifecycle } } }"


async def test_withdrawing_profiling_consent_removes_segment_and_list_at_once(
    gql, programme, make_key, make_member
):
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme, consent_profiling=True)
    neighbour = await make_member(programme, consent_profiling=True)
    await stock_shop(programme)
    for who in (member, neighbour):
        await complete(programme, await buy(programme, who, "phone"))
    await build(programme)
    token = await token_for(gql, storefront, member.external_id)
    assert await RecommendationList.filter(member_id=member.id).exists()
    assert await MemberSegment.filter(member_id=member.id).exists()

    body = await gql(UPDATE, {"input": {"profilingConsent": False}}, auth=token)

    assert body["data"]["updateMember"]["__typename"] == "UpdateMemberSuccess"
    assert not await RecommendationList.filter(member_id=member.id).exists()
    assert not await MemberSegment.filter(member_id=member.id).exists()
    assert await RecommendationList.filter(member_id=neighbour.id).exists()
    page = (await gql(PAGE, auth=token))["data"]["viewer"]
    assert {r["reason"] for r in page["recommendations"]} <= {"POPULAR"}
    # giving it again changes nothing until the next build; withdrawing twice is harmless
    await gql(UPDATE, {"input": {"profilingConsent": True}}, auth=token)
    await gql(UPDATE, {"input": {"profilingConsent": False}}, auth=token)
    assert not await MemberSegment.filter(member_id=member.id).exists()


async def test_reminders_say_whether_the_member_consents_to_marketing(
    gql, programme, make_key, make_member
):
    admin = await make_key(programme, Role.ADMIN)
    consenting = await make_member(programme, consent_marketing=True)
    withdrawing = await make_member(programme, consent_marketing=True)
    for who in (consenting, withdrawing):
        await complete(programme, await place_order(programme, who, line(price=10_000)))
    await gql(
        UPDATE,
        {"input": {"externalId": withdrawing.external_id, "marketingConsent": False}},
        auth=admin,
    )
    assert (await Member.get(id=withdrawing.id)).consent_marketing is False

    await advance(programme, days=360)
    await run_jobs(programme)

    [told] = await Event.filter(member_id=consenting.id, type="points.expiring")
    [not_to_nudge] = await Event.filter(member_id=withdrawing.id, type="points.expiring")
    assert told.payload["marketingConsent"] is True
    assert not_to_nudge.payload["marketingConsent"] is False
