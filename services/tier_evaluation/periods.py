"""Tier periods: the job's decision at the end of a member's validity period — the tier is
kept (retention met in the period, and a new period starts) or dropped, dated at the period's
end. The caller holds the member's row lock.
"""

from __future__ import annotations

from datetime import datetime

from db import tier_cache
from db.models import Member, Programme
from domain.tier_rules import at_period_end, valid_until
from services.clock import zone_of
from services.tier_evaluation.changes import PERIOD_ENDED, change_tier
from services.tier_evaluation.measure import policy_of, qualifying_total, retention_total


async def judge_period(member: Member, programme: Programme, now: datetime) -> bool | None:
    """The job, one period: the member's validity period that ended (by `now`) is judged on
    activity up to its own end — the tier is kept (retention met in the period) or dropped,
    dated at the period's end. The caller holds the member's row lock. Returns whether the
    tier changed, or None when no period had ended."""
    end = member.tier_valid_until
    if end is None or end > now:
        return None
    tiers = await tier_cache.programme_tiers(programme.id)
    current = next((t for t in tiers if t.id == member.tier_id), None)
    if current is None:
        member.tier_valid_until = None
        await member.save(update_fields=["tier_valid_until"])
        return False
    policy = policy_of(programme)
    tz = zone_of(programme)
    period_total = await retention_total(member, policy, end=end, tz=tz)
    total = await qualifying_total(member, policy, end, tz=tz, until=end)
    kept = at_period_end(current, tiers, period_total=period_total, qualifying_total=total)
    if kept.id == current.id:
        member.tier_period_start = end
        # periods are counted from the tier change (not chained), so month ends hold
        member.tier_valid_until = valid_until(
            policy, now=end, tier_since=member.tier_since or end, tz=tz
        )
        await member.save(update_fields=["tier_period_start", "tier_valid_until"])
        return False
    await change_tier(
        member,
        kept,
        programme,
        reason=PERIOD_ENDED,
        total=period_total,
        at=end,
        tiers=tiers,
        counted_from=member.tier_period_start,
    )
    return True
