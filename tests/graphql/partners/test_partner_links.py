"""Point 2: linked accounts — by the member (consent), by the partner with a verifying
attribute (5 failures an hour lock it), unlinking, and what a partner key sees."""

from __future__ import annotations

from typing import Any

from db.models import Event, PartnerLink, PartnerVerificationFailure, Tier
from domain.auth import Role
from tests.graphql.partners.documents import (
    CREDIT,
    LINK,
    LINKED_MEMBERS,
    REQUEST_LINK,
    SUSPEND_PARTNER,
    UNLINK,
)
from tests.graphql.partners.helpers import (
    codes,
    direction,
    link,
    new_key,
    partner_with_key,
)
from tests.graphql.test_auth import token_for


async def request_link(gql, key: str, pmid: str, external_id: str, **verify: Any) -> dict[str, Any]:
    body = await gql(
        REQUEST_LINK,
        {"input": {"partnerMemberId": pmid, "memberExternalId": external_id, **verify}},
        auth=key,
    )
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["requestPartnerLink"]
    return result


async def test_a_member_links_their_own_account_with_consent_recorded(
    gql, programme, keys, make_member
):
    admin, storefront = keys
    sky = await partner_with_key(gql, admin)
    member = await make_member(programme)
    token = await token_for(gql, storefront, member.external_id)
    body = await gql(
        LINK,
        {
            "input": {
                "partnerCode": sky.code,
                "partnerMemberId": "FF-1",
                "shareBalance": True,
                "idempotencyKey": new_key(),
            }
        },
        auth=token,
    )
    result = body["data"]["linkPartnerAccount"]
    assert result["__typename"] == "PartnerLinkSuccess", result
    assert result["link"]["memberExternalId"] == member.external_id
    assert result["link"]["shareBalance"] is True
    assert result["link"]["linkedBy"] == f"member:{member.id}"
    assert result["link"]["consentedAt"]
    # a second link of the same member, or of the same partner account, is refused
    again = await gql(
        LINK,
        {
            "input": {
                "partnerCode": sky.code,
                "partnerMemberId": "FF-2",
                "idempotencyKey": new_key(),
            }
        },
        auth=token,
    )
    other = await make_member(programme)
    taken = await gql(
        LINK,
        {
            "input": {
                "partnerCode": sky.code,
                "partnerMemberId": "FF-1",
                "memberExternalId": other.external_id,
                "idempotencyKey": new_key(),
            }
        },
        auth=storefront,
    )
    assert codes(again["data"]["linkPartnerAccount"]) == ["ALREADY_EXISTS"]
    assert codes(taken["data"]["linkPartnerAccount"]) == ["ALREADY_EXISTS"]
    assert await PartnerLink.filter(programme_id=programme.id).count() == 1


async def test_linking_is_refused_for_an_ineligible_tier_or_an_unknown_or_suspended_partner(
    gql, programme, keys, make_member
):
    admin, storefront = keys
    gold_only = await partner_with_key(
        gql, admin, terms={"inbound": direction(1, 1), "eligibleTiers": ["GOLD"]}
    )
    member = await make_member(programme)

    async def attempt(code: str) -> list[str]:
        body = await gql(
            LINK,
            {
                "input": {
                    "partnerCode": code,
                    "partnerMemberId": "FF-9",
                    "memberExternalId": member.external_id,
                    "idempotencyKey": new_key(),
                }
            },
            auth=storefront,
        )
        return codes(body["data"]["linkPartnerAccount"])

    assert await attempt(gold_only.code) == ["NOT_ELIGIBLE_TIER"]
    assert await attempt("nobody") == ["NOT_FOUND"]
    open_partner = await partner_with_key(gql, admin)
    await gql(SUSPEND_PARTNER, {"input": {"code": open_partner.code}}, auth=admin)
    assert await attempt(open_partner.code) == ["PARTNER_SUSPENDED"]
    assert await PartnerLink.filter(programme_id=programme.id).count() == 0


