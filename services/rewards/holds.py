"""Where a cash + points redemption meets the checkout hold that pays its points: every path
that closes such a hold without capturing it cancels the redemption and gives its stock back.

The checkout calls these with the member's row lock held and the hold locked and still open,
so each hold is closed once, and the redemption (REQUESTED, locked here) is cancelled once."""

from __future__ import annotations

from datetime import datetime

from db.models import Member, RewardRedemption
from db.repositories import reward_redemptions as repo
from db.repositories import rewards as reward_repo
from db.repositories.holds import Hold
from domain.events import EventType
from domain.rewards.redemption import RedemptionStatus, WholeHoldRequired
from services import events as event_service


async def _cancel(row: RewardRedemption, member: Member, reason: str, at: datetime) -> None:
    row.status, row.cancelled_at, row.cancel_reason = RedemptionStatus.CANCELLED.value, at, reason
    await repo.save(row, "status", "cancelled_at", "cancel_reason")
    await repo.give_back_stock(row.reward_id, row.quantity)
    reward = await reward_repo.get(row.programme_id, row.reward_id)
    await event_service.record(
        row.programme_id,
        EventType.REWARD_CANCELLED,
        {
            "redemptionId": row.id,
            "rewardCode": reward.code if reward is not None else None,
            "memberExternalId": member.external_id,
            "quantity": row.quantity,
            "points": row.points,
            "cash": row.cash,
            "status": row.status,
        },
        occurred_at=at,
        member_id=member.id,
    )


async def hold_closed(hold_id: int, member: Member, status: str, at: datetime) -> None:
    """The hold was released or lapsed uncaptured: its reward is no longer being bought."""
    row = await repo.requested_of_hold(hold_id)
    if row is not None:
        await _cancel(row, member, f"its hold was {status.lower()}", at)


async def order_closed(member: Member, order_ref: str, at: datetime) -> None:
    """The shop's order was cancelled or returned: the rewards it bought and not yet handed
    over are cancelled (its points came back with the order's own give-back)."""
    for row in await repo.requested_of_order(member.programme_id, member.id, order_ref):
        await _cancel(row, member, "its order was cancelled or returned", at)


def check_capture(held: Hold, amount: int) -> None:
    """A reward's hold is captured whole: a part would leave the reward paid short."""
    if held.for_reward and amount != held.amount:
        raise WholeHoldRequired(
            f"this hold pays for a reward: capture all {held.amount} points or release it",
            field="amount",
        )
