"""Issue 18.3: erasing a member removes its personal data and keeps every total whole."""

from __future__ import annotations

import uuid

from tortoise import connections

from db.models import (
    Event,
    Member,
    MemberSegment,
    Order,
    PointTransaction,
    RecommendationList,
)
from domain.auth import Role
from services.points.activity import check_ins, referrals
from services.recommendations.build import build
from tests.conftest import ON_POSTGRES
from tests.fixtures.points import assert_ledger_consistent, complete, staff
from tests.fixtures.recommendations import buy, stock_shop
from tests.graphql.test_auth import token_for

REGISTER = """
mutation ($input: RegisterMemberInput!) {
  registerMember(input: $input) { __typename ... on RegisterMemberSuccess { member { id } } }
}
"""
ERASE = """
mutation ($input: EraseMemberInput!) {
  eraseMember(input: $input) {
    __typename
    ... on EraseMemberSuccess { forfeitedPoints
      member { id externalId displayName email phone birthday consent { marketing profiling } } }
    ... on EraseMemberError { errors { field code message } }
  }
}
"""
VIEWER = "{ viewer { externalId } }"
MEMBER = "query ($e: String!) { member(externalId: $e) { id displayName } }"
EVENTS_OF = "SELECT type FROM events WHERE member_id = {id} ORDER BY id"

NAME, EMAIL, PHONE = "Zhang Xiaoming", "zhang.xm@example.com", "+8613912345678"


def erase_input(external_id: str, **overrides) -> dict:
    return {
        "externalId": external_id,
        "reason": "the member asked (ticket 4711)",
        "idempotencyKey": uuid.uuid4().hex,
        **overrides,
    }


