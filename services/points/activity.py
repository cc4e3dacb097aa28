"""Points for activity: daily check-in with a streak bonus, reviews, referrals."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError

from db import tier_cache
from db.connection import REFERRALS_LOCK, is_unique_violation, serialise
from db.models import Member, Order, Programme, Referral
from db.repositories import activity as activity_repo
from db.repositories import orders as order_repo
from db.repositories import points as points_repo
from db.repositories import programmes as programme_repo
from domain.abuse import Source
from domain.auth import Principal
from domain.campaigns import Trigger
from domain.challenges import FactKind
from domain.errors import Collector, DomainError, ErrorCode, NotFound, invalid
from domain.events import EventType, referral_payload
from domain.idempotency import check_key
from domain.members import check_external_id
from domain.points import PointsPolicy, TxKind, check_order_ref, check_sku
from services import abuse, tier_evaluation
from services import events as event_service
from services import members as member_service
from services.campaigns.facts import Fact, FactAward, reward_fact, take_back_fact
from services.challenges import progress as challenge_progress
from services.challenges.progress import Fact as ChallengeFact
from services.clock import now_of
from services.idempotency import run_once
from services.points import expiry
from services.points.ledger import (
    Entry,
    actor_of,
    credit_available,
    expired_of,
    policy_of,
    take_back,
)
from services.points.spending import locked_member


class AlreadyCheckedIn(DomainError):
    code = ErrorCode.ALREADY_CHECKED_IN


class AlreadyReviewed(DomainError):
    code = ErrorCode.ALREADY_REVIEWED


class SelfReferral(DomainError):
    code = ErrorCode.SELF_REFERRAL


class ReferralCycle(DomainError):
    code = ErrorCode.REFERRAL_CYCLE


class AlreadyReferred(DomainError):
    code = ErrorCode.ALREADY_REFERRED


class NotEligible(DomainError):
    code = ErrorCode.NOT_ELIGIBLE


def streak_points(streak: int, policy: PointsPolicy) -> int:
    bonus = policy.streak_bonus if policy.streak_every and streak % policy.streak_every == 0 else 0
    return policy.checkin_points + bonus


def _key_errors(key: str, external_id: str | None) -> None:
    errors = Collector()
    check_key(errors, key)
    if external_id is not None:
        check_external_id(errors, external_id)
    errors.raise_if_any()


@dataclass(frozen=True)
class CheckedIn:
    member: Member
    streak: int
    points: int  # the check-in's own points
    campaigns: tuple[FactAward, ...]  # what campaigns added, each on its own ledger row

    @property
    def campaign_points(self) -> int:
        return sum(c.points for c in self.campaigns)


async def check_in(
    principal: Principal, *, member_external_id: str | None, idempotency_key: str
) -> CheckedIn:
    """One per member per local day: the unique index decides, so twenty parallel check-ins
    credit once (and their campaigns reward once)."""
    _key_errors(idempotency_key, member_external_id)

    written: list[Member] = []

    async def act() -> dict[str, Any]:
        programme = await programme_repo.get(principal.programme_id)
        # The member's lock first: the streak read below is then the last word on it.
        member = await locked_member(principal, programme, member_external_id)
        now = now_of(programme)
        today = now.astimezone(ZoneInfo(programme.timezone)).date()
        yesterday = await activity_repo.streak_on(member.id, today - timedelta(days=1))
        streak = yesterday + 1 if yesterday is not None else 1
        policy = policy_of(programme)
        points = streak_points(streak, policy)
        try:
            await activity_repo.add_check_in(
                programme_id=programme.id,
                member_id=member.id,
                day=today,
                streak=streak,
                points=points,
            )
        except IntegrityError as error:
            if not is_unique_violation(error):
                raise
            raise AlreadyCheckedIn(f"already checked in on {today.isoformat()}") from error
        entry = Entry(
            "CHECK_IN",
            today.isoformat(),
            f"daily check-in, day {streak}",
            actor_of(principal),
            idempotency_key,
            now,
        )
        points, awards = await _earn(programme, member, Source.CHECK_IN, points, entry)
        await _count(programme, member, FactKind.CHECK_IN, entry)
        written.append(member)
        return {
            "memberId": member.id,
            "streak": streak,
            "points": points,
            "campaigns": [asdict(a) for a in awards],
        }

    payload = {"member": member_external_id}
    result = await run_once(
        principal, key=idempotency_key, operation="checkIn", payload=payload, action=act
    )
    if written and written[0].id == int(result["memberId"]):
        member = written[0]  # as the check-in left it: no read back
    else:
        member = await Member.get(id=int(result["memberId"]))
    return CheckedIn(
        member,
        int(result["streak"]),
        int(result["points"]),
        tuple(FactAward(**a) for a in result.get("campaigns", [])),
    )


_TRIGGERS = {
    Source.CHECK_IN: Trigger.CHECK_IN,
    Source.REVIEW: Trigger.REVIEW,
    Source.REFERRAL: Trigger.REFERRAL,
}


async def _earn(
    programme: Programme, member: Member, source: Source, points: int, entry: Entry
) -> tuple[int, tuple[FactAward, ...]]:
    """An activity's points, as far as the abuse caps let them through now (the rest waits on
    the member's flag), then what its campaigns add, judged on the points credited: neither a
    multiplier nor a bonus pays for earning the caps held back in full."""
    credit = await abuse.capped(programme, member, source, points, entry.at)
    if credit:
        await credit_available(member, entry, credit, TxKind.EARN, programme)
    if points and not credit:
        return 0, ()
    fact = Fact(
        trigger=_TRIGGERS[source],
        points=credit,
        reference_type=entry.reference_type,
        reference=entry.reference,
        at=entry.at,
        actor=entry.actor,
        idempotency_key=entry.idempotency_key,
    )
    return credit, await reward_fact(programme, member, fact)


async def _count(programme: Programme, member: Member, kind: FactKind, entry: Entry) -> None:
    """The fact, for the challenges it moves (its ledger row's reference names it)."""
    fact = ChallengeFact(kind, entry.reference, entry.at, entry.actor)
    await challenge_progress.count(programme, member, fact)


async def reward_review(
    principal: Principal, *, order_ref: str, sku: str, idempotency_key: str
) -> Member:
    """Points for reviewing a purchased line, once per order line."""
    errors = Collector()
    check_key(errors, idempotency_key)
    check_order_ref(errors, order_ref)
    check_sku(errors, sku)
    errors.raise_if_any()

    async def act() -> dict[str, Any]:
        programme = await programme_repo.get(principal.programme_id)
        found = await order_repo.get(programme.id, order_ref)
        if found is None:
            raise NotFound(f"no order {order_ref}", field="orderId")
        # Decided under the member's lock, which a return of the order holds too: a review
        # racing the return of its line sees the line as the return left it, so it is never
        # paid for an item on its way back (nor reversed before it was paid).
        member = await expiry.lock(programme, found.member_id)
        order = await order_repo.get(programme.id, order_ref)
        assert order is not None
        line = next((x for x in await order_repo.lines_of(order.id) if x.sku == sku), None)
        if line is None:
            raise NotFound(f"order {order_ref} has no line {sku}", field="sku")
        if order.status != "COMPLETED" or line.returned_quantity == line.quantity:
            # Points for reviewing what was then cancelled or sent back would be farmed.
            raise NotEligible(
                "only items of a completed order, not returned, earn review points",
                field="orderId",
            )
        now = now_of(programme)
        try:
            await activity_repo.review(programme_id=programme.id, line_id=line.id, at=now)
        except IntegrityError as error:
            if not is_unique_violation(error):
                raise
            raise AlreadyReviewed("this order line was reviewed already", field="sku") from error
        policy = policy_of(programme)
        entry = Entry(
            "REVIEW",
            review_reference(order_ref, sku),
            "product review",
            actor_of(principal),
            idempotency_key,
            now,
        )
        await _earn(programme, member, Source.REVIEW, policy.review_points, entry)
        await _count(programme, member, FactKind.REVIEW, entry)
        # reviews grow the GROWTH metric of tiers too (as spend does, 1 per yuan)
        await tier_evaluation.record_activity(
            member,
            programme,
            at=now,
            spend=0,
            orders=0,
            growth=policy.review_points,
            reference=review_reference(order_ref, sku),
        )
        return {"memberId": member.id}

    payload = {"orderId": order_ref, "sku": sku}
    result = await run_once(
        principal, key=idempotency_key, operation="rewardReview", payload=payload, action=act
    )
    member = await Member.get(id=int(result["memberId"]))
    await tier_cache.forget_member_tier(member.programme_id, member.id)  # growth may move it
    return member


def review_reference(order_ref: str, sku: str) -> str:
    return f"{order_ref}/{sku}"


async def reverse_review(
    principal: Principal,
    member: Member,
    order: Order,
    sku: str,
    policy: PointsPolicy,
    entry: Entry,
) -> None:
    """The reviewed line came back in full: its review reward goes too, with what campaigns
    added to it."""
    reference = review_reference(order.order_ref, sku)
    for reward in await points_repo.transactions_of_reference(
        order.programme_id,
        member.id,
        kind=TxKind.EARN.value,
        reference_type="REVIEW",
        reference=reference,
    ):
        if await points_repo.reversal_of(reward.id) is None:
            taken_back = Entry(
                "REVIEW",
                reference,
                "reviewed item returned",
                entry.actor,
                entry.idempotency_key,
                entry.at,
            )
            await take_back(
                member,
                taken_back,
                reward,
                reward.amount - await expired_of(reward),
                negative=policy.negative_policy,
            )
            await tier_evaluation.record_return(
                member,
                await programme_repo.get(order.programme_id),
                completed_at=reward.created_at,
                spend=0,
                orders=0,
                growth=-reward.amount,
                reference=reference,
            )
    fact = ChallengeFact(FactKind.REVIEW, reference, entry.at, entry.actor)
    await challenge_progress.recount(await programme_repo.get(order.programme_id), member, fact)
    await take_back_fact(
        member,
        reference_type="REVIEW",
        reference=reference,
        entry=replace(entry, reason="reviewed item returned"),
        negative=policy.negative_policy,
    )


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
