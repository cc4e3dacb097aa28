"""Round trips to the database of the spending and engagement writes (issue 16): the first
call of each through the API, every round trip counted (the statements test_query_counts
counts, plus batch inserts and each transaction's BEGIN and COMMIT).

Before this change they were (PostgreSQL / SQLite): redeemPoints 20/19, holdPoints 17/14,
captureHold 24/23, claimCoupon 19/17, checkIn 17/17. What is left is mostly the idempotency
key, the ledger's writes, the audit row and the programme's read, which other changes make
cheaper: a maximum, not an exact count, so they can."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from tortoise import connections

from db.challenge_cache import active_challenges
from db.connection import is_postgres
from domain.auth import Role
from tests.graphql.coupons.helpers import claim, create_template
from tests.graphql.points.documents import CAPTURE_HOLD, CHECK_IN
from tests.graphql.points.helpers import fund, hold, mutate, redeem
from tests.graphql.test_auth import token_for

# (PostgreSQL, SQLite): SQLite has no writable CTE (two statements where PostgreSQL has
# one) and no lock timeout to set (two fewer); without Redis it reads the key each request.
# The idempotency key's claim is one statement on PostgreSQL and a read and an insert on SQLite.
# redeemPoints, holdPoints and captureHold on PostgreSQL are their read and their write
# (test_spend_optimistic), and here the programme's row twice: nothing in this test listens
# for invalidations to keep it in memory. claimCoupon on PostgreSQL: BEGIN, the key's claim
# with the member's lock, the programme, the stock's take, one statement for the coupon, its
# event, the key's result and the audit row, COMMIT (it was 11: a savepoint inside the
# audit's transaction, the member locked on its own, the key's result and the audit row each
# on their own statement). checkIn: its credit (the ledger row, its lot, the balances and
# the event) is one statement on PostgreSQL (it was three).
MAXIMA = {
    "redeemPoints": (4, 17),
    "holdPoints": (4, 12),
    "captureHold": (4, 20),
    "claimCoupon": (6, 13),
    "checkIn": (11, 16),
}


@pytest.fixture
async def keys(programme, make_key) -> tuple[str, str]:
    """(admin, storefront) keys of the `programme`."""
    return await make_key(programme, Role.ADMIN), await make_key(programme, Role.STOREFRONT)


STATEMENTS = ("execute_query", "execute_query_dict", "execute_insert", "execute_script")
# What counting_statements leaves out: a transaction wrapper's own batch insert (a
# bulk_create of lot movements) and the transaction's BEGIN and COMMIT, each a round trip.
ALSO = ("execute_many", "begin", "commit", "rollback")


def _classes(root: type) -> list[type]:
    found, todo = [], [root]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


@contextmanager
def round_trips(operation: str):
    """Every round trip of the block to the database: the statements counting_statements
    counts, plus batch inserts, BEGIN and COMMIT. Fails naming each if there are too many."""
    client_class = type(connections.get("default"))
    sent: list[str] = []
    patched = []
    for cls in _classes(client_class):
        for name in STATEMENTS + ALSO:
            # The client's own (inherited too), and what a transaction wrapper overrides.
            original = getattr(cls, name, None) if cls is client_class else cls.__dict__.get(name)
            if original is None:
                continue

            def wrapper(self, *args, _original=original, _name=name, **kwargs):
                query = " ".join(str(args[0]).split())[:160] if args else ""
                sent.append(f"{_name}: {query}")
                return _original(self, *args, **kwargs)

            patched.append((cls, name, original))
            setattr(cls, name, wrapper)
    try:
        yield
    finally:
        for cls, name, original in patched:
            setattr(cls, name, original)
    most = MAXIMA[operation][0 if is_postgres() else 1]
    assert len(sent) <= most, f"{operation}: {len(sent)} round trips\n" + "\n".join(sent)


async def _warm(gql, key: str, external_id: str) -> None:
    """A read first, so what a request costs anyway (the key, the programme) is warm."""
    query = "query ($e: String!) { member(externalId: $e) { externalId } }"
    await gql(query, {"e": external_id}, auth=key)


async def test_redeem_points(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 500)
    await _warm(gql, storefront, member.external_id)
    with round_trips("redeemPoints"):
        result = await redeem(gql, storefront, memberExternalId=member.external_id, amount=100)
    assert result["__typename"] == "TransactionSuccess", result
    assert result["member"]["points"]["available"] == 400


async def test_hold_points(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 500)
    await _warm(gql, storefront, member.external_id)
    with round_trips("holdPoints"):
        held = await hold(gql, storefront, member.external_id, 300)
    assert held["hold"]["status"] == "HELD"
    assert (held["member"]["points"]["held"], held["member"]["points"]["spendable"]) == (300, 200)


async def test_capture_hold(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await make_member(programme)
    await fund(gql, admin, member.external_id, 500)
    held = await hold(gql, storefront, member.external_id, 300)
    with round_trips("captureHold"):
        captured = await mutate(
            gql, CAPTURE_HOLD, "captureHold", storefront, holdId=held["hold"]["id"], amount=120
        )
    assert captured["__typename"] == "HoldSuccess", captured
    assert (captured["hold"]["status"], captured["hold"]["captured"]) == ("CAPTURED", 120)
    assert captured["member"]["points"]["available"] == 380


async def test_claim_coupon(gql, programme, make_member, keys):
    admin, storefront = keys
    member = await make_member(programme)
    template = await create_template(gql, admin, totalStock=10)
    await _warm(gql, storefront, member.external_id)
    with round_trips("claimCoupon"):
        result = await claim(gql, storefront, template["id"], member.external_id)
    assert result["__typename"] == "CouponSuccess", result
    assert result["coupon"]["status"] == "AVAILABLE"


async def test_check_in(gql, programme, make_member, keys):
    _, storefront = keys
    member = await make_member(programme)
    token = await token_for(gql, storefront, member.external_id)
    await _warm(gql, token, member.external_id)
    # the programme's challenges, cached as its campaigns are (registering warmed those)
    await active_challenges(programme.id)
    with round_trips("checkIn"):
        result = await mutate(gql, CHECK_IN, "checkIn", token)
    assert result["__typename"] == "CheckInSuccess", result
    assert result["streak"] == 1 and result["member"]["points"]["available"] == result["points"]
