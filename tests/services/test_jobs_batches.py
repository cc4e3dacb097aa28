"""run-jobs in batches (PostgreSQL): the batch path writes exactly what the member-by-member
path writes (members, tier history, events, ledger), and a run that fails part-way leaves
whole batches done or untouched, so the next run finishes with the same result as one run
that was never interrupted — no member judged twice, no order completed twice, no points
expired twice."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from db.challenge_cache import active_challenges
from db.connection import is_postgres
from db.models import (
    Event,
    LotMovement,
    Member,
    Order,
    PointLot,
    PointTransaction,
    Programme,
    QualifyingEvent,
    Referral,
    Tier,
    TierChange,
)
from db.repositories.jobs import ledger as jobs_ledger
from db.repositories.jobs import orders as jobs_orders
from db.repositories.jobs import tiers as jobs_tiers
from domain.points import ExpiryPolicy
from domain.tier_rules import Window
from domain.tiers import TierDraft
from services import tier_policy
from services import tiers as tier_service
from services.catch_up import runner
from services.catch_up.steps import Done
from services.points import admin, holds
from tests.fixtures.factories import admin_of, create_member, create_programme
from tests.fixtures.points import advance, line, place_order, run_jobs, staff
from tests.services.test_points_ledger import set_policy
from tests.services.test_points_timeline import set_clock

pytestmark = pytest.mark.asyncio

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2027, 1, 1, 9, 0, tzinfo=SHANGHAI)
SEEDED = 23  # members whose tier history is written straight into the tables
SHOPPERS = 6  # members who shop through the services: orders mature, points expire


@pytest.fixture(autouse=True)
async def postgres_only() -> None:
    if not is_postgres():
        pytest.skip("the batch path is PostgreSQL's; SQLite runs member by member")


async def world(window: Window, expiry: ExpiryPolicy = ExpiryPolicy.LOTS) -> Programme:
    """A programme at day 800 whose jobs last ran on day 100: tier periods ended once or
    several times (kept, dropped, on the boundary of a change), orders past their window,
    points past their expiry, a tier no longer on the ladder."""
    programme = await create_programme()
    for rank, (code, entry, retention) in enumerate(
        [("BRONZE", 0, None), ("SILVER", 10_000, 5_000), ("GOLD", 50_000, 30_000)]
    ):
        await tier_service.upsert_tier(
            admin_of(programme),
            TierDraft(code, code.title(), rank, entry, retention),
            idempotency_key=uuid.uuid4().hex,
        )
    await tier_policy.change(
        admin_of(programme),
        {"window": window, "window_months": 6, "validity_months": 6, "reset_on_change": True},
        idempotency_key=uuid.uuid4().hex,
    )
    await set_policy(programme, expiry_policy=expiry, expiry_months=3)
    await set_clock(programme, START)
    tiers = {t.code: t.id for t in await Tier.filter(programme_id=programme.id)}
    shoppers = [
        await create_member(
            programme, external_id=f"s{n}", display_name=f"s{n}", email=f"s{n}@example.com"
        )
        for n in range(SHOPPERS)
    ]
    for n, member in enumerate(shoppers):
        await place_order(programme, member, line("a", 20_000 * (n + 1)), order_ref=f"s{n}-a")
    await advance(programme, days=100)
    await run_jobs(programme)  # matured, upgraded, earned lots
    for n, member in enumerate(shoppers):
        if n % 2:
            await place_order(programme, member, line("b", 7_000 * n), order_ref=f"s{n}-b")
    seeded = [
        await create_member(
            programme, external_id=f"t{n}", display_name=f"t{n}", email=f"t{n}@example.com"
        )
        for n in range(SEEDED)
    ]
    for n, member in enumerate(seeded):
        if n % 2 == 0:  # points that expire between two of its period ends
            await admin.grant(
                admin_of(programme),
                member_external_ids=[member.external_id],
                amount=100 + n,
                reason="earned",
                idempotency_key=f"grant-{n}",  # the reference: the same in both worlds
            )
        since = START + timedelta(days=3 * n)
        ended = 6 if n % 4 else 1  # months since the tier change when last judged
        tier = ["SILVER", "GOLD"][n % 2]
        spend = [0, 4_000, 6_000, 31_000, 60_000][n % 5]
        # an event dated at the change, booked before it (it caused the change)
        cause = await QualifyingEvent.create(
            programme_id=programme.id,
            member_id=member.id,
            at=since,
            booked_at=since,
            spend=spend,
            orders=1,
            growth=0,
            reference=f"t{n}-cause",
        )
        if n % 3 == 0:  # and one booked after it at that instant, which counts
            await QualifyingEvent.create(
                programme_id=programme.id,
                member_id=member.id,
                at=since,
                booked_at=since + timedelta(hours=1),
                spend=spend // 2,
                orders=1,
                growth=0,
                reference=f"t{n}-same-instant",
            )
        await QualifyingEvent.create(
            programme_id=programme.id,
            member_id=member.id,
            at=since + timedelta(days=40 + n),
            booked_at=since + timedelta(days=40 + n),
            spend=spend,
            orders=1,
            growth=0,
            reference=f"t{n}-later",
        )
        await Member.filter(id=member.id).update(
            tier_id=tiers[tier] if n != 7 else None,
            tier_since=since,
            tier_period_start=since,
            tier_valid_until=since + timedelta(days=30 * ended),
            tier_event_id=cause.id,
        )
    # Orders maturing between the expiries and period ends above, several per member; a hold
    # that lapses and referrals waiting for a first completion (those go member by member).
    await holds.hold(
        staff(programme),
        member_external_id="s3",
        amount=50,
        order_ref="s3-hold",
        idempotency_key="hold-s3",
    )
    for invitee, inviter in ((seeded[1], seeded[4]), (seeded[10], shoppers[1])):
        await Referral.create(
            programme_id=programme.id,
            inviter_id=inviter.id,
            invitee_id=invitee.id,
            status="PENDING",
            created_at=START,
        )
    days = 0
    for k in range(3):
        await advance(programme, days=50 + 7 * k)
        days += 50 + 7 * k
        for n, member in enumerate(seeded):
            if (n + k) % 3:
                amount = 3_000 * (n % 7 + 1) + 1_000 * k
                await place_order(programme, member, line("c", amount), order_ref=f"t{n}-c{k}")
        for n, member in enumerate(shoppers):
            await place_order(programme, member, line("c", 9_000 * (k + 1)), order_ref=f"s{n}-c{k}")
    await advance(programme, days=700 - days)
    return await Programme.get(id=programme.id)


async def snapshot(programme: Programme) -> dict[str, Any]:
    """Everything the jobs write, per member, in terms that do not depend on row ids."""
    codes: dict[int | None, str | None] = {
        t.id: t.code for t in await Tier.filter(programme_id=programme.id)
    }
    codes[None] = None
    found: dict[str, Any] = {}
    for member in await Member.filter(programme_id=programme.id).order_by("external_id"):
        events = await QualifyingEvent.filter(member_id=member.id).order_by("id")
        nth = {0: 0, **{e.id: n + 1 for n, e in enumerate(events)}}
        rows = await PointTransaction.filter(member_id=member.id).order_by("id")
        nth_row = {t.id: n for n, t in enumerate(rows)}
        lots = await PointLot.filter(member_id=member.id).order_by("id")
        nth_lot = {lot.id: n for n, lot in enumerate(lots)}
        found[member.external_id] = (
            (
                codes.get(member.tier_id, "?"),
                member.tier_since,
                member.tier_period_start,
                member.tier_valid_until,
                nth[member.tier_event_id],
                member.points_available,
                member.points_pending,
                member.points_held,
                member.expiry_due_at,
                member.last_earned_at,
                member.qualifying_spend,
                member.event_seq,
            ),
            [
                (
                    codes[c.from_tier_id],
                    codes[c.to_tier_id],
                    c.reason,
                    c.qualifying_total,
                    nth[c.last_event_id],
                    c.window_from,
                    c.at,
                )
                for c in await TierChange.filter(member_id=member.id).order_by("id")
            ],
            [
                (e.sequence, e.type, e.occurred_at, e.payload)
                for e in await Event.filter(member_id=member.id).order_by("sequence")
            ],
            [
                (
                    t.kind,
                    t.bucket,
                    t.amount,
                    t.available_after,
                    t.pending_after,
                    t.reference_type,
                    t.reference,
                    t.reason,
                    t.actor,
                    t.idempotency_key is None,  # order placements: a random key each
                    t.shortfall,
                    t.created_at,
                )
                for t in rows
            ],
            [
                (
                    nth_row.get(lot.source_id),
                    lot.earned_at,
                    lot.expires_at,
                    lot.amount,
                    lot.remaining,
                )
                for lot in lots
            ],
            sorted(
                (nth_row[m.transaction_id], nth_lot[m.lot_id], m.amount)
                for m in await LotMovement.filter(lot__member_id=member.id)
            ),
            [
                (o.order_ref, o.status, o.completed_at)
                for o in await Order.filter(member_id=member.id).order_by("order_ref")
            ],
            [(e.at, e.spend, e.orders, e.growth, e.reference) for e in events],
        )
    return found


def assert_same(found: dict[str, Any], expected: dict[str, Any]) -> None:
    assert found.keys() == expected.keys()
    for member, parts in expected.items():
        for n, part in enumerate(parts):
            assert (member, n, found[member][n]) == (member, n, part)


def member_by_member(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-member path, as SQLite runs it."""
    monkeypatch.setattr(runner, "is_postgres", lambda: False)


