"""Tier judgements in a catch-up batch, once the sums a member waited on are read: the upgrade
after an order's completion (qualifying_activity.record_activity's) and a validity period's end
(judge_period's: kept and renewed, or moved), each change booked as change_tier books it."""

from __future__ import annotations

from datetime import datetime

from db.repositories.jobs import tiers as jobs_tiers
from domain.events import EventType
from domain.tier_rules import after_activity, at_period_end, valid_until
from domain.tiers import TierView
from services.catch_up.batch_state import _Ask, _BatchBase
from services.catch_up.steps import Kind
from services.tier_evaluation import changes as tier_changes


class _Tiers(_BatchBase):
    """The batch's tier judgements (after ORDER_MATURES, at PERIOD_ENDS) on the sums read."""

    def _answer(self, ask: _Ask, sums: list[dict[str, int]]) -> None:
        member = ask.state.row
        metric = self.policy.metric.value
        if ask.kind is Kind.ORDER_MATURES:  # qualifying_activity.record_activity's upgrade
            total = sums[0][metric]
            current = self.by_id.get(member.tier_id)  # type: ignore[arg-type]
            earned = after_activity(current, self.tiers, total)
            if earned is not None and (current is None or earned.rank > current.rank):
                self._change(ask, current, earned, tier_changes.UPGRADE, total, ask.counted_from)
            return
        current = self.by_id[member.tier_id]  # type: ignore[index]
        period_total, total = sums[0][metric], sums[1][metric]
        kept = at_period_end(current, self.tiers, period_total=period_total, qualifying_total=total)
        end = ask.at
        if kept.id == current.id:
            member.tier_period_start = end
            # periods are counted from the tier change (not chained), so month ends hold
            member.tier_valid_until = valid_until(
                self.policy, now=end, tier_since=member.tier_since or end, tz=self.tz
            )
            return
        self._change(
            ask,
            current,
            kept,
            tier_changes.PERIOD_ENDED,
            period_total,
            member.tier_period_start,
        )
        self.done.tier_changes += 1

    def _change(
        self,
        ask: _Ask,
        current: TierView | None,
        tier: TierView,
        reason: str,
        total: int,
        counted_from: datetime | None,
    ) -> None:
        """tier_changes.change_tier (a period's end moves the member as it does)."""
        member, at = ask.state.row, ask.at
        previous = member.tier_id
        member.tier_id = tier.id
        member.tier_since = member.tier_period_start = at
        member.tier_event_id = ask.state.last_event_id
        member.tier_valid_until = tier_changes.new_valid_until(tier, self.tiers, self.programme, at)
        self.changes.append(
            jobs_tiers.TierChangeRow(
                member.id,
                previous,
                tier.id,
                reason,
                total,
                member.tier_event_id,
                counted_from,
                at,
            )
        )
        payload = tier_changes.changed_payload(
            member.external_id,
            current,
            tier,
            reason=reason,
            valid_until=member.tier_valid_until,
            total=total,
        )
        self._tell(member.id, EventType.TIER_CHANGED, at, payload)
        self.tier_moved.add(member.id)
