"""Partners in the audit trail (issue 18.1 meets issue 17): partner configuration keeps its
before and after, and what a partner's key does is audited like any staff credential."""

from __future__ import annotations

from db.models import AuditEntry
from tests.graphql.partners.documents import ISSUE_KEY, SUSPEND_PARTNER, UPDATE_PARTNER
from tests.graphql.partners.helpers import create_partner, direction, partner_with_key
from tests.graphql.partners.test_partner_credits import credit
from tests.graphql.test_audit import entries


async def test_partner_configuration_keeps_before_and_after(gql, programme, keys):
    # given a partner at 10 miles -> 1 point
    admin, _ = keys
    created = await create_partner(gql, admin, code="sky")
    assert created["__typename"] == "PartnerSuccess", created
    # when its rate changes, it is suspended and a key is issued for it
    new_terms = {"inbound": direction(20, 1)}
    await gql(UPDATE_PARTNER, {"input": {"code": "sky", "terms": new_terms}}, auth=admin)
    await gql(SUSPEND_PARTNER, {"input": {"code": "sky"}}, auth=admin)
    issued = await gql(ISSUE_KEY, {"input": {"partnerCode": "sky", "label": "sky"}}, auth=admin)
    # then each change is in the audit log with the partner (or the keys) before and after
    [create_row] = await entries(gql, admin, op="createPartner")
    [update_row] = await entries(gql, admin, op="updatePartner")
    [suspend_row] = await entries(gql, admin, op="suspendPartner")
    [key_row] = await entries(gql, admin, op="issuePartnerKey")
    assert create_row["before"] is None and create_row["after"]["code"] == "sky"
    assert (
        update_row["before"]["terms"]["inbound"]["rate"]
        != (update_row["after"]["terms"]["inbound"]["rate"])
    )
    assert (suspend_row["before"]["status"], suspend_row["after"]["status"]) == (
        "ACTIVE",
        "SUSPENDED",
    )
    prefix = issued["data"]["issuePartnerKey"]["displayPrefix"]
    assert [k["display_prefix"] for k in key_row["before"]].count(prefix) == 0
    [new_key] = [k for k in key_row["after"] if k["display_prefix"] == prefix]
    assert new_key["role"] == "partner" and "secret_hash" not in new_key


async def test_a_partner_keys_mutations_are_audited_with_the_key_as_actor(gql, programme, keys):
    # given a partner with its key
    admin, _ = keys
    sky = await partner_with_key(gql, admin)
    # when the key credits a member that is not linked to it (refused) ...
    refused = await credit(gql, sky.key, "T-1", "FF-nobody", 100)
    assert refused["__typename"] == "CreditFromPartnerError", refused
    # then the audit row names the partner key and the error code
    [row] = await entries(gql, admin, op="creditFromPartner")
    assert row["actor"]["role"] == "partner"
    assert row["actor"]["keyPrefix"] and sky.key.startswith(row["actor"]["keyPrefix"])
    assert row["outcome"] == "NOT_LINKED"
    stored = AuditEntry.filter(programme_id=programme.id, operation="creditFromPartner")
    assert await stored.count() == 1
