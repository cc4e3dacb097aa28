"""Referrals: invite codes, recording who invited a member (never themselves, twice, or in a
loop), rewarding the inviter on the invitee's first completed order, and taking that reward
back when the order is returned in full.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from db.connection import REFERRALS_LOCK, is_unique_violation, serialise
from db.models import Member, Order, Programme, Referral
from db.repositories import activity as activity_repo
from db.repositories import orders as order_repo
from db.repositories import points as points_repo
from db.repositories import programmes as programme_repo
from domain.abuse import Source
from domain.auth import Principal
from domain.challenges import FactKind
from domain.errors import DomainError, ErrorCode, NotFound, invalid
from domain.events import EventType, referral_payload
from domain.points import TxKind
from services import abuse
from services import events as event_service
from services import members as member_service
from services.campaigns.facts import take_back_fact
from services.challenges import progress as challenge_progress
from services.challenges.progress import Fact as ChallengeFact
from services.clock import now_of
from services.idempotency import run_once
from services.points import expiry
from services.points.activity.credits import NotEligible, _count, _earn, _key_errors
from services.points.ledger import Entry, actor_of, expired_of, policy_of, take_back


class SelfReferral(DomainError):
    code = ErrorCode.SELF_REFERRAL


class ReferralCycle(DomainError):
    code = ErrorCode.REFERRAL_CYCLE


class AlreadyReferred(DomainError):
    code = ErrorCode.ALREADY_REFERRED


async def invite_code(principal: Principal, member: Member) -> str:
    """Members get a code when they register; one registered before that gets it now."""
    return await member_service.give_invite_code(member)


async def accept_referral(
    principal: Principal, *, invitee_external_id: str, invite_code: str, idempotency_key: str
) -> Member:
    """Record who invited a member. Refused: yourself, twice, and any loop (A->B->A)."""
    _key_errors(idempotency_key, invitee_external_id)
    if not (1 <= len(invite_code) <= 16 and invite_code.isprintable()):
        raise invalid("inviteCode", "is not an invite code")

    async def act() -> dict[str, Any]:
        programme = await programme_repo.get(principal.programme_id)
        invitee = await member_service.target(principal, invitee_external_id)
        inviter = await activity_repo.member_by_invite_code(
            programme.id, invite_code.strip().upper()
        )
        if inviter is None:
            raise NotFound("no member has this invite code", field="inviteCode")
        if inviter.id == invitee.id:
            raise SelfReferral("a member cannot invite themselves", field="inviteCode")
        # One referral write per programme at a time: the loop check below reads the chain,
        # and two writes closing a loop from both ends must not both pass it.
        await serialise(REFERRALS_LOCK, programme.id)
        await points_repo.lock_members(programme.id, {inviter.id, invitee.id})
        if await activity_repo.referral_of(invitee.id) is not None:
            raise AlreadyReferred("this member was invited already", field="inviteeExternalId")
        if await order_repo.completed_count(invitee.id):
            raise NotEligible(
                "only a member with no completed order can be invited", field="inviteeExternalId"
            )
        # Walk up the inviter's chain: meeting the invitee there would close a loop.
        seen, current = {inviter.id}, await activity_repo.referral_of(inviter.id)
        while current is not None:
            if current.inviter_id == invitee.id:
                raise ReferralCycle(
                    "the invitee is already up this member's referral chain", field="inviteCode"
                )
            if current.inviter_id in seen:
                break
            seen.add(current.inviter_id)
            current = await activity_repo.referral_of(current.inviter_id)
        try:
            await activity_repo.create_referral(
                programme_id=programme.id,
                inviter_id=inviter.id,
                invitee_id=invitee.id,
                at=now_of(programme),
            )
        except IntegrityError as error:
            if not is_unique_violation(error):
                raise
            raise AlreadyReferred(
                "this member was invited already", field="inviteeExternalId"
            ) from error
        await abuse.check_referrals(programme, inviter, now_of(programme))
        return {"memberId": invitee.id}

    payload = {"invitee": invitee_external_id, "code": invite_code}
    result = await run_once(
        principal, key=idempotency_key, operation="acceptReferral", payload=payload, action=act
    )
    return await Member.get(id=int(result["memberId"]))


async def referral_of_member(member_id: int) -> Referral | None:
    return await activity_repo.referral_of(member_id)


async def reward_referral(
    principal: Principal, invitee: Member, order: Order, programme: Programme, now: datetime
) -> None:
    """Called inside completeOrder: the invitee's first completed order rewards the inviter."""
    policy = policy_of(programme)
    referral = await activity_repo.referral_of(invitee.id)
    if referral is None or referral.status != "PENDING" or policy.referral_points <= 0:
        return
    # locked already, with the invitee, by the order's path (both in id order)
    inviter = await expiry.lock(programme, referral.inviter_id, at=now)
    entry = Entry(
        "REFERRAL",
        order.order_ref,
        "invited member's first order completed",
        actor_of(principal),
        None,
        now,
    )
    await _earn(programme, inviter, Source.REFERRAL, policy.referral_points, entry)
    await _count(programme, inviter, FactKind.REFERRAL, entry)
    referral.status, referral.order_id = "REWARDED", order.id
    await activity_repo.save_referral(referral, "status", "order_id")
    await event_service.record(
        programme.id,
        EventType.REFERRAL_REWARDED,
        referral_payload(
            inviter_external_id=inviter.external_id,
            invitee_external_id=invitee.external_id,
            points=policy.referral_points,
            order_ref=order.order_ref,
        ),
        occurred_at=now,
        member_id=inviter.id,
    )


async def reverse_referral(
    principal: Principal, order: Order, programme: Programme, entry: Entry
) -> None:
    """Called when that order is returned in full: the inviter's reward is taken back, with
    what campaigns added to it (but not what of either already expired)."""
    referral = await activity_repo.referral_for_order(order.id)
    if referral is None or referral.status != "REWARDED":
        return
    policy = policy_of(programme)
    inviter = await expiry.lock(programme, referral.inviter_id, at=entry.at)
    rewards = await points_repo.transactions_of_reference(
        order.programme_id,
        inviter.id,
        kind=TxKind.EARN.value,
        reference_type="REFERRAL",
        reference=order.order_ref,
    )
    for reward in rewards:
        await take_back(
            inviter,
            Entry(
                "REFERRAL",
                order.order_ref,
                "invited member's order returned",
                entry.actor,
                entry.idempotency_key,
                entry.at,
            ),
            reward,
            reward.amount - await expired_of(reward),
            negative=policy.negative_policy,
        )
    await take_back_fact(
        inviter,
        reference_type="REFERRAL",
        reference=order.order_ref,
        entry=replace(entry, reason="invited member's order returned"),
        negative=policy.negative_policy,
    )
    fact = ChallengeFact(FactKind.REFERRAL, order.order_ref, entry.at, entry.actor)
    await challenge_progress.recount(programme, inviter, fact)
    referral.status = "REVERSED"
    await activity_repo.save_referral(referral, "status")
