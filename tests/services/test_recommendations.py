"""Segments and recommendations through the services, on the real database."""

from __future__ import annotations

import uuid

import pytest

from db.models import MemberSegment, Programme, RecommendationList
from domain.errors import DomainError
from domain.paging import page_request
from domain.recommendations.model import Product
from domain.recommendations.ranking import Reason
from services.points import orders as order_service
from services.recommendations import catalogue, page
from services.recommendations.build import build
from tests.fixtures.factories import admin_of
from tests.fixtures.points import advance, staff
from tests.fixtures.recommendations import buy, stock_shop


async def programme_row(programme) -> Programme:
    return await Programme.get(id=programme.id)


async def shown(programme, member, first: int = 10) -> list[tuple[str, Reason]]:
    found = await page.recommendations(
        admin_of(programme), member, await programme_row(programme), first=first
    )
    return [(r.product.sku, r.reason) for r in found]


async def phone_buyers(programme, make_member, n: int = 4) -> None:
    for _ in range(n):
        await buy(
            programme, await make_member(programme, consent_profiling=True), "phone", "earbuds"
        )


async def test_products_bought_together_come_first_and_what_was_bought_is_left_out(
    programme, make_member
):
    # given members who buy phones with earbuds, and one who bought only the phone
    await stock_shop(programme)
    await phone_buyers(programme, make_member)
    member = await make_member(programme, consent_profiling=True)
    await buy(programme, member, "phone")
    # when the model is built
    report = await build(await programme_row(programme))
    # then the earbuds lead the member's list, and the phone is not offered again
    suggestions = await shown(programme, member)
    assert suggestions[0] == ("earbuds", Reason.BOUGHT_TOGETHER)
    assert "phone" not in [sku for sku, _ in suggestions]
    assert report.lists == 5 and report.pairs >= 2


async def test_a_purchase_after_the_build_is_left_out_at_once(programme, make_member):
    await stock_shop(programme)
    await phone_buyers(programme, make_member)
    member = await make_member(programme, consent_profiling=True)
    await buy(programme, member, "phone")
    await build(await programme_row(programme))
    assert ("earbuds", Reason.BOUGHT_TOGETHER) in await shown(programme, member)
    # when the member buys the earbuds before the next build
    await buy(programme, member, "earbuds")
    # then the page no longer suggests them
    assert "earbuds" not in [sku for sku, _ in await shown(programme, member)]


async def test_shampoo_is_not_sold_to_who_just_bought_it_but_suggested_when_due(
    programme, make_member
):
    # given a member who bought shampoo (a 30-day product) today
    await stock_shop(programme)
    member = await make_member(programme, consent_profiling=True)
    await buy(programme, member, "shampoo")
    await build(await programme_row(programme))
    assert "shampoo" not in [sku for sku, _ in await shown(programme, member)]
    # when 26 days pass (85% of the cycle)
    await advance(programme, days=26)
    # then it comes first, to replenish
    assert (await shown(programme, member))[0] == ("shampoo", Reason.REPLENISH)


async def test_without_profiling_consent_only_the_popular_list_is_shown(programme, make_member):
    await stock_shop(programme)
    await phone_buyers(programme, make_member)
    member = await make_member(programme, consent_profiling=False)
    await buy(programme, member, "phone")
    await build(await programme_row(programme))
    suggestions = await shown(programme, member)
    # no list of its own was stored, and what it sees is the overall popular list
    assert await RecommendationList.filter(member_id=member.id).count() == 0
    assert {reason for _, reason in suggestions} == {Reason.POPULAR}
    assert suggestions[0][0] in {"phone", "earbuds"}


async def test_a_member_joined_after_the_build_gets_the_popular_list(programme, make_member):
    await stock_shop(programme)
    await phone_buyers(programme, make_member)
    await build(await programme_row(programme))
    newcomer = await make_member(programme, consent_profiling=True)
    suggestions = await shown(programme, newcomer)
    # the bought products first, then the rest of the catalogue nobody has bought yet
    assert {sku for sku, _ in suggestions[:2]} == {"phone", "earbuds"}
    assert len(suggestions) == 7 and {r for _, r in suggestions} == {Reason.POPULAR}


async def test_first_is_capped_at_fifty(programme, make_member):
    member = await make_member(programme)
    with pytest.raises(DomainError) as caught:
        await page.recommendations(
            admin_of(programme), member, await programme_row(programme), first=51
        )
    assert caught.value.errors[0].field == "first"


