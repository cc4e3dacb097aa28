"""Round trips to the database of the spending and engagement writes, first call of each."""

from __future__ import annotations

import os

import pytest

from domain.auth import Role
from tests.graphql.coupons.helpers import claim, create_template
from tests.graphql.points.documents import CAPTURE_HOLD, CHECK_IN
from tests.graphql.points.helpers import fund, hold, mutate, redeem
from tests.graphql.test_auth import token_for
from tests.graphql.test_query_counts import counting_statements as _counting
from contextlib import contextmanager
from tortoise import connections


@contextmanager
def counting_statements():
    client_class = type(connections.get("default"))
    originals = {}
    for name in ("execute_query", "execute_query_dict", "execute_insert", "execute_script"):
        original = getattr(client_class, name)
        originals[name] = original

        def wrapper(self, *args, _original=original, _name=name, **kwargs):
            if DEBUG:
                print("   SQL", _name, str(args[0])[:300].replace("\n", " "))
            return _original(self, *args, **kwargs)

        setattr(client_class, name, wrapper)
    try:
        with _counting() as c:
            yield c
    finally:
        for name, original in originals.items():
            setattr(client_class, name, original)

DEBUG = os.environ.get("SPEND_DEBUG")


@pytest.fixture
async def keys(programme, make_key) -> tuple[str, str]:
    """(admin, storefront) keys of the `programme`."""
    return await make_key(programme, Role.ADMIN), await make_key(programme, Role.STOREFRONT)


async def _warm(gql, key: str, external_id: str) -> None:
    await gql("query ($e: String!) { member(externalId: $e) { externalId } }", {"e": external_id}, auth=key)


async def test_redeem_points(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 500)
    await _warm(gql, storefront, member.external_id)
    with counting_statements() as counted:
        result = await redeem(gql, storefront, memberExternalId=member.external_id, amount=100)
    assert result["__typename"] == "TransactionSuccess", result
    print("redeem", counted["n"])
    assert counted["n"] <= 0


async def test_hold_points(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 500)
    await _warm(gql, storefront, member.external_id)
    with counting_statements() as counted:
        await hold(gql, storefront, member.external_id, 300)
    print("hold", counted["n"])
    assert counted["n"] <= 0


async def test_capture_hold(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 500)
    held = await hold(gql, storefront, member.external_id, 300)
    with counting_statements() as counted:
        captured = await mutate(
            gql, CAPTURE_HOLD, "captureHold", storefront, holdId=held["hold"]["id"], amount=120
        )
    assert captured["__typename"] == "HoldSuccess", captured
    print("capture", counted["n"])
    assert counted["n"] <= 0


async def test_claim_coupon(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await make_member(programme)
    template = await create_template(gql, admin)
    await _warm(gql, storefront, member.external_id)
    with counting_statements() as counted:
        result = await claim(gql, storefront, template["id"], member.external_id)
    assert result["__typename"] == "CouponSuccess", result
    print("claim", counted["n"])
    assert counted["n"] <= 0


async def test_check_in(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await make_member(programme)
    token = await token_for(gql, storefront, member.external_id)
    await _warm(gql, token, member.external_id)
    with counting_statements() as counted:
        result = await mutate(gql, CHECK_IN, "checkIn", token)
    assert result["__typename"] == "CheckInSuccess", result
    print("checkin", counted["n"])
    assert counted["n"] <= 0
