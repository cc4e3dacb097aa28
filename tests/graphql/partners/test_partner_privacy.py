"""Partners and the member's rights (issue 18.2-3 meets issue 17): an export holds the
member's partner links and transfers; erasure cuts the links, keeps the transfers, and the
partner hears of it without the old id."""

from __future__ import annotations

from db.models import Event, PartnerLink, PartnerTransfer
from tests.graphql.partners.helpers import link, partner_with_key
from tests.graphql.partners.test_partner_credits import credit
from tests.graphql.test_privacy import ERASE, erase_input, where_found
from tests.graphql.test_privacy_export import EXPORT, download


async def test_an_export_holds_the_members_partner_links_and_transfers(
    gql, http, programme, keys, make_member
):
    # given a member linked to an airline that credited it once, and a neighbour
    admin, storefront = keys
    sky = await partner_with_key(gql, admin)
    member = await make_member(programme)
    neighbour = await make_member(programme)
    pmid = await link(gql, storefront, sky.code, member)
    await link(gql, storefront, sky.code, neighbour)
    assert (await credit(gql, sky.key, "T-1", pmid, 100))["__typename"] == "PartnerTransferSuccess"
    # when the member is exported
    body = await gql(EXPORT, {"e": member.external_id}, auth=admin)
    status, document = await download(http, body["data"]["exportMember"]["url"])
    # then its own link and transfer are in it, the neighbour's link is not
    assert status == 200
    assert [row["partner_member_id"] for row in document["partnerLinks"]] == [pmid]
    [transfer] = document["partnerTransfers"]
    assert (transfer["partner_transfer_id"], transfer["points"]) == ("T-1", 10)


async def test_erasure_cuts_the_partner_links_and_keeps_the_transfers(
    gql, programme, keys, make_member
):
    # given a member linked to an airline that credited it
    admin, storefront = keys
    sky = await partner_with_key(gql, admin)
    member = await make_member(programme)
    old_id = member.external_id
    pmid = await link(gql, storefront, sky.code, member)
    assert (await credit(gql, sky.key, "T-1", pmid, 100))["__typename"] == "PartnerTransferSuccess"
    # when the member is erased
    erased = await gql(ERASE, {"input": erase_input(old_id)}, auth=admin)
    assert erased["data"]["eraseMember"]["__typename"] == "EraseMemberSuccess", erased
    # then no link is left and the partner can no longer credit the member
    assert await PartnerLink.filter(member_id=member.id).count() == 0
    refused = await credit(gql, sky.key, "T-2", pmid, 100)
    assert [e["code"] for e in refused["errors"]] == ["NOT_LINKED"]
    # the transfer stays (a financial record), and the partner was told without the old id
    assert await PartnerTransfer.filter(member_id=member.id).count() == 1
    removed = await Event.filter(member_id=member.id, type="partner_link.removed").all()
    assert len(removed) == 1
    assert removed[0].payload["member"]["partnerMemberId"] == pmid
    assert removed[0].payload["member"]["externalId"] != old_id
    assert await where_found(old_id) == []
