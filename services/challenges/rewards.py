"""A challenge's reward, granted when a progress reaches its target and taken back when a
return drops it below (undoOnReturn). Both run in the fact's transaction under the member's
row lock (services.challenges.progress), which is what makes the grant happen once: the
progress' `completed_at` is read and set under it.

Points are a ledger row of their own (reference type CHALLENGE, the reference the challenge's
code), a coupon comes from its template as a campaign's does (a template gone, retired or out
of stock gives none, the rest of the reward stands), a badge is the member's row for its code
(unique: one held per code, a revoked one awarded again)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from db.models import ChallengeProgress, Member, Programme
from db.repositories import challenges as challenge_repo
from db.repositories import points as points_repo
from domain.challenges import REFERENCE_TYPE, Badge, Challenge, describe_reward
from domain.coupons.wallet import Source
from domain.events import EventType, badge_payload, challenge_payload
from domain.points import TxKind
from services import events as event_service
from services.coupons.issuance import Holder, issue_for_campaign
from services.points.ledger import Entry, credit_available, expired_of, policy_of
from services.points.ledger import take_back as take_back_points

if TYPE_CHECKING:
    from services.challenges.progress import Fact


async def grant(
    programme: Programme,
    member: Member,
    challenge: Challenge,
    progress: ChallengeProgress,
    at: datetime,
    actor: str,
) -> list[str]:
    """Give the reward and mark the progress completed; the progress columns set (the caller
    saves them with its own)."""
    reward = challenge.reward
    progress.completed_at, progress.revoked_at = at, None
    progress.reward_transaction_id = progress.coupon_id = progress.badge_id = None
    if reward.points:
        entry = Entry(
            REFERENCE_TYPE, challenge.code, f"challenge {challenge.code} completed", actor, None, at
        )
        tx = await credit_available(member, entry, reward.points, TxKind.EARN, programme)
        progress.reward_transaction_id = tx.id
    if reward.coupon_template:
        progress.coupon_id = await issue_for_campaign(
            programme.id,
            Holder(member.id, member.external_id),
            reward.coupon_template,
            now=at,
            source=Source.CHALLENGE,
        )
    if reward.badge:
        progress.badge_id = await _award_badge(programme, member, challenge, reward.badge, at)
    await event_service.record(
        programme.id,
        EventType.CHALLENGE_COMPLETED,
        challenge_payload(
            external_id=member.external_id,
            code=challenge.code,
            name=challenge.name,
            goal=challenge.goal.value,
            target=challenge.target,
            reward=describe_reward(reward),
            points=reward.points,
        ),
        occurred_at=at,
        member_id=member.id,
    )
    return ["completed_at", "revoked_at", "reward_transaction_id", "coupon_id", "badge_id"]


async def _award_badge(
    programme: Programme, member: Member, challenge: Challenge, badge: Badge, at: datetime
) -> int | None:
    """The member's badge of this code: made, or a revoked one held again. One held already
    (another challenge gave it) stays as it is, and this challenge does not own it."""
    row = await challenge_repo.badge_of(member.id, badge.code)
    if row is not None and row.revoked_at is None:
        return None
    if row is None:
        row = await challenge_repo.insert_badge(
            programme_id=programme.id,
            member_id=member.id,
            code=badge.code,
            title=badge.title,
            image_url=badge.image_url,
            challenge_id=challenge.id,
            awarded_at=at,
        )
    else:
        row.title, row.image_url, row.challenge_id = badge.title, badge.image_url, challenge.id
        row.awarded_at, row.revoked_at = at, None
        await challenge_repo.save_badge(
            row, "title", "image_url", "challenge_id", "awarded_at", "revoked_at"
        )
    await event_service.record(
        programme.id,
        EventType.BADGE_AWARDED,
        badge_payload(
            external_id=member.external_id,
            code=badge.code,
            title=badge.title,
            image_url=badge.image_url,
            challenge=challenge.code,
        ),
        occurred_at=at,
        member_id=member.id,
    )
    return int(row.id)


async def take_back(
    programme: Programme,
    member: Member,
    challenge: Challenge,
    progress: ChallengeProgress,
    fact: Fact,
) -> list[str]:
    """The reward goes: its points as an order return takes them (what of them expired
    aside), its coupon ended if still unused, its badge revoked. The progress is no longer
    completed, and may be completed (and rewarded) again."""
    if progress.reward_transaction_id is not None:
        earned = await points_repo.get_transaction(programme.id, progress.reward_transaction_id)
        if earned is not None and await points_repo.reversal_of(earned.id) is None:
            entry = Entry(
                REFERENCE_TYPE,
                earned.reference,
                f"challenge {challenge.code} undone by a return",
                fact.actor,
                None,
                fact.at,
            )
            amount = earned.amount - await expired_of(earned)
            await take_back_points(
                member, entry, earned, amount, negative=policy_of(programme).negative_policy
            )
    if progress.coupon_id is not None:
        await challenge_repo.void_unused_coupon(progress.coupon_id, fact.at)
    if progress.badge_id is not None:
        await challenge_repo.revoke_badge(progress.badge_id, challenge.id, fact.at)
    progress.completed_at, progress.revoked_at = None, fact.at
    progress.reward_transaction_id = progress.coupon_id = progress.badge_id = None
    return ["completed_at", "revoked_at", "reward_transaction_id", "coupon_id", "badge_id"]
