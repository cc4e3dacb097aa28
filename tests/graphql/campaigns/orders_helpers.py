"""Campaigns as rows (the admin API is another change's) and the order documents of the
campaign order tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from db.campaign_cache import forget_campaigns
from db.models import Campaign as CampaignRow
from db.models import Programme
from domain.campaigns import (
    Audience,
    Campaign,
    CampaignStatus,
    Conditions,
    Effects,
    Limits,
    Schedule,
    Stacking,
    Trigger,
    rule_of,
)
from tests.graphql.points.documents import ERRORS

ORDER_FIELDS = """
  id orderId status amount points pointsReversed channel
  lines {
    sku quantity points pointsReversed returnedQuantity
    rules { rule points campaignId campaignCode }
  }
"""
RECORD = f"""
mutation ($input: RecordOrderInput!) {{
  recordOrder(input: $input) {{
    __typename
    ... on OrderSuccess {{ order {{ {ORDER_FIELDS} }} }}
    ... on RecordOrderError {{ {ERRORS} }}
  }}
}}
"""
PREVIEW = """
query ($input: PreviewOrderInput!) {
  previewOrderPoints(input: $input) {
    total amount
    lines { sku quantity amount points rules { rule points campaignId campaignCode } }
    campaigns { campaignId code applied points capped couponTemplate notApplied }
  }
}
"""
RETURN = f"""
mutation ($input: ReturnOrderLinesInput!) {{
  returnOrderLines(input: $input) {{
    __typename
    ... on OrderSuccess {{ order {{ {ORDER_FIELDS} }} }}
    ... on ReturnOrderLinesError {{ {ERRORS} }}
  }}
}}
"""
CANCEL = f"""
mutation ($input: OrderActionInput!) {{
  cancelOrder(input: $input) {{
    __typename
    ... on OrderSuccess {{ order {{ {ORDER_FIELDS} }} }}
    ... on CancelOrderError {{ {ERRORS} }}
  }}
}}
"""


async def make_campaign(
    programme: Programme,
    now: datetime,
    *,
    code: str = "DOUBLE",
    budget: int | None = None,
    stacking: Stacking = Stacking.STACKABLE,
    priority: int = 0,
    schedule: Schedule | None = None,
    audience: Audience = Audience(),
    conditions: Conditions = Conditions(),
    effects: Effects = Effects(multiplier=20_000),
    limits: Limits = Limits(),
) -> CampaignRow:
    """An ACTIVE order campaign (double points unless told), running from a day before `now`
    for ten days unless a schedule is given; the programme's cache of campaigns forgotten."""
    schedule = schedule or Schedule(now - timedelta(days=1), now + timedelta(days=10))
    campaign = Campaign(
        id=0,
        code=code,
        name=f"Campaign {code}",
        status=CampaignStatus.ACTIVE,
        trigger=Trigger.ORDER,
        schedule=schedule,
        audience=audience,
        conditions=conditions,
        effects=effects,
        limits=Limits(
            budget=budget,
            member_cap=limits.member_cap,
            member_period_cap=limits.member_period_cap,
            cap_period=limits.cap_period,
            max_rewarded_orders=limits.max_rewarded_orders,
        ),
        stacking=stacking,
        priority=priority,
    )
    row = await CampaignRow.create(
        programme_id=programme.id,
        code=code,
        name=campaign.name,
        status=campaign.status.value,
        trigger=campaign.trigger.value,
        stacking=stacking.value,
        priority=priority,
        starts_at=schedule.starts_at,
        ends_at=schedule.ends_at,
        rule=rule_of(campaign),
        budget=budget,
        budget_spent=0,
        created_at=now,
        updated_at=now,
        activated_at=now,
    )
    await forget_campaigns(programme.id)
    return row


async def spent_of(campaign: CampaignRow) -> int:
    await campaign.refresh_from_db(fields=["budget_spent"])
    return int(campaign.budget_spent)


def campaign_rules(order: dict[str, Any]) -> list[tuple[str, int, str]]:
    """(sku, points, campaign code) of every CAMPAIGN rule of the order's lines."""
    return [
        (line["sku"], rule["points"], rule["campaignCode"])
        for line in order["lines"]
        for rule in line["rules"]
        if rule["rule"] == "CAMPAIGN"
    ]
