"""Campaigns (DESIGN.md §8b): time-boxed earning rules kept as data, judged by a pure function.

A campaign says when it runs (a window, optionally narrowed to weekdays, days of the month or
dates, read in the programme's time zone at the moment of the fact: an order's `placedAt`),
whom it rewards, on which trigger, under which conditions, with which effects and limits.
`evaluate` takes the active campaigns, one order (or one other fact), what is known of the
member and of each campaign's budget and the member's use of it, and returns each campaign's
points per line, or why it did not apply. The service books exactly what it returns and the
preview shows it, so the two cannot disagree.

Stacking: a STACKABLE campaign adds to the others; an EXCLUSIVE one applies alone. An order gets
either the one exclusive campaign worth most to the member (ties: higher priority, then lower
id) or all stackable ones together, whichever is worth more (a tie goes to the exclusive one).

Limits: a budget is a campaign's total of points net of what returns and cancellations took
back; a campaign applies to an order only if its whole contribution fits what is left (the
service spends it by a conditional UPDATE, and judges again without the campaign when that
UPDATE finds the budget gone). A member's caps (per campaign, per period) clamp the
contribution; the most rewarded orders per member stops it. However many campaigns stack, a
fact with its campaigns earns at most MAX_POINTS (what one operation books): the campaigns
that would go beyond are cut (`capped`), in priority order, so a preview never answers more
than a 32-bit Int and an order is never refused for what its campaigns add.
"""

from __future__ import annotations

from domain.campaigns.judging import (
    could_reward,
    evaluate,
    in_audience,
    in_schedule,
    kept_within,
    may_apply,
    period_bounds,
)
from domain.campaigns.model import (
    Audience,
    Campaign,
    CampaignPoints,
    CampaignStatus,
    CapPeriod,
    Channel,
    Conditions,
    Contribution,
    Effects,
    Judging,
    Limits,
    LineShare,
    MemberFacts,
    NotApplied,
    OrderFact,
    OtherFact,
    Schedule,
    Skipped,
    Stacking,
    Trigger,
    Usage,
)
from domain.campaigns.stored import (
    audience_of_rule,
    audience_rule,
    campaign_of,
    rule_of,
)
from domain.campaigns.validation import (
    MAX_BONUS,
    MAX_LIST,
    MAX_MULTIPLIER,
    MAX_PRIORITY,
    MAX_WINDOW,
    check_audience,
    validate_campaign,
)

__all__ = [
    "MAX_BONUS",
    "MAX_LIST",
    "MAX_MULTIPLIER",
    "MAX_PRIORITY",
    "MAX_WINDOW",
    "Audience",
    "Campaign",
    "CampaignPoints",
    "CampaignStatus",
    "CapPeriod",
    "Channel",
    "Conditions",
    "Contribution",
    "Effects",
    "Judging",
    "Limits",
    "LineShare",
    "MemberFacts",
    "NotApplied",
    "OrderFact",
    "OtherFact",
    "Schedule",
    "Skipped",
    "Stacking",
    "Trigger",
    "Usage",
    "audience_of_rule",
    "audience_rule",
    "campaign_of",
    "check_audience",
    "could_reward",
    "evaluate",
    "in_audience",
    "in_schedule",
    "kept_within",
    "may_apply",
    "period_bounds",
    "rule_of",
    "validate_campaign",
]
