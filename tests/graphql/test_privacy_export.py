"""Issue 18.2: a member's data as one JSON document, for an admin and for the member itself."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from db.models import PointTransaction
from domain.auth import Role
from services import privacy_export
from services.points.activity import check_ins
from tests.fixtures.points import complete, staff
from tests.fixtures.recommendations import buy, stock_shop
from tests.graphql.test_auth import token_for

EXPORT = "query ($e: String!) { exportMember(externalId: $e) { url expiresAt } }"
VIEWER_EXPORT = "{ viewer { export { url expiresAt } } }"
MEMBER_EXPORT = "query ($e: String!) { member(externalId: $e) { export { url } } }"


async def download(http, url: str) -> tuple[int, dict]:
    response = await http.get(url)
    return response.status_code, response.json()


async def test_an_admin_exports_everything_held_about_a_member(
    gql, http, programme, make_key, make_member
):
    admin = await make_key(programme, Role.ADMIN)
    member = await make_member(programme, email="wang@example.com", phone="+8613700000000")
    await stock_shop(programme)
    await complete(programme, await buy(programme, member, "phone", "case"))
    await buy(programme, member, "kettle")
    await check_ins.check_in(
        staff(programme), member_external_id=member.external_id, idempotency_key="c1"
    )

    body = await gql(EXPORT, {"e": member.external_id}, auth=admin)
    link = body["data"]["exportMember"]
    status, document = await download(http, link["url"])

    assert status == 200
    assert datetime.fromisoformat(link["expiresAt"]) > datetime.now(UTC)
    assert document["member"]["external_id"] == member.external_id
    assert document["member"]["email"] == "wang@example.com"
    assert document["member"]["consent_marketing"] is False
    assert len(document["orders"]) == 2
    assert {line["sku"] for line in document["orderLines"]} == {"phone", "case", "kettle"}
    ledger_ids = await PointTransaction.filter(member_id=member.id).values_list("id", flat=True)
    assert sorted(row["id"] for row in document["ledger"]) == sorted(ledger_ids)
    assert len(document["checkIns"]) == 1
    assert {e["type"] for e in document["events"]} >= {"member.registered", "points.earned"}
    assert document["partnerLinks"] == [] and document["webhookDeliveries"] == []
    for section in ("tierHistory", "lots", "holds", "coupons", "reviews", "referrals"):
        assert isinstance(document[section], list)


async def test_a_member_exports_itself_and_nobody_else_does_without_the_right(
    gql, http, programme, make_programme, make_key, make_member
):
    admin = await make_key(programme, Role.ADMIN)
    storefront = await make_key(programme, Role.STOREFRONT)
    member = await make_member(programme)
    neighbour = await make_member(programme)
    token = await token_for(gql, storefront, member.external_id)
    other_admin = await make_key(await make_programme(), Role.ADMIN)

    own = (await gql(VIEWER_EXPORT, auth=token))["data"]["viewer"]["export"]
    status, document = await download(http, own["url"])
    by_storefront = await gql(MEMBER_EXPORT, {"e": member.external_id}, auth=storefront)
    by_other_programme = await gql(EXPORT, {"e": member.external_id}, auth=other_admin)
    neighbours = await gql(MEMBER_EXPORT, {"e": neighbour.external_id}, auth=token)

    assert status == 200 and document["member"]["id"] == member.id
    assert by_storefront["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert by_other_programme["data"]["exportMember"] is None
    assert neighbours["data"]["member"] is None
    # a link is not a token, a token is not a link, and a changed link is refused
    assert (await http.get(f"/exports/members/{token}")).status_code == 401
    viewer = await gql("{ viewer { externalId } }", auth=own["url"].rsplit("/", 1)[1])
    assert viewer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await http.get(own["url"][:-2] + "xx")).status_code == 401
    assert (await gql(EXPORT, {"e": "nobody"}, auth=admin))["data"]["exportMember"] is None


async def test_the_document_is_streamed_in_batches_not_built_whole(programme, make_member):
    member = await make_member(programme)
    rows = [
        PointTransaction(
            programme_id=programme.id,
            member_id=member.id,
            kind="ADJUST",
            bucket="AVAILABLE",
            amount=1,
            available_after=n + 1,
            pending_after=0,
            reference_type="ADJUSTMENT",
            reference=f"r{n}",
            reason="bulk",
            actor="key:1",
            created_at=datetime.now(UTC),
        )
        for n in range(1_200)
    ]
    await PointTransaction.bulk_create(rows, batch_size=500)

    chunks = [c async for c in privacy_export.stream(programme.id, member.id, batch=100)]

    document = json.loads(b"".join(chunks))
    assert len(document["ledger"]) == 1_200
    assert [row["reference"] for row in document["ledger"]][:3] == ["r0", "r1", "r2"]
    assert len(chunks) > 12  # one piece per batch of 100 at least
    assert max(len(c) for c in chunks) < len(b"".join(chunks)) / 8


async def test_an_unknown_member_or_another_programmes_link_streams_nothing(programme):
    assert [c async for c in privacy_export.stream(programme.id, 2**31 - 1)] == []
    assert not await privacy_export.exists(programme.id + 10_000, 1)


async def test_the_export_holds_the_webhook_deliveries_about_the_member(
    gql, http, programme, make_key, make_member
):
    # given two members whose registrations were delivered to a webhook endpoint
    from db.models import WebhookDelivery, WebhookEndpoint
    from services.webhooks.worker import Deliverer
    from tests.fixtures.events import feed_caught_up
    from tests.fixtures.receiver import receiver
    from tests.fixtures.webhooks import configure, make_endpoint, until_idle

    admin = await make_key(programme, Role.ADMIN)
    configure()
    try:
        with receiver() as rx:
            made = await make_endpoint(programme, rx.url, event_types=["member.registered"])
            member, other = await make_member(programme), await make_member(programme)
            await feed_caught_up()
            await until_idle(Deliverer(configure()))
        deliveries = await WebhookDelivery.filter(endpoint_id=made.endpoint.id).values(
            "id", "event__member_id"
        )
        assert {d["event__member_id"] for d in deliveries} == {member.id, other.id}

        # when the member's data is exported
        body = await gql(EXPORT, {"e": member.external_id}, auth=admin)
        status, document = await download(http, body["data"]["exportMember"]["url"])

        # then its delivery is there (with its status), the other member's is not
        assert status == 200
        mine = [d["id"] for d in deliveries if d["event__member_id"] == member.id]
        assert [d["id"] for d in document["webhookDeliveries"]] == mine
        assert document["webhookDeliveries"][0]["status"] == "succeeded"
    finally:
        await WebhookEndpoint.filter(programme_id=programme.id).delete()
