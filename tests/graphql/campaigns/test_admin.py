"""Admins write campaigns as data: create a draft, read it back, list and page them."""

from __future__ import annotations

from db.models import AuditEntry
from tests.graphql.campaigns.documents import CAMPAIGN_BY_ID, CAMPAIGNS, CREATE, NODE
from tests.graphql.campaigns.helpers import (
    activate,
    active_campaign,
    campaign_input,
    campaign_of,
    create_campaign,
    create_result,
    end,
    errors_of,
    pause,
    stored,
    update,
)
from tests.graphql.coupons.documents import RETIRE_TEMPLATE
from tests.graphql.coupons.helpers import create_template


async def test_a_created_campaign_is_a_draft_that_reads_back_every_field(gql, programme, admin):
    # given a coupon template and a campaign naming every part
    template = await create_template(gql, admin)
    given = campaign_input(
        name="Member day",
        description="The 8th of every month",
        stacking="EXCLUSIVE",
        priority=5,
        startsAt="2027-01-01T00:00:00+08:00",
        endsAt="2027-12-31T00:00:00+08:00",
        recurrence={"monthDays": [8], "weekdays": [], "dates": []},
        audience={
            "tiers": ["GOLD", "SILVER"],
            "segments": ["ACTIVE"],
            "joinedWithinDays": 365,
            "birthdayMonth": False,
        },
        conditions={
            "minSpend": 29_900,
            "categories": ["appliances"],
            "excludedPaymentMethods": ["GIFT_CARD"],
            "channels": ["ONLINE"],
        },
        effects={"multiplier": 20_000, "bonusPerOrder": 100, "couponTemplate": template["code"]},
        limits={
            "budget": 10_000,
            "memberCap": 2_000,
            "memberPeriodCap": 500,
            "capPeriod": "MONTH",
            "maxRewardedOrders": 3,
        },
    )
    # when
    body = await gql(CREATE, {"input": given}, auth=admin)
    # then it is a draft with what was sent
    result = body["data"]["createCampaign"]
    assert result["__typename"] == "CampaignSuccess", result
    made = result["campaign"]
    assert made["status"] == "DRAFT"
    assert (made["code"], made["name"], made["description"]) == (
        given["code"],
        "Member day",
        "The 8th of every month",
    )
    assert (made["stacking"], made["priority"], made["trigger"]) == ("EXCLUSIVE", 5, "ORDER")
    assert made["startsAt"].startswith("2026-12-31T16:00:00")
    assert made["recurrence"] == {"weekdays": [], "monthDays": [8], "dates": []}
    assert made["audience"] == {
        "tiers": ["GOLD", "SILVER"],
        "segments": ["ACTIVE"],
        "joinedWithinDays": 365,
        "nthOrder": None,
        "birthdayMonth": False,
    }
    assert made["conditions"] == {
        "minSpend": 29_900,
        "categories": ["appliances"],
        "skus": [],
        "excludedPaymentMethods": ["GIFT_CARD"],
        "channels": ["ONLINE"],
    }
    assert made["effects"] == {
        "multiplier": 20_000,
        "bonusPerOrder": 100,
        "bonusPerItem": 0,
        "couponTemplate": template["code"],
    }
    assert made["limits"] == given["limits"]
    assert (made["budgetSpent"], made["budgetLeft"]) == (0, 10_000)
    assert made["activatedAt"] is None and made["endedAt"] is None
    # and it reads back the same by code, by id and as a node
    assert {k: v for k, v in (await campaign_of(gql, admin, given["code"])).items()} | {
        "results": None
    } == made | {"results": None}
    by_id = await gql(CAMPAIGN_BY_ID, {"id": made["id"]}, auth=admin)
    assert by_id["data"]["campaign"] == made
    node = await gql(NODE, {"id": made["id"]}, auth=admin)
    assert node["data"]["node"] == {
        "__typename": "Campaign",
        "code": given["code"],
        "status": "DRAFT",
    }
    # and the change is in the audit trail, with the campaign after it
    entry = await AuditEntry.filter(programme_id=programme.id, operation="createCampaign").first()
    assert entry is not None and entry.outcome == "SUCCESS"
    assert entry.before is None and entry.after["code"] == given["code"]
    assert made["id"] in entry.target_ids


async def test_a_create_replayed_with_its_key_answers_the_same_campaign_once(gql, programme, admin):
    # given a create
    given = campaign_input()
    first = (await gql(CREATE, {"input": given}, auth=admin))["data"]["createCampaign"]
    # when it is sent again with the same key, and the key is sent with other input
    again = (await gql(CREATE, {"input": given}, auth=admin))["data"]["createCampaign"]
    other = await create_result(gql, admin, idempotencyKey=given["idempotencyKey"], name="Other")
    # then the replay answers the same campaign, the reuse is refused, and one row exists
    assert again == first
    assert errors_of(other) == [("idempotencyKey", "IDEMPOTENCY_KEY_REUSED")]
    assert len(await stored(programme.id)) == 1