async def test_a_partner_links_a_member_it_can_verify_by_email_or_last_name(
    gql, programme, keys, make_member
):
    admin, _ = keys
    sky = await partner_with_key(gql, admin)
    by_mail = await make_member(programme, email="Li.Wei@Example.com")
    by_name = await make_member(programme, display_name="Anna van der Berg")
    mailed = await request_link(
        gql, sky.key, "FF-1", by_mail.external_id, verifyEmail=" li.wei@example.COM "
    )
    named = await request_link(gql, sky.key, "FF-2", by_name.external_id, verifyLastName="BERG")
    again = await request_link(
        gql, sky.key, "FF-1", by_mail.external_id, verifyEmail="li.wei@example.com"
    )
    assert mailed["__typename"] == "PartnerLinkSuccess", mailed
    assert named["__typename"] == "PartnerLinkSuccess", named
    assert again == mailed  # the same link, asked for again
    assert await PartnerLink.filter(programme_id=programme.id).count() == 2


async def test_five_failed_verifications_an_hour_lock_further_tries(
    gql, programme, keys, make_member
):
    # given a member the partner does not really know
    admin, _ = keys
    sky = await partner_with_key(gql, admin)
    member = await make_member(programme, email="real@example.com")
    # when it guesses five times, then sends the right e-mail
    guesses = [
        await request_link(gql, sky.key, "FF-1", member.external_id, verifyEmail=f"g{n}@x.com")
        for n in range(5)
    ]
    locked = await request_link(
        gql, sky.key, "FF-1", member.external_id, verifyEmail="real@example.com"
    )
    unknown = await request_link(gql, sky.key, "FF-2", "nobody", verifyEmail="real@example.com")
    # then each guess failed, and the lock refuses even the right answer within the hour
    assert [codes(g) for g in guesses] == [["MEMBER_VERIFICATION_FAILED"]] * 5
    assert codes(locked) == ["VERIFICATION_LOCKED"]
    assert codes(unknown) == ["MEMBER_VERIFICATION_FAILED"]  # an unknown id says no more
    assert await PartnerLink.filter(programme_id=programme.id).count() == 0
    assert await PartnerVerificationFailure.filter(partner_member_id="FF-1").count() == 5
    # another partner member id is not locked by these failures
    other = await make_member(programme, email="b@example.com")
    fine = await request_link(gql, sky.key, "FF-3", other.external_id, verifyEmail="b@example.com")
    assert fine["__typename"] == "PartnerLinkSuccess"


