"""The demo programme's year (services/seed.py calls it once): twelve months of activity,
each fact booked through the services when the sandbox's test clock reaches it.

The clock starts a year back. Facts are done in time order (the clock moves once a day, to
the day's end), and every 30 days it stops for the periodic jobs as `loyalty run-jobs` runs
them: orders complete after their return window (an invited member's first one rewards the
inviter), points expire, tiers are judged at the end of their validity periods (quarterly in
the demo) and monthly coupons are issued. The clock ends at the real now. Nothing is written
around the services, so every member's ledger adds up."""

from __future__ import annotations

import heapq
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from functools import partial

from db.models import Coupon, Member, Programme, RewardRedemption
from domain.auth import Principal
from domain.campaign_edits import Action
from domain.campaigns import Trigger
from domain.coupons import CouponStatus
from domain.lots import add_months
from domain.points import OrderLine, Payment, PaymentMethod
from domain.recommendations.synthetic import Dataset, SyntheticOrder
from services import programmes as programme_service
from services.campaigns import admin as campaign_admin
from services.clock import now_of, wall_now, zone_of
from services.coupons import checkout
from services.jobs import JobReport, run_programme
from services.points import admin as points_admin
from services.points import captures as point_captures
from services.points import order_recording, order_returns
from services.points import orders as order_service
from services.points.activity import check_ins, referrals, reviews
from services.points.order_recording import OrderInput
from services.points.order_returns import ReturnLine
from services.rewards import fulfilment
from services.rewards import redemption as reward_redemption
from services.seed_partners import DemoPartner

Step = Callable[[], Awaitable[None]]

JOBS_EVERY = timedelta(days=30)
WELCOME_POINTS = 100  # unspent, they expire a year on: the demo's expired lots
COUPON_FLOOR = 99 * 100  # MONTHLY10 takes 10 off 99 (minor units)
FINISHED = "AUTUMN-BONUS"


def year_start(now: datetime) -> datetime:
    """Where the demo's clock starts: a year and two days back, so the welcome points of the
    first day have expired when the clock reaches now."""
    return add_months(now, -12) - timedelta(days=2)


class Year:
    """The facts still to do, in time order, and the clock that walks to each."""

    def __init__(self, admin: Principal, programme: Programme, end: datetime) -> None:
        self.admin, self.programme_id, self.end = admin, programme.id, end
        self.clock = now_of(programme)
        self.zone = zone_of(programme)
        self.start = self.clock
        self._facts: list[tuple[datetime, int, Step]] = []
        self._seq = 0
        self.cancelled_one = False  # the year's first tumbler is called off

    def at(self, when: datetime, step: Step) -> None:
        """Do `step` when the clock reaches `when` (a fact after the end is left out)."""
        if when <= self.end:
            self._seq += 1
            heapq.heappush(self._facts, (max(when, self.start), self._seq, step))

    async def run(self) -> None:
        next_jobs = self.start + JOBS_EVERY
        while self._facts:
            when, _, step = heapq.heappop(self._facts)
            while next_jobs <= when:
                await self._jobs(next_jobs)
                next_jobs += JOBS_EVERY
            await self.move(min(self.end, self._day_end(when)))
            await step()
        await self._jobs(max(self.end, wall_now()))  # the clock ends at the real now

    def _day_end(self, when: datetime) -> datetime:
        """The last second of `when`'s local day: the clock moves once for a day's facts
        (each is dated by the clock, in that day; an order keeps its own placedAt)."""
        local = when.astimezone(self.zone)
        midnight = datetime.combine(local.date() + timedelta(days=1), time(), self.zone)
        return midnight.astimezone(when.tzinfo) - timedelta(seconds=1)

    async def move(self, to: datetime) -> None:
        if to <= self.clock:
            return
        await programme_service.advance_test_clock(
            self.admin, days=0, seconds=0, to=to, idempotency_key=f"seed-clock-{to.isoformat()}"
        )
        self.clock = to

    async def _jobs(self, at: datetime) -> None:
        await self.move(at)
        await run_programme(await Programme.get(id=self.programme_id), JobReport())

    async def member(self, n: int) -> Member:
        return await Member.get(programme_id=self.programme_id, external_id=external_id(n))


def external_id(n: int) -> str:
    return f"cust-{n:04d}"


def plan_year(
    year: Year,
    data: Dataset,
    register: Callable[[int], Awaitable[None]],
    partner: DemoPartner,
) -> None:
    """Every fact of the year, on `year`'s calendar (the demo's choices, by member number)."""
    start = year.start
    first_day = [n for n, (_, joined) in data.members.items() if joined <= start]
    for n, (_, joined) in sorted(data.members.items()):
        year.at(joined, partial(register, n))
    year.at(start + timedelta(minutes=1), partial(_welcome, year, first_day))
    for n in first_day:
        if n % 6 == 0 and n - 1 in first_day:
            year.at(start + timedelta(minutes=2), partial(_refer, year, n, n - 1))
    for i, order in enumerate([*data.orders, *_growing(year, data)]):
        _plan_order(year, data, i, order)
    for month in range(13):
        _plan_month(year, data, month)
    partner.plan(year)
    _plan_finished_campaign(year)


