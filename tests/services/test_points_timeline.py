"""Time in the ledger: expiry read off the clock, work dated when it was due (not when the job
happened to run), month ends, and month arithmetic in the programme's local calendar."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from db.models import Member, PointLot, PointTransaction, Programme, TierChange
from domain.auth import Principal, Role
from domain.errors import ErrorCode
from domain.points import ExpiryPolicy
from domain.tier_rules import Window
from domain.tiers import TierDraft
from services import programmes as programme_service
from services import tier_policy
from services import tiers as tier_service
from services.points import admin, holds, order_returns
from services.points.order_returns import ReturnLine
from tests.fixtures.factories import admin_of, create_member, create_programme
from tests.fixtures.points import (
    advance,
    assert_ledger_consistent,
    complete,
    line,
    place_order,
    run_jobs,
    staff,
)
from tests.services.test_points_ledger import code_of, redeem, set_policy

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def set_clock(programme: Programme, to: datetime) -> None:
    """Move a sandbox clock forward to `to` (the first move freezes it)."""
    admin_key = Principal(programme_id=programme.id, role=Role.ADMIN, key_id=-1)
    await programme_service.advance_test_clock(
        admin_key, days=0, seconds=0, to=to, idempotency_key=uuid.uuid4().hex
    )


async def fund(programme: Programme, member: Member, amount: int) -> None:
    await admin.adjust(
        Principal(programme_id=programme.id, role=Role.ADMIN, key_id=-1),
        member_external_id=member.external_id,
        amount=amount,
        reason="funds",
        idempotency_key=uuid.uuid4().hex,
    )


async def earn(programme: Programme, member: Member, amount: int) -> None:
    """An earning (a grant): it renews a rolling balance, as an adjustment does not."""
    await admin.grant(
        Principal(programme_id=programme.id, role=Role.ADMIN, key_id=-1),
        member_external_ids=[member.external_id],
        amount=amount,
        reason="earned",
        idempotency_key=uuid.uuid4().hex,
    )


async def hold(programme: Programme, member: Member, amount: int) -> object:
    return await holds.hold(
        staff(programme),
        member_external_id=member.external_id,
        amount=amount,
        order_ref=f"h-{uuid.uuid4().hex[:8]}",
        idempotency_key=uuid.uuid4().hex,
    )


# ---- expired points are gone when their time comes, job or no job (issue 22.3) ------------


async def test_points_past_their_expiry_cannot_be_redeemed_or_held_before_the_job(
    programme, make_member
):
    # given 100 points whose lot expired 35 days ago, and no job run since
    member = await make_member(programme)
    await fund(programme, member, 100)
    await advance(programme, days=400)
    # when the member tries to spend or reserve them
    redeemed = await code_of(redeem(programme, member, 100))
    held = await code_of(hold(programme, member, 1))
    # then both are refused, and the job still writes the expiry once
    assert redeemed is held is ErrorCode.INSUFFICIENT_POINTS
    report = await run_jobs(programme)
    row = await assert_ledger_consistent(member)
    assert (report.points_expired, row.points_available) == (100, 0)


async def test_a_rolling_balance_past_its_expiry_is_not_revived_by_a_late_earning(
    programme, make_member
):
    # given a rolling 12-month balance of 100, 400 days without earning, no job run
    await set_policy(programme, expiry_policy=ExpiryPolicy.ROLLING_ACTIVITY, expiry_months=12)
    member = await make_member(programme)
    await complete(programme, await place_order(programme, member, line(price=5_000)))
    await advance(programme, days=400)
    # when the member earns again (which renews a live balance), then spends
    await earn(programme, member, 5)
    refused = await code_of(redeem(programme, member, 6))
    # then the old 100 expired when they were due: only the new 5 are there
    row = await assert_ledger_consistent(member)
    assert (refused, row.points_available) == (ErrorCode.INSUFFICIENT_POINTS, 5)
    expiry = await PointTransaction.get(member_id=member.id, kind="EXPIRE")
    assert expiry.amount == -100


# ---- work is dated when it was due (issue 22.4) ---------------------------------------------


async def test_a_late_maturation_is_dated_when_the_return_window_closed(programme, make_member):
    # given an order placed now, then the clock 800 days on before any job runs
    member = await make_member(programme)
    order = await place_order(programme, member, line(price=5_000))
    await advance(programme, days=800)
    # when the jobs run once
    await run_jobs(programme)
    # then its points became available on day 30 and expired a year after that
    lot = await PointLot.get(member_id=member.id)
    due = order.matures_at
    assert lot.earned_at == due
    assert lot.expires_at == datetime(due.year + 1, due.month, due.day, tzinfo=UTC).replace(
        hour=due.hour, minute=due.minute, second=due.second, microsecond=due.microsecond
    )
    expiry = await PointTransaction.get(member_id=member.id, kind="EXPIRE")
    assert (expiry.amount, expiry.created_at) == (-100, lot.expires_at)
    assert (await assert_ledger_consistent(member)).points_available == 0


# ---- month ends (issue 22.5) -----------------------------------------------------------------


async def test_a_rolling_balance_earned_on_january_31st_expires_on_february_28th(
    make_programme, make_member
):
    # given rolling expiry after 1 month, in UTC, and a last earning on 2027-01-31 10:00Z
    programme = await make_programme(timezone="UTC")
    await set_policy(programme, expiry_policy=ExpiryPolicy.ROLLING_ACTIVITY, expiry_months=1)
    member = await make_member(programme)
    await set_clock(programme, datetime(2027, 1, 31, 10, 0, tzinfo=UTC))
    await earn(programme, member, 100)
    # when the job runs a second after it was due
    await set_clock(programme, datetime(2027, 2, 28, 10, 0, 1, tzinfo=UTC))
    await run_jobs(programme)
    # then the balance expired on the 28th
    row = await assert_ledger_consistent(member)
    assert row.points_available == 0


# ---- a return never takes back points that already expired (issue 22.6) --------------------


async def test_returning_an_order_whose_points_expired_takes_nothing_from_newer_points(
    programme, make_member
):
    # given order A's 100 points expired unspent, then order B earned 100
    member = await make_member(programme)
    a = await complete(programme, await place_order(programme, member, line("a", 5_000)))
    await advance(programme, days=400)
    await run_jobs(programme)
    await complete(programme, await place_order(programme, member, line("b", 5_000)))
    # when A is returned in full
    await order_returns.return_lines(
        staff(programme), a.order_ref, [ReturnLine("a", 1)], idempotency_key=uuid.uuid4().hex
    )
    # then B's 100 are still there
    row = await assert_ledger_consistent(member)
    assert row.points_available == 100


async def test_a_return_takes_back_what_is_left_and_what_was_spent_but_not_what_expired(
    programme, make_member
):
    # given an order of two items, 100 points each; 60 of its 200 points spent, the other
    # 140 expired, and newer points from a second order
    member = await make_member(programme)
    a = await complete(
        programme, await place_order(programme, member, line("a", 5_000, quantity=2))
    )
    await redeem(programme, member, 60)
    await advance(programme, days=400)
    await run_jobs(programme)
    await complete(programme, await place_order(programme, member, line("b", 25_000)))  # 500
    # when the two items come back one at a time
    for _ in range(2):
        await order_returns.return_lines(
            staff(programme), a.order_ref, [ReturnLine("a", 1)], idempotency_key=uuid.uuid4().hex
        )
    # then only the 60 that were spent are taken back in all (the first return takes 60 of
    # its 100: 100 were the item's share, 140 expired), from the newer points
    row = await assert_ledger_consistent(member)
    assert row.points_available == 440
    reversed_ = await PointTransaction.filter(member_id=member.id, kind="REVERSE").values_list(
        "amount", flat=True
    )
    assert sum(reversed_) == -60


# ---- month arithmetic in the programme's calendar (issue 22.7) ------------------------------


async def test_lots_expire_a_calendar_month_later_in_the_programmes_time_zone(
    make_programme, make_member
):
    # given a Shanghai programme whose lots expire after one month
    programme = await make_programme(timezone="Asia/Shanghai")
    await set_policy(programme, expiry_months=1)
    member = await make_member(programme)
    # when points are earned on 31 January at 07:00 and at 09:00 local time
    expiries = []
    for hour in (7, 9):
        await set_clock(programme, datetime(2027, 1, 31, hour, tzinfo=SHANGHAI))
        await fund(programme, member, 10)
        lot = await PointLot.filter(member_id=member.id).order_by("-id").first()
        assert lot is not None
        expiries.append(lot.expires_at.astimezone(SHANGHAI))
    # then both expire on 28 February at the same local time of day, the earlier first
    assert expiries == [
        datetime(2027, 2, 28, 7, tzinfo=SHANGHAI),
        datetime(2027, 2, 28, 9, tzinfo=SHANGHAI),
    ]
    assert expiries[0] < expiries[1]


async def test_expiring_within_does_not_list_points_already_expired(programme, make_member):
    # given 100 points whose lot expired yesterday, and no job run since
    member = await make_member(programme)
    await fund(programme, member, 100)
    lot = await PointLot.get(member_id=member.id)
    await set_clock(programme, lot.expires_at + timedelta(days=1))
    # when the member asks what expires in the next 30 days
    from services.points import queries

    fresh_member = await Member.get(id=member.id)
    soon = await queries.expiring(staff(programme), fresh_member, 30)
    # then nothing: they are gone already
    assert soon == []


# ---- the outcome does not depend on how often the jobs run (issue 22.4) --------------------


START = datetime(2027, 1, 1, 9, 0, tzinfo=SHANGHAI)


async def play(
    orders: list[tuple[int, int]],
    *,
    expiry: ExpiryPolicy,
    months: int,
    window: Window,
    jobs_every: int | None,
) -> tuple[object, ...]:
    """A member's life on the test clock: orders placed on the given days (none completed by
    hand), until day 800. The jobs run every `jobs_every` days, or once at the very end."""
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
        {"window": window, "window_months": 6, "validity_months": 6},
        idempotency_key=uuid.uuid4().hex,
    )
    await set_policy(programme, expiry_policy=expiry, expiry_months=months)
    await set_clock(programme, START)
    member = await create_member(programme)
    day = 0

    async def to_day(target: int) -> None:
        nonlocal day
        while day < target:
            step = min(jobs_every or target - day, target - day)
            await advance(programme, days=step)
            day += step
            if jobs_every:
                await run_jobs(programme)

    for n, (placed_on, price) in enumerate(sorted(orders)):
        await to_day(placed_on)
        await place_order(programme, member, line(f"s{n}", price), order_ref=f"o-{n}")
    await to_day(800)
    await run_jobs(programme)
    row = await assert_ledger_consistent(member)
    lots = await PointLot.filter(member_id=member.id).order_by("earned_at", "id")
    history = await TierChange.filter(member_id=member.id).order_by("id")
    expired = await PointTransaction.filter(member_id=member.id, kind="EXPIRE").order_by("id")
    return (
        row.points_available,
        row.points_pending,
        row.tier_valid_until,
        [(lot.earned_at, lot.expires_at, lot.amount, lot.remaining) for lot in lots],
        [(change.to_tier_id and change.reason, change.at) for change in history],
        [(tx.amount, tx.created_at) for tx in expired],
    )


async def test_jobs_run_daily_or_once_after_two_years_give_the_same_ledger_and_tiers():
    loop = asyncio.get_running_loop()

    def run(coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=300)

    @settings(max_examples=12, deadline=None, database=None)
    @given(
        orders=st.lists(
            st.tuples(st.integers(0, 400), st.integers(1_000, 40_000)), min_size=1, max_size=4
        ),
        expiry=st.sampled_from(list(ExpiryPolicy)),
        months=st.sampled_from([1, 3, 12]),
        window=st.sampled_from(list(Window)),
    )
    def same_outcome(orders, expiry, months, window):
        kwargs = {"expiry": expiry, "months": months, "window": window}
        once = run(play(orders, jobs_every=None, **kwargs))
        often = run(play(orders, jobs_every=9, **kwargs))
        assert once == often

    await asyncio.to_thread(same_outcome)
