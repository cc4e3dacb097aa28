"""The catch-up run: every member with anything due by the programme's now, in id order. On
SQLite each member is caught up on its own (steps.catch_up). On PostgreSQL the members come in
batches of BATCH, each batch one transaction (run_batch, batch._Batch): the batch's rows are
locked and read in one statement, each member takes the same steps in the same time order as
steps.catch_up, and the results are written in a few statements — exactly the rows the
member-by-member path writes, each member's in the same order. A member with a hold lapsing,
or whose completion would reward an inviter (a pending referral), and such an inviter in the
batch, is caught up on its own after its batch commits, in id order as this path takes them.
A killed run leaves every batch done or untouched; the next run resumes after them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from functools import partial

from tortoise.transactions import in_transaction

from db import tier_cache
from db.connection import is_postgres
from db.models import Member, Order, Programme
from db.repositories import holds as hold_repo
from db.repositories import orders as order_repo
from db.repositories import points as points_repo
from db.repositories import tier_events as event_repo
from db.repositories.jobs import batch as jobs_batch
from domain.challenges import FactKind
from services.catch_up.batch import _Batch
from services.catch_up.steps import Done, catch_up
from services.challenges import progress as challenge_progress
from services.challenges.progress import Fact as ChallengeFact
from services.clock import now_of
from services.points import orders as order_service

BATCH = 500


async def run(programme: Programme, done: Done) -> None:
    """Everything due by the programme's now, for every member it is due for."""
    now = now_of(programme)
    if not is_postgres():
        async for member_id in _members_due(programme.id, now):
            await catch_up(programme, member_id, now, done)
        return
    after_id = 0
    while ids := await jobs_batch.members_due(programme.id, now, after_id=after_id, limit=BATCH):
        await run_batch(programme, ids, now, done)
        after_id = ids[-1]


async def run_batch(programme: Programme, member_ids: list[int], now: datetime, done: Done) -> None:
    """One batch (PostgreSQL), in one transaction: every member's due work in time order, as
    catch_up does it, the reads and writes shared by the batch (_Batch). Members with a hold
    lapsing, or whose completion can reward an inviter (a referral waiting for their first
    completed order), and such inviters in the batch, are caught up one by one after it, in
    id order."""
    one_by_one: list[int] = []
    async with in_transaction():
        members = await jobs_batch.lock_due(programme.id, member_ids, now)
        rewarding = {m.inviter_id for m in members if m.order_due and m.inviter_id is not None}
        batched: list[jobs_batch.DueMember] = []
        for member in members:
            if (
                member.hold_due
                or (member.order_due and member.inviter_id is not None)
                or member.id in rewarding
            ):
                one_by_one.append(member.id)
            else:
                batched.append(member)
        batch = _Batch(programme, now, done)
        await batch.run(batched)
        await _count_for_challenges(programme, batch.completed, batch.actor)
    for member_id in sorted(batch.tier_moved):
        await tier_cache.forget_member_tier(programme.id, member_id)
    for member_id in one_by_one:
        await catch_up(programme, member_id, now, done)


async def _members_due(programme_id: int, now: datetime) -> AsyncIterator[int]:
    """Members with anything due, in id order: the union of four indexed lists, read a page
    at a time; a page goes only as far as the shortest full list reaches, so none is skipped."""
    sources = (
        order_repo.members_with_orders_due,
        hold_repo.members_with_holds_lapsed,
        points_repo.members_with_expiry_due,
        event_repo.due_for_period_end,
    )
    after_id = 0
    while True:
        pages = [
            await source(programme_id, now, after_id=after_id, limit=BATCH) for source in sources
        ]
        found = sorted({member_id for page in pages for member_id in page})
        if not found:
            return
        reach = min((page[-1] for page in pages if len(page) == BATCH), default=found[-1])
        for member_id in found:
            if member_id > reach:
                break
            yield member_id
        after_id = reach


async def _count_for_challenges(
    programme: Programme, completed: list[tuple[int, datetime]], actor: str
) -> None:
    """The batch's completed orders, each counted for the challenges it moves, in the batch's
    transaction (its members' rows are locked by it, and written already): as _complete
    counts one. Nothing is read when no challenge of orders ran at any of their moments."""
    moments = [at for _, at in completed]
    if not moments or not await challenge_progress.orders_may_count(programme.id, moments):
        return
    for order_id, at in completed:
        order = await Order.get(id=order_id)
        member = await Member.get(id=order.member_id)
        spend = order_service.qualifying_spend(order, order.returned_amount)
        fact = ChallengeFact(FactKind.ORDER, order.order_ref, at, actor)
        await challenge_progress.count(
            programme,
            member,
            fact,
            lines=partial(order_repo.lines_of, order_id),
            spend=spend,
        )
