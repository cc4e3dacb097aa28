"""Checkout holds through the API: capture, release and expiry."""

from __future__ import annotations

from tests.fixtures.points import assert_ledger_consistent
from tests.graphql.points.documents import CAPTURE_HOLD, NODE_HOLD, RELEASE_HOLD
from tests.graphql.points.helpers import (
    advance,
    codes,
    fund,
    hold,
    mutate,
    parse,
    points_of,
    programme_now,
    redeem,
)


async def test_a_partial_capture_spends_that_much_and_releases_the_rest(
    gql, programme, make_member, keys
):
    # given 500 points, 300 of them held at checkout
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 500)
    held = await hold(gql, storefront, member.external_id, 300)
    assert held["hold"]["status"] == "HELD"
    assert (held["member"]["points"]["held"], held["member"]["points"]["spendable"]) == (300, 200)
    hold_id = held["hold"]["id"]
    # when 120 of it is captured
    captured = await mutate(
        gql, CAPTURE_HOLD, "captureHold", storefront, holdId=hold_id, amount=120
    )
    # then
    assert captured["__typename"] == "HoldSuccess", captured
    assert (captured["hold"]["status"], captured["hold"]["captured"]) == ("CAPTURED", 120)
    assert captured["member"]["points"] == {
        "available": 380,
        "pending": 0,
        "held": 0,
        "spendable": 380,
    }
    # and a second capture is refused, changing nothing
    again = await mutate(gql, CAPTURE_HOLD, "captureHold", storefront, holdId=hold_id, amount=50)
    assert again["__typename"] == "CaptureHoldError"
    assert codes(again) == ["HOLD_CLOSED"]
    points = await points_of(gql, storefront, member.external_id)
    assert (points["available"], points["held"], points["spendable"]) == (380, 0, 380)
    await assert_ledger_consistent(member)


async def test_releasing_a_hold_gives_its_points_back(gql, programme, make_member, keys):
    # given
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 500)
    held = await hold(gql, storefront, member.external_id, 300)
    # when
    released = await mutate(gql, RELEASE_HOLD, "releaseHold", storefront, holdId=held["hold"]["id"])
    # then
    assert released["__typename"] == "HoldSuccess", released
    assert (released["hold"]["status"], released["hold"]["captured"]) == ("RELEASED", 0)
    assert released["member"]["points"] == {
        "available": 500,
        "pending": 0,
        "held": 0,
        "spendable": 500,
    }
    again = await mutate(gql, RELEASE_HOLD, "releaseHold", storefront, holdId=held["hold"]["id"])
    assert codes(again) == ["HOLD_CLOSED"]
    capture = await mutate(
        gql, CAPTURE_HOLD, "captureHold", storefront, holdId=held["hold"]["id"], amount=10
    )
    assert codes(capture) == ["HOLD_CLOSED"]
    assert (await points_of(gql, storefront, member.external_id))["available"] == 500


async def test_a_hold_captured_after_it_expired_is_hold_expired(gql, programme, make_member, keys):
    # given a hold, and the clock past its expiry
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    held = await hold(gql, storefront, member.external_id, 60)
    expires_in = parse(held["hold"]["expiresAt"]) - parse(await programme_now(gql, storefront))
    await advance(gql, admin, seconds=int(expires_in.total_seconds()) + 1)
    # when
    result = await mutate(
        gql, CAPTURE_HOLD, "captureHold", storefront, holdId=held["hold"]["id"], amount=60
    )
    # then nothing is spent and the hold is given back
    assert result["__typename"] == "CaptureHoldError"
    assert codes(result) == ["HOLD_EXPIRED"]
    points = await points_of(gql, storefront, member.external_id)
    assert (points["available"], points["held"], points["spendable"]) == (100, 0, 100)
    node = await gql(NODE_HOLD, {"id": held["hold"]["id"]}, auth=storefront)
    assert node["data"]["node"]["status"] == "EXPIRED"


async def test_held_points_cannot_be_redeemed(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 100)
    await hold(gql, storefront, member.external_id, 80)
    result = await redeem(gql, storefront, memberExternalId=member.external_id, amount=30)
    assert codes(result) == ["INSUFFICIENT_POINTS"]
