"""Issuing coupons through the services, on the real database: caps, the ledger side of an
exchange, the job's allowances, and the wallet's status filter against the domain's."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from db.models import Coupon, CouponTemplate, PointTransaction
from domain.auth import Principal, Role
from domain.coupons import AutoIssue, CouponKind, CouponStatus
from domain.errors import DomainError, ErrorCode
from domain.paging import page_request
from domain.tiers import BenefitKind
from services import tiers as tier_service
from services.clock import programme_time
from services.coupons import checkout, claims, issuance, wallet
from services.jobs import run_all
from services.points import admin as points_admin
from tests.conftest import needs_postgres
from tests.fixtures.coupons import claim, make_template
from tests.fixtures.factories import admin_of
from tests.fixtures.points import advance, assert_ledger_consistent, staff


async def codes_of(member) -> list[str]:
    return [c.code for c in await Coupon.filter(member_id=member.id).order_by("id")]


async def refused(call) -> ErrorCode:
    with pytest.raises(DomainError) as caught:
        await call
    return caught.value.errors[0].code


async def give_points(programme, member, amount: int) -> None:
    await points_admin.adjust(
        admin_of(programme),
        member_external_id=member.external_id,
        amount=amount,
        reason="seed",
        idempotency_key=uuid.uuid4().hex,
    )


async def test_claims_stop_at_the_stock_and_the_template_counts_what_it_issued(
    programme, make_member
):
    template = await make_template(programme, total_stock=2)
    members = [await make_member(programme) for _ in range(3)]
    await claim(programme, template, members[0])
    await claim(programme, template, members[1])
    assert await refused(claim(programme, template, members[2])) is ErrorCode.OUT_OF_STOCK
    row = await CouponTemplate.get(id=template.id)
    assert (row.stock_left, row.issued) == (0, 2)
    assert await codes_of(members[2]) == []


async def test_the_per_member_limit_counts_every_coupon_the_member_holds(programme, make_member):
    template = await make_template(programme, per_member_limit=2)
    member = await make_member(programme)
    first = await claim(programme, template, member)
    await claim(programme, template, member)
    assert await refused(claim(programme, template, member)) is ErrorCode.LIMIT_REACHED
    # a used coupon still counts: the limit is on coupons had, not coupons held now
    await checkout.lock(
        staff(programme),
        code=first.row.code,
        order_ref="o-1",
        cart=None,
        idempotency_key=uuid.uuid4().hex,
    )
    await checkout.redeem(
        staff(programme), code=first.row.code, order_ref="o-1", idempotency_key=uuid.uuid4().hex
    )
    assert await refused(claim(programme, template, member)) is ErrorCode.LIMIT_REACHED


async def test_every_issued_coupon_has_its_own_code(programme, make_member):
    template = await make_template(programme)
    members = [await make_member(programme) for _ in range(30)]
    views = await issuance.grant(
        admin_of(programme),
        template_id=template.id,
        member_external_ids=[m.external_id for m in members],
        idempotency_key=uuid.uuid4().hex,
    )
    codes = [v.row.code for v in views]
    assert len(set(codes)) == 30
    assert sorted(v.row.member_id for v in views) == sorted(m.id for m in members)


async def test_a_grant_is_all_or_none(programme, make_member):
    template = await make_template(programme, total_stock=3)
    members = [await make_member(programme) for _ in range(4)]
    code = await refused(
        issuance.grant(
            admin_of(programme),
            template_id=template.id,
            member_external_ids=[m.external_id for m in members],
            idempotency_key=uuid.uuid4().hex,
        )
    )
    assert code is ErrorCode.OUT_OF_STOCK
    assert await Coupon.filter(template_id=template.id).count() == 0
    assert (await CouponTemplate.get(id=template.id)).stock_left == 3


async def test_an_exchange_debits_the_ledger_and_issues_in_one_go(programme, make_member):
    template = await make_template(programme, points_price=300)
    member = await make_member(programme)
    await give_points(programme, member, 500)
    # when the member buys the coupon
    bought = await claims.exchange_points(
        staff(programme),
        template_id=template.id,
        member_external_id=member.external_id,
        idempotency_key=uuid.uuid4().hex,
    )
    # then 300 points left the ledger, pointing at the coupon's code
    row = await assert_ledger_consistent(member)
    assert row.points_available == 200
    tx = await PointTransaction.get(id=bought.row.points_transaction_id)
    assert (tx.kind, tx.amount, tx.reference_type, tx.reference) == (
        "REDEEM",
        -300,
        "COUPON",
        bought.row.code,
    )
    # and a second one is refused for want of points, leaving nothing behind
    assert (
        await refused(
            claims.exchange_points(
                staff(programme),
                template_id=template.id,
                member_external_id=member.external_id,
                idempotency_key=uuid.uuid4().hex,
            )
        )
        is ErrorCode.INSUFFICIENT_POINTS
    )
    assert await codes_of(member) == [bought.row.code]
    assert (await CouponTemplate.get(id=template.id)).issued == 1
    assert (await assert_ledger_consistent(member)).points_available == 200


async def test_members_of_other_tiers_cannot_claim(programme, make_member):
    template = await make_template(programme, eligible_tier_codes=("GOLD",))
    member = await make_member(programme)  # BRONZE
    assert await refused(claim(programme, template, member)) is ErrorCode.NOT_ELIGIBLE_TIER


async def add_allowance(programme, tier_code: str, count: int) -> None:
    await tier_service.upsert_benefit(
        admin_of(programme),
        tier_code=tier_code,
        code="MONTHLY",
        title="Coupons every month",
        kind=BenefitKind.MONTHLY_COUPONS,
        value=count,
        description="",
        idempotency_key=uuid.uuid4().hex,
    )


async def test_the_job_issues_each_tiers_monthly_allowance_once_a_month(programme, make_member):
    # given BRONZE members are owed 2 coupons a month by an allowance template
    await add_allowance(programme, "BRONZE", 2)
    template = await make_template(
        programme, claimable=False, auto_issue=AutoIssue.MONTHLY_ALLOWANCE
    )
    members = [await make_member(programme) for _ in range(3)]
    # when the job runs twice
    await run_all()
    await run_all()
    # then each member got two, once
    for member in members:
        rows = await Coupon.filter(member_id=member.id, template_id=template.id)
        assert sorted(r.period_seq for r in rows) == [1, 2]
        assert {r.source for r in rows} == {"MONTHLY_ALLOWANCE"}
    # and the next month brings two more each
    await advance(programme, days=32)
    await run_all()
    for member in members:
        assert await Coupon.filter(member_id=member.id, template_id=template.id).count() == 4


async def test_birthday_coupons_go_to_members_born_this_month_once_a_year(programme, make_member):
    now = await programme_time(programme.id)
    local_month = (now + timedelta(hours=8)).month  # the fixture programme is Asia/Shanghai
    other_month = local_month % 12 + 1
    template = await make_template(
        programme,
        kind=CouponKind.NO_THRESHOLD,
        amount=1_000,
        threshold=0,
        claimable=False,
        auto_issue=AutoIssue.BIRTHDAY,
    )
    born_now = await make_member(programme, birthday=f"{local_month:02d}-01")
    born_later = await make_member(programme, birthday=f"{other_month:02d}-01")
    no_birthday = await make_member(programme)
    await run_all()
    await run_all()
    assert await Coupon.filter(member_id=born_now.id, template_id=template.id).count() == 1
    assert await Coupon.filter(member_id=born_later.id, template_id=template.id).count() == 0
    assert await Coupon.filter(member_id=no_birthday.id, template_id=template.id).count() == 0


async def test_the_job_stops_issuing_when_the_stock_runs_out(programme, make_member):
    await add_allowance(programme, "BRONZE", 1)
    template = await make_template(
        programme, claimable=False, auto_issue=AutoIssue.MONTHLY_ALLOWANCE, total_stock=2
    )
    for _ in range(3):
        await make_member(programme)
    await run_all()
    assert await Coupon.filter(template_id=template.id).count() == 2
    assert (await CouponTemplate.get(id=template.id)).stock_left == 0


async def test_the_wallet_filter_in_sql_agrees_with_the_domain_on_every_status(
    programme, make_member
):
    # given coupons in every state: available, locked, lapsed lock, used, expired
    member = await make_member(programme)
    short = await make_template(programme, valid_days=1)
    long = await make_template(programme, valid_days=10)
    coupons = [await claim(programme, t, member) for t in (short, long, long, long, long)]
    for n, order in ((2, "o-live"), (3, "o-used"), (4, "o-lapse")):
        await checkout.lock(
            staff(programme),
            code=coupons[n].row.code,
            order_ref=order,
            cart=None,
            idempotency_key=uuid.uuid4().hex,
        )
    await checkout.redeem(
        staff(programme), code=coupons[3].row.code, order_ref="o-used", idempotency_key="u"
    )
    principal = Principal(programme_id=programme.id, role=Role.ADMIN, key_id=-1)
    # when the clock moves through the lock time and the short coupon's end
    for minutes in (0, 29, 31, 60 * 24, 60 * 24 * 11):
        if minutes:
            now = await programme_time(programme.id)
            target = (await Coupon.get(id=coupons[0].row.id)).issued_at + timedelta(minutes=minutes)
            await advance(programme, seconds=int((target - now).total_seconds()))
        views = {
            v.row.id: v.status
            for v in (await wallet.by_ids(principal, [c.row.id for c in coupons])).values()
        }
        # then each status filter returns exactly the coupons the domain puts in it
        for status in CouponStatus:
            page, _ = await wallet.page(
                principal,
                member,
                page_request(first=100),
                status=status,
                now=await programme_time(programme.id),
            )
            assert {v.row.id for v in page} == {i for i, s in views.items() if s is status}
        if minutes == 0:
            assert sorted(views.values()) == sorted(
                [
                    CouponStatus.AVAILABLE,
                    CouponStatus.AVAILABLE,
                    CouponStatus.LOCKED,
                    CouponStatus.USED,
                    CouponStatus.LOCKED,
                ]
            )
    assert views[coupons[0].row.id] is CouponStatus.EXPIRED
    assert views[coupons[3].row.id] is CouponStatus.USED


async def test_run_jobs_tidies_lapsed_locks_and_twice_changes_nothing(programme, make_member):
    member = await make_member(programme)
    coupon = await claim(programme, await make_template(programme), member)
    await checkout.lock(
        staff(programme), code=coupon.row.code, order_ref="o", cart=None, idempotency_key="l"
    )
    await advance(programme, seconds=31 * 60)
    first = await run_all()
    second = await run_all()
    row = await Coupon.get(id=coupon.row.id)
    assert (row.status, row.order_ref, row.lock_expires_at) == ("AVAILABLE", None, None)
    assert first.coupon_locks_released >= 1
    assert second.coupon_locks_released == 0


async def test_stock_is_never_taken_from_a_retired_template(programme, make_member):
    """A retire that commits between a claim's checks and its stock update still wins."""
    from db.repositories import coupon_templates as template_repo
    from services.coupons import templates

    template = await make_template(programme, total_stock=5)
    await templates.retire(admin_of(programme), template.id)
    assert not await template_repo.take_stock(template.id, 1)
    row = await CouponTemplate.get(id=template.id)
    assert (row.stock_left, row.issued) == (5, 0)