def _growing(year: Year, data: Dataset) -> list[SyntheticOrder]:
    """Orders on top of the generated ones for every tenth member (from the 7th) still buying:
    more each month of the year's second half, one a month at first and three at the end."""
    skus = sorted(data.products)
    made = []
    for n, (kind, joined) in sorted(data.members.items()):
        if n % 10 != 7 or kind not in ("active", "intermittent") or joined > year.start:
            continue
        for month in range(6, 12):
            base = add_months(year.start, month)
            for k in range((month - 4) // 2):
                sku = skus[(n * 31 + month * 7 + k * 13) % len(skus)]
                at = base + timedelta(days=3 + 9 * k, hours=4)
                made.append(SyntheticOrder(n, at, ((sku, 1, data.products[sku].price),)))
    return made


async def _welcome(year: Year, members: list[int]) -> None:
    if members:
        await points_admin.grant(
            year.admin,
            member_external_ids=[external_id(n) for n in members],
            amount=WELCOME_POINTS,
            reason="welcome to the programme",
            idempotency_key="seed-year-welcome",
        )


async def _refer(year: Year, invitee: int, inviter: int) -> None:
    code = await referrals.invite_code(year.admin, await year.member(inviter))
    await referrals.accept_referral(
        year.admin,
        invitee_external_id=external_id(invitee),
        invite_code=code,
        idempotency_key=f"seed-year-referral-{invitee}",
    )


def _plan_order(year: Year, data: Dataset, i: int, order: SyntheticOrder) -> None:
    """The order when it was placed (the generated history's orders before the year are left
    out); some use a coupon, some are returned in part within their window, and some earn
    review points once completed."""
    ref = f"demo-{i + 1:05d}"
    lines = [
        OrderLine(sku, data.products[sku].category, price, quantity, False)
        for sku, quantity, price in order.lines
    ]
    if order.placed_at < year.start:
        return
    use_coupon = i % 3 == 0 and sum(x.amount for x in lines) >= COUPON_FLOOR
    year.at(order.placed_at, partial(_order, year, i, ref, order, lines, use_coupon))
    if i % 10 == 3:
        back = [ReturnLine(lines[0].sku, 1)]
        year.at(
            order.placed_at + timedelta(days=5),
            partial(_return, year, i, ref, back),
        )
    elif i % 6 == 1:
        year.at(order.placed_at + timedelta(days=65), partial(_review, year, i, ref, lines[0].sku))


async def _order(
    year: Year,
    i: int,
    ref: str,
    order: SyntheticOrder,
    lines: list[OrderLine],
    use_coupon: bool,
) -> None:
    coupon = await _monthly_coupon(year, order.member) if use_coupon else None
    if coupon is not None:
        await checkout.lock(
            year.admin, code=coupon, order_ref=ref, cart=None, idempotency_key=f"seed-lock-{i}"
        )
    total = sum(line.amount for line in lines)
    await order_recording.record(
        year.admin,
        OrderInput(
            order_ref=ref,
            member_external_id=external_id(order.member),
            placed_at=order.placed_at,
            currency=None,
            lines=lines,
            payments=[Payment(PaymentMethod.CARD, total)],
        ),
        idempotency_key=f"seed-order-{i}",
    )
    if coupon is not None:
        await checkout.redeem(
            year.admin, code=coupon, order_ref=ref, idempotency_key=f"seed-use-{i}"
        )


async def _monthly_coupon(year: Year, n: int) -> str | None:
    """A member coupon (MONTHLY10) the member holds and may still use, if any."""
    member = await year.member(n)
    found = (
        await Coupon.filter(
            member_id=member.id,
            template__code="MONTHLY10",
            status=CouponStatus.AVAILABLE.value,
            ends_at__gt=year.clock,
        )
        .order_by("ends_at")
        .first()
    )
    if found is None or (found.starts_at is not None and found.starts_at > year.clock):
        return None
    return found.code


async def _return(year: Year, i: int, ref: str, lines: list[ReturnLine]) -> None:
    await order_returns.return_lines(year.admin, ref, lines, idempotency_key=f"seed-return-{i}")


async def _review(year: Year, i: int, ref: str, sku: str) -> None:
    found = await order_service.find(year.admin, ref)
    if found is not None and found.status == "COMPLETED":
        await reviews.reward_review(
            year.admin, order_ref=ref, sku=sku, idempotency_key=f"seed-review-{i}"
        )


def _plan_month(year: Year, data: Dataset, month: int) -> None:
    """Check-ins in the first days of the month for every tenth member (a seven-day streak
    each quarter, two days otherwise; lapsed members only in the first quarter) and, on the
    20th, a reward for every sixth member with the points for one."""
    base = add_months(year.start, month).replace(hour=1, minute=0, second=0, microsecond=0)
    for n, (kind, joined) in data.members.items():
        days = (7 if month % 3 == 0 else 2) if n % 10 == 1 else 0
        if kind == "lapsed" and month > 3:
            days = 0
        for day in range(days):
            at = base + timedelta(days=day)
            # never on the last day: a member checks in today (README) as on any day; nor
            # before the clock's start, which `Year.at` would move to the start: when the
            # start's local day is the next UTC day (after 16:00 UTC in Shanghai), that put
            # it on the same local day as the next check-in, refused as a second one
            if year.start <= at and joined < at < year.end - timedelta(days=1):
                year.at(at, partial(_check_in, year, n, month, day))
        if n % 6 == 0 and month:
            year.at(base + timedelta(days=19), partial(_reward, year, n, month))


async def _check_in(year: Year, n: int, month: int, day: int) -> None:
    await check_ins.check_in(
        year.admin,
        member_external_id=external_id(n),
        idempotency_key=f"seed-check-in-{n}-{month}-{day}",
    )


async def _reward(year: Year, n: int, month: int) -> None:
    """A tumbler (fulfilled three days on; the year's first is called off instead), a 10%
    coupon, or a tea set paid with cash and held points, as the member's points allow."""
    member = await Member.get_or_none(programme_id=year.programme_id, external_id=external_id(n))
    if member is None:
        return
    spendable = member.points_available - member.points_held
    key = f"seed-reward-{n}-{month}"
    if spendable >= 1_200 and month % 2:
        row = await _redeem(year, n, "TUMBLER", key)
        year.at(year.clock + timedelta(days=3), partial(_settle, year, row.id, key))
    elif spendable >= 500 and month % 4 == 0 and not await _holds(member, "10PCT"):
        await _redeem(year, n, "COUPON-10PCT", key)  # its template allows one per member
    elif spendable >= 500:
        ref = f"demo-tea-{n}-{month}"
        row = await _redeem(year, n, "TEA-SET", key, order_ref=ref, cash=30 * 100)
        assert row.hold_id is not None
        await _capture(year, row.hold_id, row.points, key)
        await fulfilment.fulfil(
            year.admin, redemption_id=row.id, tracking_ref=None, idempotency_key=f"{key}-fulfil"
        )


async def _holds(member: Member, template_code: str) -> bool:
    return await Coupon.filter(member_id=member.id, template__code=template_code).exists()


async def _redeem(
    year: Year,
    n: int,
    code: str,
    key: str,
    *,
    order_ref: str | None = None,
    cash: int | None = None,
) -> RewardRedemption:
    return await reward_redemption.redeem(
        year.admin,
        code=code,
        quantity=1,
        idempotency_key=key,
        member_external_id=external_id(n),
        order_ref=order_ref,
        cash=cash,
    )


async def _capture(year: Year, hold_id: int, points: int, key: str) -> None:
    await point_captures.capture(
        year.admin, hold_id=hold_id, amount=points, idempotency_key=f"{key}-capture"
    )


async def _settle(year: Year, redemption_id: int, key: str) -> None:
    if not year.cancelled_one:
        year.cancelled_one = True
        await fulfilment.cancel(
            year.admin,
            redemption_id=redemption_id,
            reason="out of stock at the warehouse",
            idempotency_key=f"{key}-cancel",
        )
        return
    await fulfilment.fulfil(
        year.admin,
        redemption_id=redemption_id,
        tracking_ref=f"SF{redemption_id:08d}",
        idempotency_key=f"{key}-fulfil",
    )


def _plan_finished_campaign(year: Year) -> None:
    """A month of 100 extra points per order, two to three months ago, ended a day after."""
    begins, ends = add_months(year.end, -3), add_months(year.end, -2)

    async def create() -> None:
        await campaign_admin.create(
            year.admin,
            {
                "code": FINISHED,
                "name": "Autumn bonus: 100 extra points on every order",
                "trigger": Trigger.ORDER,
                "startsAt": begins,
                "endsAt": ends,
                "effects.bonusPerOrder": 100,
            },
            idempotency_key=f"seed-campaign-{FINISHED}",
        )
        await campaign_admin.change_status(year.admin, FINISHED, Action.ACTIVATE)

    async def end() -> None:
        await campaign_admin.change_status(year.admin, FINISHED, Action.END)

    year.at(begins - timedelta(days=7), create)
    year.at(ends + timedelta(days=1), end)
