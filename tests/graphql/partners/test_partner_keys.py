"""Partner keys in the governance key model (issue 18.5 meets issue 17): listed by `apiKeys`
with their prefix, label and expiry, revocable by `revokeApiKey`, refused once expired, and
never made by `createApiKey`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from db.models import ApiKey
from tests.graphql.partners.documents import ISSUE_KEY, PARTNER
from tests.graphql.partners.helpers import create_partner
from tests.graphql.test_keys import CREATE, KEYS, REVOKE


async def issue(gql, admin: str, code: str, **more) -> dict:
    body = await gql(ISSUE_KEY, {"input": {"partnerCode": code, **more}}, auth=admin)
    assert "errors" not in body, body
    return body["data"]["issuePartnerKey"]


async def test_a_partner_key_is_listed_with_its_label_and_expiry_and_revoked_by_id(
    gql, programme, keys
):
    # given a partner and a key for it that expires in a week
    admin, _ = keys
    await create_partner(gql, admin, code="sky")
    expires = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    issued = await issue(gql, admin, "sky", label="sky prod", expiresAt=expires.isoformat())
    assert issued["__typename"] == "IssuePartnerKeySuccess", issued
    # then apiKeys lists it as a partner key with its prefix, label and expiry
    listing = await gql(KEYS, auth=admin)
    [node] = [
        e["node"]
        for e in listing["data"]["apiKeys"]["edges"]
        if e["node"]["prefix"] == issued["displayPrefix"]
    ]
    assert (node["role"], node["label"]) == ("PARTNER", "sky prod")
    assert datetime.fromisoformat(node["expiresAt"]) == expires
    assert (await gql(PARTNER, {"code": "sky"}, auth=issued["secret"]))["data"]["partner"]
    # when an admin revokes it by its id, it is refused at once
    revoked = await gql(REVOKE, {"id": node["id"]}, auth=admin)
    assert revoked["data"]["revokeApiKey"]["__typename"] == "RevokeApiKeySuccess", revoked
    after = await gql(PARTNER, {"code": "sky"}, auth=issued["secret"])
    assert after["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_expired_partner_key_is_refused_and_a_past_expiry_is_invalid(gql, programme, keys):
    admin, _ = keys
    await create_partner(gql, admin, code="sky")
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    refused = await issue(gql, admin, "sky", expiresAt=past)
    assert refused["__typename"] == "IssuePartnerKeyError"
    assert [e["code"] for e in refused["errors"]] == ["VALIDATION"]
    # a key whose expiry has passed (moved into the past in the database) is refused
    issued = await issue(gql, admin, "sky", label="short")
    row = await ApiKey.get(display_prefix=issued["displayPrefix"])
    row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    await row.save(update_fields=["expires_at"])
    body = await gql(PARTNER, {"code": "sky"}, auth=issued["secret"])
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_create_api_key_does_not_make_partner_keys(gql, programme, keys):
    admin, _ = keys
    body = await gql(
        CREATE,
        {"input": {"role": "PARTNER", "label": "x", "idempotencyKey": uuid.uuid4().hex}},
        auth=admin,
    )
    result = body["data"]["createApiKey"]
    assert result["__typename"] == "CreateApiKeyError"
    assert [e["field"] for e in result["errors"]] == ["role"]
    assert await ApiKey.filter(programme_id=programme.id, role="partner").count() == 0