async def test_segments_follow_the_lifecycle_thresholds(programme, make_member):
    # given members whose last orders are 0, 90 and 200 days old, and one who never ordered
    await stock_shop(programme)
    lapsed, sometimes, active = (
        await make_member(programme),
        await make_member(programme),
        await make_member(programme),
    )
    await buy(programme, lapsed, "tv")
    await buy(programme, lapsed, "kettle")
    await advance(programme, days=110)
    await buy(programme, sometimes, "kettle")
    await buy(programme, sometimes, "case")
    await advance(programme, days=90)
    await buy(programme, active, "phone")
    await buy(programme, active, "case")
    idle = await make_member(programme)
    await advance(programme, days=40)  # the idle member is no longer new
    # when
    await build(await programme_row(programme))
    # then
    rows = {s.member_id: s for s in await MemberSegment.filter(programme_id=programme.id)}
    assert rows[active.id].lifecycle == "ACTIVE"
    assert rows[sometimes.id].lifecycle == "INTERMITTENT"
    assert rows[lapsed.id].lifecycle == "AT_RISK"
    assert rows[idle.id].lifecycle == "INACTIVE"
    assert rows[active.id].recency_score > rows[lapsed.id].recency_score
    assert (rows[idle.id].recency_score, rows[idle.id].frequency) == (1, 0)


async def test_cancelled_orders_are_not_purchases(programme, make_member):
    await stock_shop(programme)
    member = await make_member(programme, consent_profiling=True)
    order = await buy(programme, member, "tv")
    await order_service.cancel(staff(programme), order.order_ref, idempotency_key=uuid.uuid4().hex)
    await build(await programme_row(programme))
    segment = await MemberSegment.get(member_id=member.id)
    assert segment.frequency == 0
    assert await RecommendationList.filter(member_id=member.id).count() == 0


async def test_a_product_upsert_overwrites_known_skus_and_adds_new_ones(programme):
    await stock_shop(programme)
    rows = await catalogue.upsert(
        admin_of(programme),
        [
            Product("tv", "Big TV", "appliances", 500_000, None, False),
            Product("radio", "Radio", "audio", 9_000),
        ],
        idempotency_key=uuid.uuid4().hex,
    )
    assert [(r.sku, r.title, r.active) for r in rows] == [
        ("tv", "Big TV", False),
        ("radio", "Radio", True),
    ]
    listed, _ = await catalogue.page(admin_of(programme), page_request(first=100), category=None)
    assert len(listed) == 8


async def test_building_twice_replaces_the_lists_and_segments(programme, make_member):
    await stock_shop(programme)
    await phone_buyers(programme, make_member, n=3)
    await build(await programme_row(programme))
    await build(await programme_row(programme))
    assert await RecommendationList.filter(programme_id=programme.id).count() == 4
    assert await MemberSegment.filter(programme_id=programme.id).count() == 3


async def test_a_member_with_little_history_gets_the_favourites_of_its_categories(
    programme, make_member
):
    # given televisions sell well on their own, and a member who bought only a kettle
    await stock_shop(programme)
    for _ in range(3):
        await buy(programme, await make_member(programme, consent_profiling=True), "tv")
    member = await make_member(programme, consent_profiling=True)
    await buy(programme, member, "kettle")
    await build(await programme_row(programme))
    # then its own category's best seller comes first, then the overall favourites
    suggestions = await shown(programme, member)
    assert suggestions[0] == ("tv", Reason.POPULAR_IN_CATEGORY)
    assert {reason for _, reason in suggestions[1:]} == {Reason.POPULAR}


async def test_a_delisted_product_is_not_suggested_for_replenishment(programme, make_member):
    await stock_shop(programme)
    member = await make_member(programme, consent_profiling=True)
    await buy(programme, member, "shampoo")
    await catalogue.upsert(
        admin_of(programme),
        [Product("shampoo", "Shampoo", "shampoo", 3_000, 30, active=False)],
        idempotency_key=uuid.uuid4().hex,
    )
    await build(await programme_row(programme))
    await advance(programme, days=26)
    assert "shampoo" not in [sku for sku, _ in await shown(programme, member)]


async def test_an_upsert_racing_another_for_a_new_sku_is_a_refusal_not_a_bug(
    programme, monkeypatch
):
    from db.repositories import recommendations as repo

    await stock_shop(programme)

    async def nothing_known(programme_id, skus):  # as if read before the other upsert
        return []

    monkeypatch.setattr(repo, "products_by_skus", nothing_known)
    with pytest.raises(DomainError) as caught:
        await catalogue.upsert(
            admin_of(programme),
            [Product("tv", "TV", "appliances", 1_000)],
            idempotency_key=uuid.uuid4().hex,
        )
    assert caught.value.errors[0].code.value == "ALREADY_EXISTS"
