"""Review points: a reward for reviewing a line of a completed order, once per order line,
which also grows the GROWTH tier metric; and its reversal when the reviewed line comes back.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tortoise.exceptions import IntegrityError

from db import tier_cache
from db.connection import is_unique_violation
from db.models import Member, Order
from db.repositories import activity as activity_repo
from db.repositories import orders as order_repo
from db.repositories import points as points_repo
from db.repositories import programmes as programme_repo
from domain.abuse import Source
from domain.auth import Principal
from domain.challenges import FactKind
from domain.errors import Collector, DomainError, ErrorCode, NotFound
from domain.idempotency import check_key
from domain.points import PointsPolicy, TxKind, check_order_ref, check_sku
from services.campaigns.facts import take_back_fact
from services.challenges import progress as challenge_progress
from services.challenges.progress import Fact as ChallengeFact
from services.clock import now_of
from services.idempotency import run_once
from services.points import expiry
from services.points.activity.credits import NotEligible, _count, _earn
from services.points.ledger import Entry, actor_of, expired_of, policy_of, take_back
from services.tier_evaluation import qualifying_activity


class AlreadyReviewed(DomainError):
    code = ErrorCode.ALREADY_REVIEWED


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
        await qualifying_activity.record_activity(
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
            await qualifying_activity.record_return(
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
