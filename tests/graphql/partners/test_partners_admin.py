"""Point 1: partners and partner keys through the API (admin set-up, role PARTNER, tenancy)."""

from __future__ import annotations

from db.models import ApiKey, Partner
from domain.auth import Role
from tests.graphql.partners.documents import (
    CREATE_PARTNER,
    ISSUE_KEY,
    MEMBER_POINTS,
    PARTNER,
    PARTNERS,
    REVOKE_KEY,
    SUSPEND_PARTNER,
    UPDATE_PARTNER,
)
from tests.graphql.partners.helpers import (
    DEFAULT_TERMS,
    codes,
    create_partner,
    direction,
    new_key,
    partner_with_key,
)


async def test_an_admin_creates_a_partner_with_exact_rates_and_limits(gql, programme, keys):
    admin, _ = keys
    terms = {
        "inbound": direction(10, 1, min_points=5, max_points=500, dailyPointsPerMember=1_000),
        "eligibleTiers": ["GOLD"],
        "timeoutMinutes": 90,
    }
    created = await create_partner(gql, admin, code="sky", terms=terms)
    assert created["__typename"] == "PartnerSuccess", created
    partner = created["partner"]
    assert partner["status"] == "ACTIVE"
    assert partner["inbound"] == {
        "rate": {"source": 10, "target": 1},
        "minPoints": 5,
        "maxPoints": 500,
        "dailyPointsPerMember": 1_000,
        "dailyPointsTotal": None,
    }
    assert partner["outbound"] is None  # direction not allowed
    assert (partner["eligibleTiers"], partner["timeoutMinutes"]) == (["GOLD"], 90)
    body = await gql(PARTNERS, auth=admin)
    assert body["data"]["partners"] == [{"code": "sky", "status": "ACTIVE"}]


async def test_the_same_key_creates_once_and_a_taken_code_is_already_exists(gql, programme, keys):
    admin, _ = keys
    key = new_key()
    first = await create_partner(gql, admin, code="sky", idempotency_key=key)
    again = await create_partner(gql, admin, code="sky", idempotency_key=key)
    taken = await create_partner(gql, admin, code="sky")
    assert first == again
    assert taken["__typename"] == "CreatePartnerError"
    assert codes(taken) == ["ALREADY_EXISTS"]
    assert await Partner.filter(programme_id=programme.id).count() == 1


async def test_terms_that_would_let_a_round_trip_gain_are_refused_and_nothing_is_written(
    gql, programme, keys
):
    admin, _ = keys
    gaining = {"inbound": direction(1, 1), "outbound": direction(1, 2)}
    zero = {"inbound": direction(0, 1)}
    results = [
        await create_partner(gql, admin, terms=gaining),
        await create_partner(gql, admin, terms=zero),
        await create_partner(gql, admin, code="bad code!"),
        await create_partner(gql, admin, name=""),
    ]
    assert [r["__typename"] for r in results] == ["CreatePartnerError"] * 4
    assert [[e["field"] for e in r["errors"]] for r in results] == [
        ["outbound.rate"],
        ["inbound.rate.source"],
        ["code"],
        ["name"],
    ]
    assert all(codes(r) == ["VALIDATION"] for r in results)
    assert await Partner.filter(programme_id=programme.id).count() == 0


async def test_update_and_suspend(gql, programme, keys):
    admin, _ = keys
    await create_partner(gql, admin, code="sky")
    updated = await gql(
        UPDATE_PARTNER,
        {"input": {"code": "sky", "name": "Sky", "terms": {"inbound": direction(5, 1)}}},
        auth=admin,
    )
    bad = await gql(
        UPDATE_PARTNER,
        {"input": {"code": "sky", "terms": {**DEFAULT_TERMS, "outbound": direction(1, 20)}}},
        auth=admin,
    )
    suspended = await gql(SUSPEND_PARTNER, {"input": {"code": "sky"}}, auth=admin)
    unknown = await gql(SUSPEND_PARTNER, {"input": {"code": "nope"}}, auth=admin)
    assert updated["data"]["updatePartner"]["partner"] == {
        "code": "sky",
        "name": "Sky",
        "inbound": {"rate": {"source": 5, "target": 1}},
    }
    assert codes(bad["data"]["updatePartner"]) == ["VALIDATION"]
    assert suspended["data"]["suspendPartner"]["partner"]["status"] == "SUSPENDED"
    assert codes(unknown["data"]["suspendPartner"]) == ["NOT_FOUND"]
    row = await Partner.get(programme_id=programme.id, code="sky")
    assert row.terms["inbound"]["rate"] == [5, 1]  # the refused update changed nothing