@pytest.mark.parametrize(
    ("window", "expiry"),
    [
        (Window.VALIDITY, ExpiryPolicy.LOTS),
        (Window.ROLLING_MONTHS, ExpiryPolicy.ROLLING_ACTIVITY),
        (Window.LIFETIME, ExpiryPolicy.LOTS),
    ],
)
async def test_batches_write_what_member_by_member_writes(window, expiry, monkeypatch):
    batched = await world(window, expiry)
    one_by_one = await world(window, expiry)
    monkeypatch.setattr(runner, "BATCH", 7)  # several batches, a few members each
    in_batches: list[int] = []
    real = jobs_ledger.add_ledger

    async def add_ledger(programme_id: int, rows: list[Any], lots: list[Any]) -> list[int]:
        in_batches.extend(r.member_id for r in rows if r.kind == "EXPIRE")
        return await real(programme_id, rows, lots)

    monkeypatch.setattr(jobs_ledger, "add_ledger", add_ledger)
    completed: list[int] = []
    real_complete, real_changes = jobs_orders.complete_orders, jobs_tiers.add_changes
    upgrades: list[str] = []

    async def complete_orders(orders: list[Any]) -> None:
        completed.extend(o[0] for o in orders)
        await real_complete(orders)

    async def add_changes(programme_id: int, changes: list[Any]) -> None:
        upgrades.extend(c.reason for c in changes if c.reason == "ORDER_COMPLETED")
        await real_changes(programme_id, changes)

    monkeypatch.setattr(jobs_orders, "complete_orders", complete_orders)
    monkeypatch.setattr(jobs_tiers, "add_changes", add_changes)
    report = await run_jobs(batched)
    assert in_batches  # some points expired in batches, some member by member
    assert len(set(in_batches)) < report.members_expired
    # most orders matured in batches (several per member), the referred members' one by one
    assert len(set(completed)) == len(completed) > 2 * SHOPPERS
    assert len(completed) < report.orders_matured
    assert upgrades  # completions moved tiers in batches
    with monkeypatch.context() as patched:
        member_by_member(patched)
        expected = await run_jobs(one_by_one)
    assert report == expected
    assert report.tier_periods_ended > SEEDED  # several periods for some
    assert report.tier_changes > 0 and report.orders_matured > 0 and report.points_expired > 0
    assert_same(await snapshot(batched), await snapshot(one_by_one))
    # A referral reward booked (dated in the past) for an inviter already caught up in this
    # run expires on the next: the member-by-member path does the same.
    again = await run_jobs(batched)
    with monkeypatch.context() as patched:
        member_by_member(patched)
        assert again == await run_jobs(one_by_one)
    assert again.tier_periods_ended == again.orders_matured == 0
    assert_same(await snapshot(batched), await snapshot(one_by_one))
    last = await run_jobs(batched)
    assert last.tier_periods_ended == last.orders_matured == last.points_expired == 0


