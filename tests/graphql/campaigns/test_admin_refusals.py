"""Bad input, other programmes and other roles: refused, and nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from domain.auth import Role
from tests.graphql.campaigns.documents import (
    ACTIVATE,
    CAMPAIGN_BY_CODE,
    CAMPAIGN_BY_ID,
    CAMPAIGNS,
    CREATE,
    NODE,
    UPDATE,
)
from tests.graphql.campaigns.helpers import (
    active_campaign,
    campaign_input,
    campaign_of,
    create_campaign,
    create_result,
    end,
    errors_of,
    pause,
    stored,
    top_level_code,
    update,
)
from tests.graphql.coupons.documents import RETIRE_TEMPLATE
from tests.graphql.coupons.helpers import create_template
from tests.graphql.test_auth import token_for

BAD: list[tuple[str, dict[str, Any], tuple[str, str]]] = [
    (
        "end before start",
        {"startsAt": "2027-03-02T00:00:00+08:00", "endsAt": "2027-03-01T00:00:00+08:00"},
        ("endsAt", "VALIDATION"),
    ),
    (
        "window already over",
        {"startsAt": "2020-03-01T00:00:00+08:00", "endsAt": "2020-03-02T00:00:00+08:00"},
        ("endsAt", "VALIDATION"),
    ),
    ("multiplier zero", {"effects": {"multiplier": 0}}, ("effects.multiplier", "VALIDATION")),
    ("multiplier negative", {"effects": {"multiplier": -1}}, ("effects.multiplier", "VALIDATION")),
    ("no effect", {"effects": {}}, ("effects", "VALIDATION")),
    ("budget zero", {"limits": {"budget": 0}}, ("limits.budget", "VALIDATION")),
    ("budget negative", {"limits": {"budget": -5}}, ("limits.budget", "VALIDATION")),
    (
        "unknown template",
        {"effects": {"couponTemplate": "NO-SUCH-TEMPLATE"}},
        ("effects.couponTemplate", "NOT_FOUND"),
    ),
    ("unknown tier", {"audience": {"tiers": ["PLATINUM"]}}, ("audience.tiers", "VALIDATION")),
    (
        "recurrence that never runs",
        {
            "startsAt": "2027-03-02T00:00:00+08:00",  # a Tuesday
            "endsAt": "2027-03-04T00:00:00+08:00",
            "recurrence": {"weekdays": [6, 7]},
        },
        ("recurrence.weekdays", "VALIDATION"),
    ),
    ("bad code", {"code": "lower case"}, ("code", "VALIDATION")),
    (
        "period cap without period",
        {"limits": {"memberPeriodCap": 5}},
        ("limits.capPeriod", "VALIDATION"),
    ),
    (
        "order condition on a check-in",
        {"trigger": "CHECK_IN", "effects": {"bonusPerOrder": 5}, "conditions": {"minSpend": 1}},
        ("conditions.minSpend", "VALIDATION"),
    ),
]


@pytest.mark.parametrize(("overrides", "error"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
async def test_bad_input_is_refused_with_its_field_and_writes_nothing(
    gql, programme, admin, overrides, error
):
    result = await create_result(gql, admin, **overrides)
    assert result["__typename"] == "CreateCampaignError"
    assert error in errors_of(result)
    assert await stored(programme.id) == []


async def test_bad_input_on_update_is_refused_and_changes_nothing(gql, programme, admin):
    code = (await create_campaign(gql, admin))["code"]
    before = await stored(programme.id)
    for changes, error in (
        ({"effects": {"multiplier": 0}}, ("effects.multiplier", "VALIDATION")),
        ({"limits": {"budget": 0}}, ("limits.budget", "VALIDATION")),
        ({"endsAt": "2020-01-01T00:00:00+08:00"}, ("endsAt", "VALIDATION")),
        ({"name": None}, ("name", "VALIDATION")),
        ({"audience": {"tiers": ["NOPE"]}}, ("audience.tiers", "VALIDATION")),
        ({"effects": {"couponTemplate": "NOPE"}}, ("effects.couponTemplate", "NOT_FOUND")),
    ):
        result = await update(gql, admin, code, **changes)
        assert result["__typename"] == "UpdateCampaignError", changes
        assert error in errors_of(result), (changes, result)
    other = (await create_campaign(gql, admin))["code"]
    before = await stored(programme.id)
    taken = await update(gql, admin, code, code=other)
    assert errors_of(taken) == [("code", "ALREADY_EXISTS")]
    assert await stored(programme.id) == before


async def test_a_retired_template_is_refused_on_activation(gql, programme, admin):
    # given a draft giving a template's coupons, and the template retired since
    template = await create_template(gql, admin)
    code = (await create_campaign(gql, admin, effects={"couponTemplate": template["code"]}))["code"]
    retired = await gql(RETIRE_TEMPLATE, {"input": {"templateCode": template["code"]}}, auth=admin)
    assert retired["data"]["retireCouponTemplate"]["__typename"] == "CouponTemplateSuccess"
    before = await stored(programme.id)
    # when it is activated, then it is refused and stays a draft
    result = await gql(ACTIVATE, {"input": {"campaignCode": code}}, auth=admin)
    assert errors_of(result["data"]["activateCampaign"]) == [
        ("effects.couponTemplate", "TEMPLATE_RETIRED")
    ]
    assert await stored(programme.id) == before


async def test_another_programme_neither_sees_nor_changes_a_programmes_campaigns(
    gql, programme, admin, make_programme, make_key
):
    # given programme A's active campaign, and B with a campaign of its own
    made = await active_campaign(gql, admin)
    other = await make_programme()
    admin_b = await make_key(other, Role.ADMIN)
    own = await create_campaign(gql, admin_b)
    before = await stored(programme.id)
    # when B reads A's campaign by id, node and code
    by_id = await gql(CAMPAIGN_BY_ID, {"id": made["id"]}, auth=admin_b)
    node = await gql(NODE, {"id": made["id"]}, auth=admin_b)
    # then it finds nothing
    assert by_id["data"]["campaign"] is None and node["data"]["node"] is None
    assert await campaign_of(gql, admin_b, made["code"]) is None
    # and B's list shows only its own
    body = await gql(CAMPAIGNS, {"first": 100}, auth=admin_b)
    assert [e["node"]["code"] for e in body["data"]["campaigns"]["edges"]] == [own["code"]]
    # when B pauses, ends and updates A's campaign by its code
    for result in (
        await pause(gql, admin_b, made["code"]),
        await end(gql, admin_b, made["code"]),
        await update(gql, admin_b, made["code"], name="Mine now"),
    ):
        # then each is not found, and A's campaign is as it was
        assert errors_of(result) == [("campaignCode", "NOT_FOUND")]
    assert await stored(programme.id) == before
    # and B may use A's code for its own campaign
    assert (await create_result(gql, admin_b, code=made["code"]))["__typename"] == (
        "CampaignSuccess"
    )


async def test_only_an_admin_key_may_read_or_write_campaigns(
    gql, programme, admin, make_key, make_member
):
    # given a campaign, and a storefront key and a member token of the same programme
    made = await create_campaign(gql, admin)
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    token = await token_for(gql, storefront, member.external_id)
    before = await stored(programme.id)
    for auth in (storefront, token):
        # when either creates, updates, activates or reads campaigns
        attempts = [
            await gql(CREATE, {"input": campaign_input()}, auth=auth),
            await gql(UPDATE, {"input": {"campaignCode": made["code"], "name": "x"}}, auth=auth),
            await gql(ACTIVATE, {"input": {"campaignCode": made["code"]}}, auth=auth),
            await gql(CAMPAIGNS, {"first": 10}, auth=auth),
            await gql(CAMPAIGN_BY_CODE, {"code": made["code"]}, auth=auth),
            await gql(CAMPAIGN_BY_ID, {"id": made["id"]}, auth=auth),
        ]
        # then each is a top-level FORBIDDEN
        for body in attempts:
            assert top_level_code(body) == "FORBIDDEN", body
    assert await stored(programme.id) == before