async def test_a_partner_key_is_hashed_at_rest_scoped_to_its_partner_and_revocable(
    gql, programme, keys, make_member
):
    admin, storefront = keys
    sky = await partner_with_key(gql, admin, code="sky")
    await create_partner(gql, admin, code="sea")
    member = await make_member(programme)
    assert sky.key.startswith("lk_partner_")
    stored = await ApiKey.get(programme_id=programme.id, role="partner")
    assert sky.key not in (stored.secret_hash, stored.display_prefix, stored.label)
    # it sees its own partner only, and nothing of the programme's staff operations
    own = await gql(PARTNER, {"code": "sky"}, auth=sky.key)
    other = await gql(PARTNER, {"code": "sea"}, auth=sky.key)
    listing = await gql(PARTNERS, auth=sky.key)
    member_page = await gql(MEMBER_POINTS, {"e": member.external_id}, auth=sky.key)
    assert own["data"]["partner"] == {"code": "sky", "name": "Sky Miles"}
    assert other["data"]["partner"] is None
    assert listing["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert member_page["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # a storefront may not issue one; the admin revokes it, and it is refused at once
    refused = await gql(ISSUE_KEY, {"input": {"partnerCode": "sky"}}, auth=storefront)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    revoked = await gql(REVOKE_KEY, {"input": {"displayPrefix": stored.display_prefix}}, auth=admin)
    assert revoked["data"]["revokePartnerKey"] == {
        "__typename": "RevokePartnerKeySuccess",
        "revoked": 1,
    }
    after = await gql(PARTNER, {"code": "sky"}, auth=sky.key)
    assert after["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_another_programmes_admin_cannot_see_or_touch_a_partner(
    gql, programme, keys, make_programme, make_key
):
    admin, _ = keys
    await create_partner(gql, admin, code="sky")
    other_admin = await make_key(await make_programme(), Role.ADMIN)
    listing = await gql(PARTNERS, auth=other_admin)
    seen = await gql(PARTNER, {"code": "sky"}, auth=other_admin)
    update = await gql(UPDATE_PARTNER, {"input": {"code": "sky", "name": "X"}}, auth=other_admin)
    suspend = await gql(SUSPEND_PARTNER, {"input": {"code": "sky"}}, auth=other_admin)
    issue = await gql(ISSUE_KEY, {"input": {"partnerCode": "sky"}}, auth=other_admin)
    assert listing["data"]["partners"] == []
    assert seen["data"]["partner"] is None
    assert codes(update["data"]["updatePartner"]) == ["NOT_FOUND"]
    assert codes(suspend["data"]["suspendPartner"]) == ["NOT_FOUND"]
    assert codes(issue["data"]["issuePartnerKey"]) == ["NOT_FOUND"]
    row = await Partner.get(programme_id=programme.id, code="sky")
    assert (row.name, row.status) == ("Sky Miles", "ACTIVE")
    assert await ApiKey.filter(partner_id=row.id).count() == 0


async def test_a_storefront_cannot_create_partners(gql, programme, keys):
    _, storefront = keys
    body = await gql(
        CREATE_PARTNER,
        {
            "input": {
                "code": "x",
                "name": "X",
                "terms": DEFAULT_TERMS,
                "idempotencyKey": new_key(),
            }
        },
        auth=storefront,
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