async def test_a_run_that_fails_part_way_is_finished_by_the_next_with_the_same_result(
    monkeypatch,
):
    interrupted = await world(Window.VALIDITY)
    whole = await world(Window.VALIDITY)
    monkeypatch.setattr(runner, "BATCH", 5)
    expected = await run_jobs(whole)

    calls = 0
    real = jobs_tiers.add_changes

    async def fail_in_third_batch(programme_id: int, changes: list[Any]) -> None:
        nonlocal calls
        calls += 1
        await real(programme_id, changes)  # written, then the batch dies before commit
        if calls == 3:
            raise RuntimeError("killed")

    with monkeypatch.context() as patched:
        patched.setattr(jobs_tiers, "add_changes", fail_in_third_batch)
        with pytest.raises(RuntimeError, match="killed"):
            await run_jobs(interrupted)
    partial = await snapshot(interrupted)
    assert partial != await snapshot(await world(Window.VALIDITY))  # two batches did commit
    rest = await run_jobs(interrupted)
    assert 0 < rest.tier_periods_ended < expected.tier_periods_ended
    assert_same(await snapshot(interrupted), await snapshot(whole))
    # nothing done twice: the histories, events and ledgers are equal, and what is left (a
    # referral reward's expiry, see above) is left in both
    again = await run_jobs(interrupted)
    assert again == await run_jobs(whole)
    assert again.tier_periods_ended == again.orders_matured == 0
    assert_same(await snapshot(interrupted), await snapshot(whole))


