"""Attacks on the campaign admin API that the first tests did not try: each is refused with a
union error and a code (or a top-level FORBIDDEN), changes nothing, and is never masked."""

from __future__ import annotations

from db.models import AuditEntry
from tests.graphql.campaigns.documents import ACTIVATE, CREATE, END, PAUSE, UPDATE
from tests.graphql.campaigns.helpers import (
    active_campaign,
    campaign_input,
    create_campaign,
    create_result,
    errors_of,
    stored,
    top_level_code,
    update,
)
from tests.graphql.coupons.documents import RETIRE_TEMPLATE
from tests.graphql.coupons.helpers import create_template
from tests.graphql.partners.helpers import partner_with_key


async def test_a_campaign_code_longer_than_a_code_is_a_validation_error_of_each_mutation(
    gql, programme, admin
):
    # given a draft (its audit snapshot reads the campaign by the code sent, before the
    # input checks, and the column holds 32 characters)
    made = await create_campaign(gql, admin)
    before = await stored(programme.id)
    too_long = "X" * 33
    for document, field, more in (
        (UPDATE, "updateCampaign", {"name": "Renamed"}),
        (ACTIVATE, "activateCampaign", {}),
        (PAUSE, "pauseCampaign", {}),
        (END, "endCampaign", {}),
    ):
        # when a mutation names a campaign by a code longer than any campaign's
        body = await gql(document, {"input": {"campaignCode": too_long, **more}}, auth=admin)
        # then it is the mutation's own error on campaignCode, never a top-level error
        assert "errors" not in body, body
        assert errors_of(body["data"][field]) == [("campaignCode", "VALIDATION")], body
    # and a create with such a code is refused on it the same way
    created = await create_result(gql, admin, code=too_long)
    assert errors_of(created) == [("code", "VALIDATION")]
    assert await stored(programme.id) == before
    assert made["status"] == "DRAFT"


async def test_a_running_campaign_whose_template_was_retired_may_still_change_its_safe_fields(
    gql, programme, admin
):
    # given an active campaign issuing a template's coupons, and the template retired since
    template = await create_template(gql, admin)
    made = await active_campaign(
        gql, admin, effects={"couponTemplate": template["code"]}, limits={"budget": 1000}
    )
    retired = await gql(RETIRE_TEMPLATE, {"input": {"templateCode": template["code"]}}, auth=admin)
    assert retired["data"]["retireCouponTemplate"]["__typename"] == "CouponTemplateSuccess"
    # when the admin renames it, cuts its budget and ends it sooner (fields safe while it runs,
    # none of which names the template)
    result = await update(
        gql, admin, made["code"], name="Renamed", limits={"budget": 500}, endsAt=made["startsAt"]
    )
    # then the end in the past is refused for itself, not for the template it does not touch
    assert errors_of(result) == [("endsAt", "VALIDATION")]
    result = await update(gql, admin, made["code"], name="Renamed", limits={"budget": 500})
    # and the rest is written
    assert result["__typename"] == "CampaignSuccess", result
    assert (result["campaign"]["name"], result["campaign"]["limits"]["budget"]) == (
        "Renamed",
        500,
    )


async def test_a_draft_naming_a_retired_template_is_still_refused_when_it_changes_it(
    gql, programme, admin
):
    # given a draft, and a retired template
    template = await create_template(gql, admin)
    retired = await gql(RETIRE_TEMPLATE, {"input": {"templateCode": template["code"]}}, auth=admin)
    assert retired["data"]["retireCouponTemplate"]["__typename"] == "CouponTemplateSuccess"
    made = await create_campaign(gql, admin)
    before = await stored(programme.id)
    # when the draft is changed to issue it, then that is refused and nothing changes
    result = await update(gql, admin, made["code"], effects={"couponTemplate": template["code"]})
    assert errors_of(result) == [("effects.couponTemplate", "TEMPLATE_RETIRED")]
    assert await stored(programme.id) == before


async def test_a_partner_key_may_not_read_or_write_campaigns(gql, programme, admin):
    # given a campaign and a partner's key of the same programme
    made = await create_campaign(gql, admin)
    partner = await partner_with_key(gql, admin)
    before = await stored(programme.id)
    # when the partner creates, updates or ends it, then each is a top-level FORBIDDEN
    for body in (
        await gql(CREATE, {"input": campaign_input()}, auth=partner.key),
        await gql(UPDATE, {"input": {"campaignCode": made["code"], "name": "x"}}, auth=partner.key),
        await gql(END, {"input": {"campaignCode": made["code"]}}, auth=partner.key),
    ):
        assert top_level_code(body) == "FORBIDDEN", body
    assert await stored(programme.id) == before


async def test_a_running_campaign_cannot_drop_its_limits_by_a_null_section(gql, programme, admin):
    # given an active campaign with a member cap and a period cap
    made = await active_campaign(
        gql, admin, limits={"memberCap": 50, "memberPeriodCap": 10, "capPeriod": "DAY"}
    )
    before = await stored(programme.id)
    # when limits is sent as null (every limit to its default: none)
    result = await update(gql, admin, made["code"], limits=None)
    # then the caps may not go while it runs, and nothing changes
    assert errors_of(result) == [("limits.memberCap", "CAMPAIGN_RUNNING")]
    assert await stored(programme.id) == before


async def test_a_registration_campaign_multiplying_nothing_is_refused(gql, programme, admin):
    # given a registration, which earns no points of its own, when a campaign multiplies it
    result = await create_result(gql, admin, trigger="REGISTRATION", effects={"multiplier": 20_000})
    # then it would never give anything: refused on its multiplier, nothing written
    assert errors_of(result) == [("effects.multiplier", "VALIDATION")]
    assert await stored(programme.id) == []
    # and a draft may not become one either
    made = await create_campaign(gql, admin, trigger="CHECK_IN")
    before = await stored(programme.id)
    changed = await update(gql, admin, made["code"], trigger="REGISTRATION")
    assert errors_of(changed) == [("effects.multiplier", "VALIDATION")]
    assert await stored(programme.id) == before


async def test_a_draft_given_a_new_code_is_audited_with_the_campaign_after_too(
    gql, programme, admin
):
    # given a draft
    made = await create_campaign(gql, admin)
    # when it is given a new code
    result = await update(gql, admin, made["code"], code="RENAMED-CODE")
    assert result["__typename"] == "CampaignSuccess", result
    # then its audit row holds the campaign before and after (found by its new code)
    entry = await AuditEntry.filter(programme_id=programme.id, operation="updateCampaign").get()
    assert entry.before is not None and entry.before["code"] == made["code"]
    assert entry.after is not None and entry.after["code"] == "RENAMED-CODE"