async def test_a_coupon_sold_for_points_or_issued_by_the_job_is_not_free_to_claim(
    programme, make_member
):
    from domain.coupons.templates import default_claimable

    member = await make_member(programme)
    for_points = await make_template(programme, points_price=500)
    monthly = await make_template(programme, auto_issue=AutoIssue.MONTHLY_ALLOWANCE)
    assert not for_points.claimable and not monthly.claimable
    for template in (for_points, monthly):
        assert await refused(claim(programme, template, member)) is ErrorCode.NOT_CLAIMABLE
    assert await Coupon.filter(member_id=member.id).count() == 0
    # and saying otherwise is refused
    with pytest.raises(DomainError) as caught:
        await make_template(programme, points_price=500, claimable=True)
    assert [e.field for e in caught.value.errors] == ["claimable"]
    assert default_claimable(None, AutoIssue.NONE)


async def test_stacked_coupons_never_take_off_more_than_the_cart_is_worth(programme, make_member):
    # given two stackable 50.00-off coupons and a 60.00 cart
    from domain.coupons import Cart, CartLine

    member = await make_member(programme)
    template = await make_template(
        programme, kind=CouponKind.NO_THRESHOLD, amount=5_000, threshold=0, stackable=True
    )
    first, second = (
        await claim(programme, template, member),
        await claim(programme, template, member),
    )
    cart = Cart((CartLine("sku-1", "general", 6_000, 1),))
    # when validated together
    checked = await checkout.validate(
        staff(programme),
        member_external_id=member.external_id,
        cart=cart,
        codes=[first.row.code, second.row.code],
    )
    # then the second takes only what the first left
    assert [c.outcome.discount for c in checked.checks] == [5_000, 1_000]
    assert checked.discount == 6_000
    # and locking both to one order stores the same
    for coupon in (first, second):
        locked = await checkout.lock(
            staff(programme), code=coupon.row.code, order_ref="o-1", cart=cart,
            idempotency_key=uuid.uuid4().hex,
        )  # fmt: skip
        last = locked.row.discount
    assert last == 1_000