async def test_a_partner_key_sees_only_its_linked_members_and_only_consented_balances(
    gql, programme, keys, make_member
):
    admin, storefront = keys
    sky, sea = await partner_with_key(gql, admin), await partner_with_key(gql, admin)
    sharing, private, sea_only, unlinked = [await make_member(programme) for _ in range(4)]
    await link(gql, storefront, sky.code, sharing, "S-1", share=True)
    await link(gql, storefront, sky.code, private, "S-2")
    await link(gql, storefront, sea.code, sea_only, "X-1")
    await link(gql, storefront, sky.code, unlinked, "S-3")
    await gql(UNLINK, {"input": {"partnerMemberId": "S-3"}}, auth=sky.key)
    await gql(
        CREDIT,
        {"input": {"partnerTransferId": "t", "partnerMemberId": "S-1", "partnerUnits": 100}},
        auth=sky.key,
    )
    body = await gql(LINKED_MEMBERS, {"first": 10}, auth=sky.key)
    bronze = (await Tier.get(programme_id=programme.id, code="BRONZE")).code
    nodes = [e["node"] for e in body["data"]["linkedMembers"]["edges"]]
    assert nodes == [
        {
            "partnerMemberId": "S-1",
            "displayName": sharing.display_name,
            "tierCode": bronze,
            "availablePoints": 10,
        },
        {
            "partnerMemberId": "S-2",
            "displayName": private.display_name,
            "tierCode": bronze,
            "availablePoints": None,
        },
    ]
    # paging works and staff keys may not use the partner's view
    page = await gql(LINKED_MEMBERS, {"first": 1}, auth=sky.key)
    info = page["data"]["linkedMembers"]["pageInfo"]
    rest = await gql(LINKED_MEMBERS, {"first": 1, "after": info["endCursor"]}, auth=sky.key)
    assert info["hasNextPage"] is True
    assert [e["node"]["partnerMemberId"] for e in rest["data"]["linkedMembers"]["edges"]] == ["S-2"]
    staff = await gql(LINKED_MEMBERS, {"first": 10}, auth=admin)
    assert staff["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_unlinking_ends_the_partners_access(gql, programme, keys, make_member):
    admin, storefront = keys
    sky = await partner_with_key(gql, admin)
    member = await make_member(programme)
    pmid = await link(gql, storefront, sky.code, member)
    body = await gql(
        UNLINK,
        {"input": {"partnerCode": sky.code, "memberExternalId": member.external_id}},
        auth=storefront,
    )
    assert body["data"]["unlinkPartnerAccount"]["link"]["unlinkedAt"] is not None
    credit = await gql(
        CREDIT,
        {"input": {"partnerTransferId": "t", "partnerMemberId": pmid, "partnerUnits": 100}},
        auth=sky.key,
    )
    again = await gql(
        UNLINK,
        {"input": {"partnerCode": sky.code, "memberExternalId": member.external_id}},
        auth=storefront,
    )
    assert codes(credit["data"]["creditFromPartner"]) == ["NOT_LINKED"]
    assert codes(again["data"]["unlinkPartnerAccount"]) == ["NOT_LINKED"]
    # and the member may link again afterwards
    assert await link(gql, storefront, sky.code, member, pmid) == pmid
    # each link and unlink is an event in its transaction
    events = await Event.filter(member_id=member.id, type__startswith="partner_link.").order_by(
        "id"
    )
    assert [e.type for e in events] == [
        "partner_link.created",
        "partner_link.removed",
        "partner_link.created",
    ]
    assert events[1].payload == {
        "version": 1,
        "partner": sky.code,
        "member": {"externalId": member.external_id, "partnerMemberId": pmid},
        "linkedBy": events[0].payload["linkedBy"],
        "shareBalance": False,
    }


async def test_another_programmes_keys_cannot_link_or_see_links(
    gql, programme, keys, make_member, make_programme, make_key
):
    admin, storefront = keys
    sky = await partner_with_key(gql, admin, code="sky")
    member = await make_member(programme, email="m@example.com")
    await link(gql, storefront, sky.code, member, "FF-1")
    other = await make_programme()
    other_store = await make_key(other, Role.STOREFRONT)
    other_sky = await partner_with_key(gql, await make_key(other, Role.ADMIN), code="sky")
    # B's storefront linking A's member to B's "sky"; B's partner verifying A's member
    cross = await gql(
        LINK,
        {
            "input": {
                "partnerCode": "sky",
                "partnerMemberId": "FF-9",
                "memberExternalId": member.external_id,
                "idempotencyKey": new_key(),
            }
        },
        auth=other_store,
    )
    verify = await request_link(
        gql, other_sky.key, "FF-9", member.external_id, verifyEmail="m@example.com"
    )
    seen = await gql(LINKED_MEMBERS, {"first": 10}, auth=other_sky.key)
    unlink = await gql(UNLINK, {"input": {"partnerMemberId": "FF-1"}}, auth=other_sky.key)
    assert codes(cross["data"]["linkPartnerAccount"]) == ["NOT_FOUND"]
    assert codes(verify) == ["MEMBER_VERIFICATION_FAILED"]
    assert seen["data"]["linkedMembers"]["edges"] == []
    assert codes(unlink["data"]["unlinkPartnerAccount"]) == ["NOT_LINKED"]
    assert await PartnerLink.filter(member_id=member.id, unlinked_at=None).count() == 1
