"""Attacks on campaigns on the order path: each answers a clear result, never a masked or
top-level error, and the preview agrees with what recordOrder books."""

from __future__ import annotations

from typing import Any

from domain.auth import Role
from domain.campaigns import Effects
from domain.points import MAX_POINTS
from tests.graphql.campaigns.orders_helpers import PREVIEW, RECORD, make_campaign
from tests.graphql.points.helpers import line, order_input, parse, preview_of, programme_now


async def test_campaigns_worth_more_than_an_int_neither_break_the_preview_nor_refuse_the_order(
    gql, programme, make_member, make_key
):
    # given a campaign of the most bonus per item (1,000,000) and an order of the most items
    # (10,000): 10 billion points, beyond GraphQL's 32-bit Int and the most one operation books
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    now = await programme_now(gql, storefront)
    await make_campaign(programme, parse(now), code="BIG", effects=Effects(bonus_per_item=10**6))
    order = order_input(member.external_id, now, lines=[line("a", 100, 10_000)])
    # when it is previewed and recorded
    preview = await gql(PREVIEW, {"input": preview_of(order)}, auth=storefront)
    recorded = await gql(RECORD, {"input": order}, auth=storefront)
    # then the preview answers (no top-level error), the campaign is cut to what one order
    # may earn, and the order books exactly what the preview showed
    assert "errors" not in preview, preview
    shown: dict[str, Any] = preview["data"]["previewOrderPoints"]
    assert shown["total"] <= MAX_POINTS
    assert [(c["code"], c["applied"], c["capped"]) for c in shown["campaigns"]] == [
        ("BIG", True, True)
    ]
    result = recorded["data"]["recordOrder"]
    assert result["__typename"] == "OrderSuccess", result
    assert result["order"]["points"] == shown["total"]


async def test_stacked_campaigns_never_make_an_order_worth_more_than_one_operation_books(
    gql, programme, make_member, make_key
):
    # given five stackable 10x campaigns with a large per-item bonus each
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    now = await programme_now(gql, storefront)
    for code in ("ONE", "TWO", "THREE", "FOUR", "FIVE"):
        effects = Effects(multiplier=100_000, bonus_per_item=500_000)
        await make_campaign(programme, parse(now), code=code, effects=effects)
    order = order_input(member.external_id, now, lines=[line("a", 100, 1_000)])
    # when the preview is asked (each alone fits an Int, together they do not)
    preview = await gql(PREVIEW, {"input": preview_of(order)}, auth=storefront)
    # then it answers, within what one operation books
    assert "errors" not in preview, preview
    assert preview["data"]["previewOrderPoints"]["total"] <= MAX_POINTS
