"""Point 8: a partner key sees and touches only its own partner, its transfers and its linked
members — a matrix over every operation a partner key may call, for another partner of the
same programme and for a partner of another programme with the same code and member ids."""

from __future__ import annotations

from typing import Any

from db.models import Member, PartnerLink, PartnerTransfer
from domain.auth import Role
from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.partners.documents import (
    CONFIRM,
    CREDIT,
    LINKED_MEMBERS,
    PARTNER,
    REJECT,
    REQUEST_LINK,
    STATEMENT,
    TRANSFERS,
    UNLINK,
)
from tests.graphql.partners.helpers import link, partner_with_key
from tests.graphql.partners.test_partner_credits import credit
from tests.graphql.partners.test_partner_statement import local_day
from tests.graphql.partners.test_partner_transfers_out import send
from tests.graphql.points.helpers import fund

NODE = "query ($id: ID!) { node(id: $id) { id } }"


def outcome(body: dict[str, Any], field: str) -> Any:
    """What the caller learnt: the data, or the union error's codes, or the top-level code."""
    if body.get("errors"):
        return ("error", body["errors"][0]["extensions"]["code"])
    value = body["data"][field]
    if isinstance(value, dict) and "errors" in value:
        return ("union", [e["code"] for e in value["errors"]])
    return value


async def test_partner_keys_see_nothing_of_another_partner_or_programme(
    gql, programme, keys, make_member, make_programme, make_key
):
    # given, in programme A: sky with a linked member, a credit in and a pending transfer out
    admin, storefront = keys
    sky = await partner_with_key(gql, admin, code="sky")
    sea = await partner_with_key(gql, admin, code="sea")
    member = await make_member(programme, email="m@example.com")
    await fund(gql, admin, member.external_id, 100)
    await link(gql, storefront, sky.code, member, "FF-1", share=True)
    await credit(gql, sky.key, "IN-1", "FF-1", 100)
    pending = (await send(gql, storefront, sky.code, member.external_id, 40))["transfer"]["id"]
    # and programme B, whose partner is also "sky" with its own member linked as "FF-1"
    other = await make_programme()
    other_admin, other_store = (
        await make_key(other, Role.ADMIN),
        await make_key(other, Role.STOREFRONT),
    )
    foreign = await partner_with_key(gql, other_admin, code="sky", name="Foreign Sky")
    theirs = await make_member(other)
    await link(gql, other_store, "sky", theirs, "FF-1")
    day = (await local_day(programme)).isoformat()

    operations = {
        "partner": (PARTNER, {"code": "sky"}, "partner"),
        "linkedMembers": (LINKED_MEMBERS, {"first": 10}, "linkedMembers"),
        "partnerTransfers": (TRANSFERS, {"first": 10}, "partnerTransfers"),
        "partnerStatement": (STATEMENT, {"code": "sky", "date": day}, "partnerStatement"),
        "node": (NODE, {"id": pending}, "node"),
        "confirm": (
            CONFIRM,
            {"input": {"id": pending, "partnerReference": "x"}},
            "confirmPartnerTransfer",
        ),
        "reject": (REJECT, {"input": {"id": pending, "reason": "x"}}, "rejectPartnerTransfer"),
        "credit": (
            CREDIT,
            {
                "input": {
                    "partnerTransferId": "IN-1",
                    "partnerMemberId": "FF-1",
                    "partnerUnits": 100,
                }
            },
            "creditFromPartner",
        ),
        "requestLink": (
            REQUEST_LINK,
            {
                "input": {
                    "partnerMemberId": "FF-2",
                    "memberExternalId": member.external_id,
                    "verifyEmail": "m@example.com",
                }
            },
            "requestPartnerLink",
        ),
        "unlink": (
            UNLINK,
            {"input": {"partnerMemberId": "FF-1"}},
            "unlinkPartnerAccount",
        ),  # last: B's sky may end its own "FF-1" link
    }
    seen = {}
    for who, key in (("sea", sea.key), ("foreign", foreign.key)):
        for name, (document, variables, field) in operations.items():
            if who == "sea" and name == "requestLink":
                continue  # verifying a member of its own programme is what sea may do
            seen[(who, name)] = outcome(await gql(document, variables, auth=key), field)

    # then neither learns or changes anything of sky's in programme A
    assert seen[("sea", "partner")] is None
    assert seen[("foreign", "partner")] == {"code": "sky", "name": "Foreign Sky"}  # its own
    for who in ("sea", "foreign"):
        assert seen[(who, "partnerTransfers")]["edges"] == []
        assert seen[(who, "node")] is None
        assert seen[(who, "confirm")] == ("union", ["NOT_FOUND"])
        assert seen[(who, "reject")] == ("union", ["NOT_FOUND"])
    assert seen[("sea", "linkedMembers")]["edges"] == []
    assert [e["node"]["displayName"] for e in seen[("foreign", "linkedMembers")]["edges"]] == [
        theirs.display_name
    ]
    assert seen[("sea", "partnerStatement")] == ("error", "NOT_FOUND")
    assert seen[("foreign", "partnerStatement")]["lines"] == []
    assert seen[("sea", "unlink")] == ("union", ["NOT_LINKED"])
    assert seen[("sea", "credit")] == ("union", ["NOT_LINKED"])
    # B's sky credits B's own member "FF-1" (its own link), never A's
    assert seen[("foreign", "credit")]["transfer"]["status"] == "COMPLETED"
    assert seen[("foreign", "requestLink")] == ("union", ["MEMBER_VERIFICATION_FAILED"])
    assert seen[("foreign", "unlink")]["link"]["partnerMemberId"] == "FF-1"  # B's own link
    assert (await Member.get(id=theirs.id)).points_available == 10
    row = await assert_ledger_consistent(member)
    assert (row.points_available, row.points_held) == (110, 40)
    assert (
        await PartnerTransfer.filter(member_id=member.id)
        .order_by("id")
        .values_list("status", flat=True)
    ) == [
        "COMPLETED",
        "PENDING",
    ]
    assert await PartnerLink.filter(member_id=member.id, unlinked_at=None).count() == 1