# The job in a process of its own, SIGKILLed inside its third batch after that batch wrote
# its rows (so before it commits): no clean-up runs, the connection just drops.
_KILLED_RUN = """
import asyncio, os, signal, sys
from db.cache import configure_cache
from db.connection import open_database
from db.models import Programme
from db.repositories.jobs import tiers as jobs_tiers
from services.catch_up import runner
from services.jobs import JobReport, run_programme

async def main(url, redis, code):
    await open_database(url)
    configure_cache(redis or None)
    runner.BATCH = 5
    real, calls = jobs_tiers.add_changes, []

    async def add_changes(programme_id, changes):
        await real(programme_id, changes)
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGKILL)

    jobs_tiers.add_changes = add_changes
    await run_programme(await Programme.get(code=code), JobReport())

asyncio.run(main(*sys.argv[1:]))
"""


async def test_a_run_killed_part_way_is_finished_by_the_next_with_the_same_result(
    monkeypatch, database
):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    killed = await world(Window.VALIDITY)
    whole = await world(Window.VALIDITY)
    untouched = await snapshot(killed)
    monkeypatch.setattr(runner, "BATCH", 5)
    expected = await run_jobs(whole)
    root = Path(__file__).resolve().parents[2]
    run = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-c",
            _KILLED_RUN,
            database,
            os.environ.get("LOYALTY_TEST_REDIS_URL", ""),
            killed.code,
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == -signal.SIGKILL, run.stderr
    partial = await snapshot(killed)
    # the first two batches committed, the third left nothing
    changes_before = sum(len(parts[1]) for parts in untouched.values())
    changes_now = sum(len(parts[1]) for parts in partial.values())
    assert changes_before < changes_now < changes_before + expected.tier_changes
    rest = await run_jobs(killed)
    assert 0 < rest.tier_periods_ended < expected.tier_periods_ended
    assert_same(await snapshot(killed), await snapshot(whole))