async def test_cancelling_an_order_gives_back_the_coupon_used_on_it(programme, make_member):
    from services.points import orders as order_service
    from tests.fixtures.points import place_order

    member = await make_member(programme)
    coupon = await claim(programme, await make_template(programme), member)
    order = await place_order(programme, member)
    for step in (checkout.lock, checkout.redeem):
        kwargs = {"cart": None} if step is checkout.lock else {}
        await step(
            staff(programme), code=coupon.row.code, order_ref=order.order_ref,
            idempotency_key=uuid.uuid4().hex, **kwargs,
        )  # fmt: skip
    assert (await Coupon.get(id=coupon.row.id)).status == "USED"
    await order_service.cancel(staff(programme), order.order_ref, idempotency_key=uuid.uuid4().hex)
    row = await Coupon.get(id=coupon.row.id)
    assert (row.status, row.order_ref, row.used_at) == ("AVAILABLE", None, None)


async def test_a_coupon_bought_with_points_cannot_be_reversed_into_free_points(
    programme, make_member
):
    from services.points import redemption

    template = await make_template(programme, points_price=300)
    member = await make_member(programme)
    await give_points(programme, member, 1_000)
    bought = await claims.exchange_points(
        staff(programme),
        template_id=template.id,
        member_external_id=member.external_id,
        idempotency_key=uuid.uuid4().hex,
    )
    code = await refused(
        redemption.reverse_redemption(
            admin_of(programme),
            transaction_id=bought.row.points_transaction_id,
            reason="mistake",
            idempotency_key=uuid.uuid4().hex,
        )
    )
    assert code is ErrorCode.NOT_ELIGIBLE
    assert (await assert_ledger_consistent(member)).points_available == 700