async def text_columns() -> list[tuple[str, str]]:
    """Every text-like column of every table of ours."""
    db = connections.get("default")
    if ON_POSTGRES:
        rows = await db.execute_query_dict(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN "
            "('character varying', 'text', 'json', 'jsonb', 'character')"
        )
        return [(r["table_name"], r["column_name"]) for r in rows]
    found = []
    tables = await db.execute_query_dict(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    for table in tables:
        for column in await db.execute_query_dict(f'PRAGMA table_info("{table["name"]}")'):
            if any(kind in column["type"].upper() for kind in ("CHAR", "TEXT", "JSON")):
                found.append((table["name"], column["name"]))
    return found


async def where_found(value: str) -> list[str]:
    db = connections.get("default")
    hits = []
    for table, column in await text_columns():
        cast = f'"{column}"::text' if ON_POSTGRES else f'"{column}"'
        sql = f'SELECT COUNT(*) AS n FROM "{table}" WHERE {cast} LIKE $1'
        if not ON_POSTGRES:
            sql = sql.replace("$1", "?")
        [row] = await db.execute_query_dict(sql, [f"%{value}%"])
        if row["n"]:
            hits.append(f"{table}.{column}")
    return hits


async def programme_totals(programme_id: int) -> dict[str, int]:
    db = connections.get("default")
    p = "$1" if ON_POSTGRES else "?"
    [ledger] = await db.execute_query_dict(
        f"SELECT COALESCE(SUM(amount), 0) AS points, COUNT(*) AS rows "
        f"FROM point_transactions WHERE programme_id = {p}",
        [programme_id],
    )
    [orders] = await db.execute_query_dict(
        f"SELECT COALESCE(SUM(amount), 0) AS amount, COUNT(*) AS n, "
        f"COALESCE(SUM(points), 0) AS points FROM orders WHERE programme_id = {p}",
        [programme_id],
    )
    return {
        "ledger_points": int(ledger["points"]),
        "ledger_rows": int(ledger["rows"]),
        "order_amount": int(orders["amount"]),
        "orders": int(orders["n"]),
        "order_points": int(orders["points"]),
    }


async def test_erasure_leaves_no_pii_anywhere_and_every_total_whole(
    gql, programme, make_key, make_member
):
    # given a member with a long history: orders (completed and pending), a check-in, a
    # referral, a redemption, a segment and recommendations, events, audit rows, a token
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    external_id = f"shop-{uuid.uuid4().hex[:8]}"
    registered = await gql(
        REGISTER,
        {
            "input": {
                "externalId": external_id,
                "displayName": NAME,
                "email": EMAIL,
                "phone": PHONE,
                "birthday": "07-14",
                "consent": {"marketing": True, "profiling": True},
                "idempotencyKey": uuid.uuid4().hex,
            }
        },
        auth=storefront,
    )
    member_id = registered["data"]["registerMember"]["member"]["id"]
    member = await Member.get(programme_id=programme.id, external_id=external_id)
    neighbour = await make_member(programme)
    await stock_shop(programme)
    for skus in (("phone", "case"), ("shampoo",), ("earbuds",)):
        await complete(programme, await buy(programme, member, *skus))
    await buy(programme, member, "kettle")  # still pending
    await complete(programme, await buy(programme, neighbour, "phone", "earbuds"))
    await check_ins.check_in(staff(programme), member_external_id=external_id, idempotency_key="c1")
    invitee = await make_member(programme)
    await referrals.accept_referral(
        staff(programme),
        invite_code=await referrals.invite_code(staff(programme), member),
        invitee_external_id=invitee.external_id,
        idempotency_key=uuid.uuid4().hex,
    )
    await gql(
        """mutation ($e: String!, $k: String!) { redeemPoints(input: {memberExternalId: $e,
        amount: 50, reason: "mug", idempotencyKey: $k}) { __typename } }""",
        {"e": external_id, "k": uuid.uuid4().hex},
        auth=storefront,
    )
    held = await gql(
        """mutation ($e: String!, $k: String!) { holdPoints(input: {memberExternalId: $e,
        amount: 30, orderId: "checkout-1", idempotencyKey: $k}) { __typename } }""",
        {"e": external_id, "k": uuid.uuid4().hex},
        auth=storefront,
    )
    assert held["data"]["holdPoints"]["__typename"] == "HoldSuccess"
    await build(programme)
    token = await token_for(gql, storefront, external_id)
    assert (await gql(VIEWER, auth=token))["data"]["viewer"]["externalId"] == external_id
    assert await MemberSegment.filter(member_id=member.id).exists()
    assert await RecommendationList.filter(member_id=member.id).exists()
    for pii in (NAME, EMAIL, PHONE, external_id):
        assert await where_found(pii), pii  # the scan does find them before
    spendable = (await Member.get(id=member.id)).points_available
    assert spendable > 0
    before = await programme_totals(programme.id)

    # when
    body = await gql(ERASE, {"input": erase_input(external_id)}, auth=admin)

    # then
    result = body["data"]["eraseMember"]
    assert result["__typename"] == "EraseMemberSuccess", result
    assert result["forfeitedPoints"] == spendable
    erased = result["member"]
    assert erased["id"] == member_id
    assert erased["externalId"].startswith("erased-")
    assert (erased["displayName"], erased["email"], erased["phone"], erased["birthday"]) == (
        "",
        None,
        None,
        None,
    )
    assert erased["consent"] == {"marketing": False, "profiling": False}
    for pii in (NAME, EMAIL, PHONE, external_id):
        assert await where_found(pii) == [], pii
    after = await programme_totals(programme.id)
    assert after == {
        **before,
        "ledger_points": before["ledger_points"] - spendable,
        "ledger_rows": before["ledger_rows"] + 1,
    }
    erase_row = await PointTransaction.get(member_id=member.id, kind="ERASE")
    assert (erase_row.amount, erase_row.reason) == (-spendable, "the member asked (ticket 4711)")
    row = await assert_ledger_consistent(member)
    assert row.points_available == 0 and row.points_pending > 0  # the pending order stays
    assert row.points_held == 0  # the open hold was released, then forfeited
    assert await Order.filter(member_id=member.id).count() == 4
    assert not await MemberSegment.filter(member_id=member.id).exists()
    assert not await RecommendationList.filter(member_id=member.id).exists()
    assert await MemberSegment.filter(member_id=neighbour.id).exists()
    # the token is refused; the old id names nobody and registers someone new
    assert (await gql(VIEWER, auth=token))["data"]["viewer"] is None
    assert (await gql(MEMBER, {"e": external_id}, auth=admin))["data"]["member"] is None
    again = await gql(
        REGISTER,
        {"input": {"externalId": external_id, "displayName": "New", "idempotencyKey": "n1"}},
        auth=storefront,
    )
    assert again["data"]["registerMember"]["member"]["id"] != member_id
    new = await Member.get(programme_id=programme.id, external_id=external_id)
    assert await PointTransaction.filter(member_id=new.id).count() == 0
    # the event says so, without personal data
    erased_event = await Event.get(member_id=member.id, type="member.erased")
    assert erased_event.payload == {
        "version": 1,
        "member": {"externalId": erased["externalId"]},
        "forfeitedPoints": spendable,
    }


async def test_erasure_is_idempotent_admin_only_and_within_the_programme(
    gql, programme, make_programme, make_key, make_member
):
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme, display_name="Li Lei")
    other = await make_programme()
    other_admin = await make_key(other, Role.ADMIN)
    request = erase_input(member.external_id)

    from_other = await gql(ERASE, {"input": request}, auth=other_admin)
    by_storefront = await gql(ERASE, {"input": erase_input(member.external_id)}, auth=storefront)
    bad = await gql(ERASE, {"input": erase_input(member.external_id, reason=" ")}, auth=admin)
    assert (await Member.get(id=member.id)).erased_at is None

    first = await gql(ERASE, {"input": request}, auth=admin)
    replay = await gql(ERASE, {"input": request}, auth=admin)
    later = await gql(ERASE, {"input": erase_input(member.external_id)}, auth=admin)

    assert from_other["data"]["eraseMember"]["errors"][0]["code"] == "NOT_FOUND"
    assert by_storefront["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert bad["data"]["eraseMember"]["errors"][0]["field"] == "reason"
    assert first["data"]["eraseMember"]["__typename"] == "EraseMemberSuccess"
    assert replay["data"] == first["data"]
    assert later["data"]["eraseMember"]["errors"][0]["code"] == "NOT_FOUND"
    assert await Event.filter(member_id=member.id, type="member.erased").count() == 1
    await assert_ledger_consistent(member)


async def test_erasure_also_scrubs_a_former_name_and_the_referral_naming_the_member(
    gql, programme, make_key, make_member
):
    # given a member registered under one name and renamed since (its member.registered
    # event still carries the first name), and invited by another member whose
    # referral.rewarded event names it by its externalId
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    external_id = f"shop-{uuid.uuid4().hex[:8]}"
    first_name, second_name = "Ingrid Former-Name", "Ingrid Later-Name"
    registered = await gql(
        REGISTER,
        {
            "input": {
                "externalId": external_id,
                "displayName": first_name,
                "idempotencyKey": uuid.uuid4().hex,
            }
        },
        auth=storefront,
    )
    assert registered["data"]["registerMember"]["__typename"] == "RegisterMemberSuccess"
    renamed = await gql(
        """mutation ($e: String!, $n: String!) { updateMember(input: {externalId: $e,
        displayName: $n}) { __typename } }""",
        {"e": external_id, "n": second_name},
        auth=admin,
    )
    assert renamed["data"]["updateMember"]["__typename"] == "UpdateMemberSuccess"
    member = await Member.get(programme_id=programme.id, external_id=external_id)
    inviter = await make_member(programme)
    await referrals.accept_referral(
        staff(programme),
        invite_code=await referrals.invite_code(staff(programme), inviter),
        invitee_external_id=external_id,
        idempotency_key=uuid.uuid4().hex,
    )
    await stock_shop(programme)
    await complete(programme, await buy(programme, member, "phone"))
    rewarded = await Event.get(member_id=inviter.id, type="referral.rewarded")
    assert rewarded.payload["invitee"]["externalId"] == external_id
    assert await where_found(first_name) and await where_found(external_id)

    # when
    body = await gql(ERASE, {"input": erase_input(external_id)}, auth=admin)

    # then neither the former name nor the old externalId is left anywhere
    assert body["data"]["eraseMember"]["__typename"] == "EraseMemberSuccess", body
    assert await where_found(first_name) == []
    assert await where_found(second_name) == []
    assert await where_found(external_id) == []
    # and the inviter's event names the member by its pseudonym, as its own events do
    pseudonym = (await Member.get(id=member.id)).external_id
    rewarded = await Event.get(member_id=inviter.id, type="referral.rewarded")
    assert rewarded.payload["invitee"]["externalId"] == pseudonym
    assert rewarded.payload["member"]["externalId"] == inviter.external_id


async def test_erasure_writes_only_event_types_a_receiver_can_subscribe_to(
    gql, programme, make_key, make_member
):
    """The forfeit's ledger row fell through to a made-up `points.erase` type: not in
    EventType, so no endpoint could subscribe to it and no `events(types:)` could ask for it.
    `member.erased` tells the forfeit (forfeitedPoints)."""
    from domain.events import EventType

    admin = await make_key(programme, Role.ADMIN)
    member = await make_member(programme)
    await stock_shop(programme)
    await complete(programme, await buy(programme, member, "phone"))
    spendable = (await Member.get(id=member.id)).points_available
    assert spendable > 0

    body = await gql(ERASE, {"input": erase_input(member.external_id)}, auth=admin)

    assert body["data"]["eraseMember"]["forfeitedPoints"] == spendable
    written = {e.type for e in await Event.filter(member_id=member.id)}
    assert written <= {t.value for t in EventType}, written - {t.value for t in EventType}
    erased = await Event.get(member_id=member.id, type="member.erased")
    assert erased.payload["forfeitedPoints"] == spendable


async def test_erasing_an_invitee_takes_its_old_id_out_of_the_inviters_events(
    gql, programme, make_key, make_member
):
    # given an invitee whose first order rewarded its inviter: the inviter's
    # referral.rewarded event names the invitee by its externalId
    from tests.fixtures.points import line, place_order

    admin = await make_key(programme, Role.ADMIN)
    inviter, invitee = await make_member(programme), await make_member(programme)
    await referrals.accept_referral(
        staff(programme),
        invite_code=await referrals.invite_code(staff(programme), inviter),
        invitee_external_id=invitee.external_id,
        idempotency_key=uuid.uuid4().hex,
    )
    await complete(programme, await place_order(programme, invitee, line(price=10_000)))
    [rewarded] = await Event.filter(member_id=inviter.id, type="referral.rewarded")
    assert rewarded.payload["invitee"] == {"externalId": invitee.external_id}

    # when the invitee is erased
    body = await gql(ERASE, {"input": erase_input(invitee.external_id)}, auth=admin)
    result = body["data"]["eraseMember"]
    assert result["__typename"] == "EraseMemberSuccess", result

    # then its old id is nowhere, the inviter's event names it by its pseudonym, and the
    # inviter's own id stays
    assert await where_found(invitee.external_id) == []
    rewarded = await Event.get(id=rewarded.id)
    assert rewarded.payload["invitee"] == {"externalId": result["member"]["externalId"]}
    assert rewarded.payload["member"] == {"externalId": inviter.external_id}


async def test_erasure_empties_what_webhook_receivers_answered_about_the_member(
    gql, programme, make_key
):
    # given a receiver that echoes what it got (many do, in an error or an acknowledgement),
    # so a delivery of the member's member.registered event keeps its name and id
    from db.models import WebhookDelivery, WebhookEndpoint
    from services.webhooks.worker import Deliverer
    from tests.fixtures.events import feed_caught_up
    from tests.fixtures.receiver import receiver
    from tests.fixtures.webhooks import configure, make_endpoint, until_idle

    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    external_id = f"shop-{uuid.uuid4().hex[:8]}"
    configure()
    try:
        with receiver() as rx:
            rx.answers = [(200, f"got {external_id} ({NAME})".encode())]
            made = await make_endpoint(programme, rx.url, event_types=["member.registered"])
            registered = await gql(
                REGISTER,
                {
                    "input": {
                        "externalId": external_id,
                        "displayName": NAME,
                        "idempotencyKey": uuid.uuid4().hex,
                    }
                },
                auth=storefront,
            )
            assert registered["data"]["registerMember"]["member"]["id"]
            await feed_caught_up()
            await until_idle(Deliverer(configure()))
        [delivery] = await WebhookDelivery.filter(endpoint_id=made.endpoint.id)
        assert external_id in delivery.last_response and NAME in delivery.last_response

        # when the member is erased
        body = await gql(ERASE, {"input": erase_input(external_id)}, auth=admin)
        assert body["data"]["eraseMember"]["__typename"] == "EraseMemberSuccess", body

        # then no stored answer holds its old id or name; the delivery itself stays
        for pii in (NAME, external_id):
            assert await where_found(pii) == [], pii
        delivery = await WebhookDelivery.get(id=delivery.id)
        assert (delivery.last_status_code, delivery.attempts) == (200, 1)
    finally:
        await WebhookEndpoint.filter(programme_id=programme.id).delete()


async def test_an_erased_members_token_reads_nothing_by_global_id(
    gql, programme, make_key, make_member
):
    # given a member token that read one of its ledger rows by global id
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    await check_ins.check_in(
        staff(programme), member_external_id=member.external_id, idempotency_key="c1"
    )
    token = await token_for(gql, storefront, member.external_id)
    history = await gql(
        "{ viewer { transactions(first: 1) { edges { node { id } } } } }", auth=token
    )
    row_id = history["data"]["viewer"]["transactions"]["edges"][0]["node"]["id"]
    node = "query ($id: ID!) { node(id: $id) { id } }"
    assert (await gql(node, {"id": row_id}, auth=token))["data"]["node"] == {"id": row_id}

    # when the member is erased
    body = await gql(ERASE, {"input": erase_input(member.external_id)}, auth=admin)
    assert body["data"]["eraseMember"]["__typename"] == "EraseMemberSuccess", body

    # then the token is refused there too, not only on viewer
    assert (await gql(node, {"id": row_id}, auth=token))["data"]["node"] is None