async def periods_ended(members: int) -> Programme:
    """`members` GOLD members whose tier period ended, half with points past expiry."""
    programme = await create_programme()
    for rank, (code, entry, retention) in enumerate(
        [("BRONZE", 0, None), ("SILVER", 10_000, 5_000), ("GOLD", 50_000, 30_000)]
    ):
        await tier_service.upsert_tier(
            admin_of(programme),
            TierDraft(code, code.title(), rank, entry, retention),
            idempotency_key=uuid.uuid4().hex,
        )
    await tier_policy.change(
        admin_of(programme),
        {"window": Window.VALIDITY, "validity_months": 6, "reset_on_change": True},
        idempotency_key=uuid.uuid4().hex,
    )
    await set_policy(programme, expiry_policy=ExpiryPolicy.LOTS, expiry_months=3)
    await set_clock(programme, START)
    gold = await Tier.get(programme_id=programme.id, code="GOLD")
    for n in range(members):
        member = await create_member(programme)
        if n % 2:
            await admin.grant(
                admin_of(programme),
                member_external_ids=[member.external_id],
                amount=100,
                reason="earned",
                idempotency_key=uuid.uuid4().hex,
            )
        await Member.filter(id=member.id).update(
            tier_id=gold.id,
            tier_since=START,
            tier_period_start=START,
            tier_valid_until=START + timedelta(days=30),
        )
    await advance(programme, days=400)
    return await Programme.get(id=programme.id)


async def test_a_batch_costs_the_same_statements_for_5_members_or_40():
    from tests.graphql.test_query_counts import counting_statements

    counts = []
    for members in (5, 40):
        programme = await periods_ended(members)
        done = Done()
        with counting_statements() as counted:
            await runner.run(programme, done)
        assert done.tier_periods_ended == done.tier_changes == members  # dropped to the entry
        assert done.members_expired == members // 2
        counts.append(counted["n"])
    # find (2: the page, the empty page), lock and read, lots, ledger ids, ledger rows,
    # movements, lots, sums and last events (per round of periods), members, tier history,
    # events: the same however many members the batch has
    assert counts[0] == counts[1] <= 16, counts


async def orders_maturing(members: int) -> Programme:
    """`members` members with two orders each past their return window (the second upgrades
    the member) and points from the first past their expiry."""
    programme = await create_programme()
    for rank, (code, entry, retention) in enumerate(
        [("BRONZE", 0, None), ("SILVER", 10_000, 5_000), ("GOLD", 50_000, 30_000)]
    ):
        await tier_service.upsert_tier(
            admin_of(programme),
            TierDraft(code, code.title(), rank, entry, retention),
            idempotency_key=uuid.uuid4().hex,
        )
    await set_policy(programme, expiry_policy=ExpiryPolicy.LOTS, expiry_months=3)
    await set_clock(programme, START)
    shoppers = [await create_member(programme) for _ in range(members)]
    for member in shoppers:
        await place_order(programme, member, line("a", 8_000))
    await advance(programme, days=100)
    for member in shoppers:
        await place_order(programme, member, line("b", 60_000))
    await advance(programme, days=100)
    return await Programme.get(id=programme.id)


