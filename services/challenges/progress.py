"""Challenge progress, moved by the transaction of the fact itself (issue 20.3): an order
completing (completeOrder and the job), a check-in, a review rewarded, a referral rewarded —
and moved back by a return of a counted order (or the reversal of a review or a referral).

Every caller holds the member's row lock, inside the fact's transaction: the member's facts are
then counted one after the other, so the progress row is made once, a fact is counted once (and
the contribution's unique index stands behind it), and the check "reached, not yet rewarded"
followed by the reward cannot pass twice — two orders completing at once give one reward.

A fact counts for an ACTIVE challenge whose window holds the fact's moment, for a member in
its audience. What it added is a contribution row; the progress is recomputed from them
(domain.challenges.current_of). Reaching the target grants the reward in the same
transaction (services.challenges.rewards)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from db import challenge_cache
from db.models import ChallengeProgress, Member, OrderLine, Programme
from db.repositories import challenges as challenge_repo
from domain.campaigns import in_audience
from domain.challenges import (
    GOALS_OF,
    Challenge,
    FactKind,
    Goal,
    KeptLine,
    counts_at,
    current_of,
    order_counted,
)
from services.campaigns.common import audience_facts
from services.challenges import rewards

Lines = Callable[[], Awaitable[Iterable[OrderLine]]]
_ORDER_GOALS = GOALS_OF[FactKind.ORDER]


@dataclass(frozen=True)
class Fact:
    """A fact that may count: what it is, its reference (an order id, a check-in's local date,
    a review's order/sku, the referred order id), its moment and who caused it."""

    kind: FactKind
    reference: str
    at: datetime
    actor: str


def kept_lines(lines: Iterable[OrderLine]) -> list[KeptLine]:
    return [KeptLine(line.category, line.quantity - line.returned_quantity) for line in lines]


async def _running(programme: Programme, member: Member, fact: Fact) -> list[Challenge]:
    """The challenges the fact counts for: running at its moment, its kind's goals, the member
    in their audience. Nothing is read beyond the cached list when none runs."""
    goals = GOALS_OF[fact.kind]
    found = [
        c
        for c in await challenge_cache.active_challenges(programme.id)
        if c.goal in goals and counts_at(c, fact.at)
    ]
    if not found:
        return []
    known = await audience_facts(programme, member, [c.audience for c in found], fact.at)
    return [c for c in found if in_audience(c.audience, known, fact.at, programme.timezone)]


async def count(
    programme: Programme,
    member: Member,
    fact: Fact,
    *,
    lines: Lines | None = None,
    spend: int = 0,
) -> None:
    """Count the fact for every challenge it moves. For an order, `lines` reads its lines (only
    when an order challenge runs) and `spend` is its qualifying spend."""
    running = await _running(programme, member, fact)
    if not running:
        return
    kept = kept_lines(await lines()) if lines is not None else []
    for challenge in running:
        if fact.kind is FactKind.ORDER:
            amount, categories = order_counted(challenge.goal, kept, spend)
        else:
            amount, categories = 1, frozenset[str]()
        if amount <= 0:
            continue
        progress = await challenge_repo.progress_of(
            programme.id, challenge.id, member.id, at=fact.at
        )
        if await challenge_repo.has_contribution(progress.id, fact.kind.value, fact.reference):
            continue
        await challenge_repo.add_contribution(
            progress.id,
            reference_type=fact.kind.value,
            reference=fact.reference,
            amount=amount,
            categories=sorted(categories),
            at=fact.at,
        )
        await _judge(programme, member, challenge, progress, fact)


async def _judge(
    programme: Programme,
    member: Member,
    challenge: Challenge,
    progress: ChallengeProgress,
    fact: Fact,
) -> None:
    """The progress recomputed; reached and not yet rewarded: rewarded now."""
    progress.current = current_of(challenge.goal, await challenge_repo.counted_of(progress.id))
    progress.updated_at = fact.at
    names = ["current"]
    if progress.current >= challenge.target and progress.completed_at is None:
        names += await rewards.grant(programme, member, challenge, progress, fact.at, fact.actor)
    await challenge_repo.save_progress(progress, *names)


async def recount(
    programme: Programme,
    member: Member,
    fact: Fact,
    *,
    lines: Iterable[OrderLine] = (),
    spend: int = 0,
) -> None:
    """A counted fact changed: an order's lines returned (`lines` as kept now, `spend` what the
    kept items count), or a review or referral reversed (it no longer counts at all). Each
    contribution becomes what the fact adds now; a progress that falls below its target loses
    its reward when the challenge says so (undoOnReturn), and may earn it again later."""
    found = await challenge_repo.contributions_of_fact(member.id, fact.kind.value, fact.reference)
    if not found:
        return
    challenges = await challenge_repo.get_many([c.progress.challenge_id for c in found])
    kept = kept_lines(lines)
    for contribution in found:
        challenge = challenge_repo.challenge_of(challenges[contribution.progress.challenge_id])
        if fact.kind is FactKind.ORDER and challenge.goal in _ORDER_GOALS:
            amount, categories = order_counted(challenge.goal, kept, spend)
        else:
            amount, categories = 0, frozenset()
        undone = amount <= 0
        if contribution.undone or (
            amount == contribution.amount and sorted(categories) == contribution.categories
        ):
            continue
        contribution.amount = amount if not undone else contribution.amount
        contribution.categories = sorted(categories) if not undone else contribution.categories
        contribution.undone = undone
        await challenge_repo.save_contribution(contribution)
        progress = contribution.progress
        progress.current = current_of(challenge.goal, await challenge_repo.counted_of(progress.id))
        progress.updated_at = fact.at
        names = ["current"]
        reached = progress.current >= challenge.target
        if progress.completed_at is not None and not reached and challenge.undo_on_return:
            names += await rewards.take_back(programme, member, challenge, progress, fact)
        await challenge_repo.save_progress(progress, *names)


async def orders_may_count(programme_id: int, moments: Iterable[datetime]) -> bool:
    """Whether a challenge of orders runs at any of `moments` (the job's question per batch,
    answered from the cached list)."""
    running = [
        c for c in await challenge_cache.active_challenges(programme_id) if c.goal in _ORDER_GOALS
    ]
    return any(counts_at(c, at) for c in running for at in moments)


__all__ = ["Fact", "FactKind", "Goal", "count", "orders_may_count", "recount"]