async def test_a_code_already_used_in_the_programme_is_refused(gql, programme, admin):
    made = await create_campaign(gql, admin)
    before = await stored(programme.id)
    again = await create_result(gql, admin, code=made["code"])
    assert again["__typename"] == "CreateCampaignError"
    assert errors_of(again) == [("code", "ALREADY_EXISTS")]
    assert await stored(programme.id) == before


async def test_campaigns_page_forward_and_backward_and_filter_by_status(gql, programme, admin):
    # given five campaigns: two active, one paused, one ended, one draft
    codes = [(await create_campaign(gql, admin))["code"] for _ in range(2)]
    codes += [(await active_campaign(gql, admin))["code"] for _ in range(3)]
    assert (await pause(gql, admin, codes[2]))["__typename"] == "CampaignSuccess"
    assert (await end(gql, admin, codes[0]))["__typename"] == "CampaignSuccess"
    # when they are read two at a time
    seen, after, pages = [], None, 0
    while True:
        body = await gql(CAMPAIGNS, {"first": 2, "after": after}, auth=admin)
        page = body["data"]["campaigns"]
        seen += [e["node"]["code"] for e in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then every campaign comes once, oldest first
    assert seen == codes and pages == 3
    # and backward from the end
    body = await gql(CAMPAIGNS, {"last": 2}, auth=admin)
    assert [e["node"]["code"] for e in body["data"]["campaigns"]["edges"]] == codes[3:]
    assert body["data"]["campaigns"]["pageInfo"]["hasPreviousPage"] is True
    # and by status
    for status, wanted in (
        ("ACTIVE", codes[3:]),
        ("PAUSED", [codes[2]]),
        ("ENDED", [codes[0]]),
        ("DRAFT", [codes[1]]),
    ):
        body = await gql(CAMPAIGNS, {"first": 10, "status": status}, auth=admin)
        assert [e["node"]["code"] for e in body["data"]["campaigns"]["edges"]] == wanted, status


async def test_a_page_needs_first_or_last_and_a_cursor_of_its_own(gql, programme, admin):
    body = await gql(CAMPAIGNS, {}, auth=admin)
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "VALIDATION"
    body = await gql(CAMPAIGNS, {"first": 2, "after": "bm90LW91cnM="}, auth=admin)
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"


async def test_campaign_needs_an_id_or_a_code_and_is_null_for_an_unknown_one(gql, programme, admin):
    both = await gql('query { campaign(id: "Q2FtcGFpZ246MQ==", code: "X") { code } }', auth=admin)
    assert both["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert await campaign_of(gql, admin, "NO-SUCH") is None


async def test_every_campaign_change_is_audited_with_the_campaign_before_and_after(
    gql, programme, admin
):
    # given a draft, renamed, activated, and a pause of a draft refused
    code = (await create_campaign(gql, admin))["code"]
    assert (await update(gql, admin, code, name="Renamed"))["__typename"] == "CampaignSuccess"
    assert (await activate(gql, admin, code))["__typename"] == "CampaignSuccess"
    other = (await create_campaign(gql, admin))["code"]
    assert (await pause(gql, admin, other))["__typename"] == "PauseCampaignError"
    # then each left its row
    rows = {
        r.operation + (":" + r.outcome if r.outcome != "SUCCESS" else ""): r
        for r in await AuditEntry.filter(programme_id=programme.id).order_by("id")
    }
    renamed = rows["updateCampaign"]
    assert (renamed.before["name"], renamed.after["name"]) == ("Double points", "Renamed")
    activated = rows["activateCampaign"]
    assert (activated.before["status"], activated.after["status"]) == ("DRAFT", "ACTIVE")
    refused = rows["pauseCampaign:INVALID_TRANSITION"]
    assert refused.after is None


async def test_a_create_replayed_after_its_template_was_retired_still_answers_its_campaign(
    gql, programme, admin
):
    # given a campaign created with a coupon template, which is then retired
    template = await create_template(gql, admin)
    given = campaign_input(effects={"couponTemplate": template["code"]})
    first = (await gql(CREATE, {"input": given}, auth=admin))["data"]["createCampaign"]
    assert first["__typename"] == "CampaignSuccess", first
    retired = await gql(RETIRE_TEMPLATE, {"input": {"templateCode": template["code"]}}, auth=admin)
    assert retired["data"]["retireCouponTemplate"]["__typename"] == "CouponTemplateSuccess"
    # when the create is sent again with its key
    again = (await gql(CREATE, {"input": given}, auth=admin))["data"]["createCampaign"]
    # then it answers what it answered (the retirement is a check of the first request only)
    assert again == first
    assert len(await stored(programme.id)) == 1