@needs_postgres
async def test_the_lapsed_lock_job_skips_a_coupon_a_checkout_holds_instead_of_waiting(
    programme, make_member
):
    """It takes rows in id order and skips held ones, so it cannot deadlock with a cancel."""
    import asyncio

    import asyncpg

    from tests.conftest import DATABASE_URL

    member = await make_member(programme)
    template = await make_template(programme)
    held, free = await claim(programme, template, member), await claim(programme, template, member)
    for coupon in (held, free):
        await checkout.lock(
            staff(programme), code=coupon.row.code, order_ref=f"o-{coupon.row.id}", cart=None,
            idempotency_key=uuid.uuid4().hex,
        )  # fmt: skip
    await advance(programme, seconds=31 * 60)
    other = await asyncpg.connect(DATABASE_URL.replace("postgres://", "postgresql://", 1))
    try:
        async with other.transaction():
            await other.execute("SELECT 1 FROM coupons WHERE id = $1 FOR UPDATE", held.row.id)
            released = await asyncio.wait_for(
                checkout.release_lapsed(programme.id, await programme_time(programme.id)), 5
            )
    finally:
        await other.close()
    assert released == 1
    assert (await Coupon.get(id=free.row.id)).status == "AVAILABLE"
    assert (await Coupon.get(id=held.row.id)).status == "LOCKED"


async def test_locking_caps_items_and_shipping_as_validation_does(programme, make_member):
    """Items 60.00 and shipping 10.00: a second 50-off takes the 10.00 of items left, not
    the shipping too, whether asked by validateCoupons or stored by lockCoupon."""
    from domain.coupons import Cart, CartLine

    member = await make_member(programme)
    template = await make_template(
        programme, kind=CouponKind.NO_THRESHOLD, amount=5_000, threshold=0, stackable=True
    )
    first, second = (
        await claim(programme, template, member),
        await claim(programme, template, member),
    )
    cart = Cart((CartLine("sku-1", "general", 6_000, 1),), shipping_fee=1_000)
    checked = await checkout.validate(
        staff(programme), member_external_id=member.external_id, cart=cart,
        codes=[first.row.code, second.row.code],
    )  # fmt: skip
    stored = []
    for coupon in (first, second):
        locked = await checkout.lock(
            staff(programme), code=coupon.row.code, order_ref="o-1", cart=cart,
            idempotency_key=uuid.uuid4().hex,
        )  # fmt: skip
        stored.append(locked.row.discount)
    assert [c.outcome.discount for c in checked.checks] == stored == [5_000, 1_000]