async def test_maturing_orders_cost_the_same_statements_for_5_members_or_40(monkeypatch):
    from tests.graphql.test_query_counts import counting_statements

    counts = []
    one_by_one: list[int] = []

    async def by_itself(programme: Programme, member_id: int, *rest: Any) -> None:
        one_by_one.append(member_id)

    monkeypatch.setattr(runner, "catch_up", by_itself)
    for members in (5, 40):
        programme = await orders_maturing(members)
        await active_challenges(programme.id)  # one read a programme, cached: not per member
        done = Done()
        with counting_statements() as counted:
            await runner.run(programme, done)
        assert not one_by_one
        assert done.orders_matured == 2 * members and done.members_expired == members
        assert await Member.filter(programme_id=programme.id, tier__code="GOLD").count() == members
        counts.append(counted["n"])
    # find (2), lock and read, orders, lots, last events; per completion round (2) activity
    # ids and rows, sums; ledger ids, rows, lot ids, lots, movements (no old lot taken from:
    # both orders' lots are new); orders, members, tier history, events
    assert counts[0] == counts[1] <= 21, counts


async def ties(expiry: ExpiryPolicy) -> Programme:
    """Members whose order matures at the very instant their points expire and their tier
    period ends (the job takes the order first, then expiry, then the period), one with the
    order a moment before them, one a moment after."""
    from domain.lots import add_months

    programme = await create_programme()
    for rank, (code, entry, retention) in enumerate(
        [("BRONZE", 0, None), ("SILVER", 10_000, 5_000), ("GOLD", 50_000, 30_000)]
    ):
        await tier_service.upsert_tier(
            admin_of(programme),
            TierDraft(code, code.title(), rank, entry, retention),
            idempotency_key=uuid.uuid4().hex,
        )
    await tier_policy.change(
        admin_of(programme),
        {"window": Window.VALIDITY, "validity_months": 6, "reset_on_change": True},
        idempotency_key=uuid.uuid4().hex,
    )
    await set_policy(programme, expiry_policy=expiry, expiry_months=3)
    end = datetime(2027, 9, 1, 0, 0, tzinfo=SHANGHAI)
    await set_clock(programme, add_months(end, -3, SHANGHAI))
    members = [
        await create_member(programme, external_id=f"tie{n}", display_name=f"tie{n}")
        for n in range(3)
    ]
    for n, member in enumerate(members):
        await admin.grant(
            admin_of(programme),
            member_external_ids=[member.external_id],
            amount=500,
            reason="earned",
            idempotency_key=f"tie-grant-{n}",
        )
    gold = await Tier.get(programme_id=programme.id, code="GOLD")
    for member in members:
        await Member.filter(id=member.id).update(
            tier_id=gold.id,
            tier_since=add_months(end, -6, SHANGHAI),
            tier_period_start=add_months(end, -6, SHANGHAI),
            tier_valid_until=end,
        )
    moment = timedelta(microseconds=1)
    for n, member in enumerate(members):  # maturing at end - 1µs, end, end + 1µs
        await set_clock(programme, end - timedelta(days=30) + (n - 1) * moment)
        await place_order(programme, member, line("t", 40_000), order_ref=f"tie{n}-o")
    await advance(programme, days=400)
    return await Programme.get(id=programme.id)


@pytest.mark.parametrize("expiry", [ExpiryPolicy.LOTS, ExpiryPolicy.ROLLING_ACTIVITY])
async def test_an_order_maturing_at_the_instant_points_expire_and_a_period_ends(
    expiry, monkeypatch
):
    batched, one_by_one = await ties(expiry), await ties(expiry)
    completed: list[int] = []
    real = jobs_orders.complete_orders

    async def complete_orders(orders: list[Any]) -> None:
        completed.extend(o[0] for o in orders)
        await real(orders)

    monkeypatch.setattr(jobs_orders, "complete_orders", complete_orders)
    report = await run_jobs(batched)
    assert len(completed) == report.orders_matured == 3  # all in the batch
    with monkeypatch.context() as patched:
        member_by_member(patched)
        assert report == await run_jobs(one_by_one)
    assert report.points_expired > 0 and report.tier_periods_ended > 0
    assert_same(await snapshot(batched), await snapshot(one_by_one))
