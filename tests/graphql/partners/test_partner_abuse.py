"""An abuse cap on partner transfers in (issue 18.6 meets issue 17): over the cap, the excess
of a partner's credit is held on the member's flag, not credited and not dropped."""

from __future__ import annotations

import uuid

from db.models import PointTransaction
from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.partners.helpers import link, partner_with_key
from tests.graphql.partners.test_partner_credits import credit
from tests.graphql.test_abuse import APPROVE, FLAGS, SET_POLICY

PARTNER_CAP = {"caps": [{"source": "PARTNER_IN", "period": "DAY", "points": 15}]}


async def test_partner_credits_over_a_daily_cap_are_held_for_review(
    gql, programme, keys, make_member
):
    # given a cap of 15 points a day from partners, and a member linked to an airline
    admin, storefront = keys
    body = await gql(SET_POLICY, {"input": PARTNER_CAP}, auth=admin)
    assert body["data"]["setAbusePolicy"]["__typename"] == "SetAbusePolicySuccess", body
    sky = await partner_with_key(gql, admin)
    member = await make_member(programme)
    pmid = await link(gql, storefront, sky.code, member)
    # when the airline credits 10 points twice
    first = await credit(gql, sky.key, "T-1", pmid, 100)
    second = await credit(gql, sky.key, "T-2", pmid, 100)
    # then both transfers are done for the partner, 15 points are credited and 5 held
    assert [first["__typename"], second["__typename"]] == ["PartnerTransferSuccess"] * 2
    rows = await PointTransaction.filter(member_id=member.id, kind="TRANSFER_IN").order_by("id")
    assert [r.amount for r in rows] == [10, 5]
    flags = (await gql(FLAGS, {"status": "OPEN"}, auth=admin))["data"]["abuseFlags"]["edges"]
    [flag] = [e["node"] for e in flags if e["node"]["member"]["externalId"] == member.external_id]
    assert (flag["rule"], flag["pointsHeld"]) == ("CAP_PARTNER_IN_DAY", 5)
    # and an admin's approval releases the 5
    approved = await gql(APPROVE, {"id": flag["id"], "key": uuid.uuid4().hex}, auth=admin)
    assert approved["data"]["approveFlag"]["__typename"] == "FlagSuccess", approved
    await member.refresh_from_db()
    assert member.points_available == 20
    await assert_ledger_consistent(member)
