"""The benchmark's raw member page answers exactly what the GraphQL member page does."""

from __future__ import annotations

import uuid

import httpx
from starlette.routing import Route

from api.app import create_app
from api.member_page import MEMBER_PAGE, member_page_route
from domain.auth import Role
from domain.points import ExpiryPolicy, PointsPolicy
from domain.tiers import BenefitKind
from services import tiers as tier_service
from services.points import admin as points_admin
from services.recommendations import catalogue
from services.recommendations.build import build
from tests.fixtures.coupons import claim, make_template
from tests.fixtures.factories import admin_of
from tests.fixtures.graphql import answer
from tests.fixtures.graphql import test_settings as app_settings
from tests.fixtures.points import advance
from tests.fixtures.recommendations import SHOP, buy


async def test_the_raw_member_page_is_the_graphql_member_page(programme, make_member, make_key):
    # given a member with benefits, coupons, ledger rows and recommendations
    from db.models import Programme

    admin = admin_of(programme)
    await tier_service.upsert_benefit(
        admin,
        tier_code="BRONZE",
        code="EARLY",
        title="Early access",
        kind=BenefitKind.EARLY_ACCESS,
        value=0,
        description="",
        idempotency_key=uuid.uuid4().hex,
    )
    await catalogue.upsert(admin, SHOP, idempotency_key=uuid.uuid4().hex)
    programme.points_policy = PointsPolicy(
        expiry_policy=ExpiryPolicy.LOTS, expiry_months=1
    ).to_json()
    await programme.save(update_fields=["points_policy"])
    member = await make_member(programme, consent_profiling=True)
    for _ in range(3):
        await buy(
            programme, await make_member(programme, consent_profiling=True), "phone", "earbuds"
        )
    await buy(programme, member, "phone")
    for amount in (10, 20):
        await points_admin.adjust(
            admin,
            member_external_id=member.external_id,
            amount=amount,
            reason="goodwill",
            idempotency_key=uuid.uuid4().hex,
        )
    for _ in range(2):
        await claim(programme, await make_template(programme), member)
    await build(await Programme.get(id=programme.id))
    await advance(programme, days=5)  # the points now expire within 30 days
    key = await make_key(programme, Role.STOREFRONT)
    # when both are asked
    app = create_app(app_settings(), manage_database=False)
    app.router.routes.append(Route("/raw/member/{external_id}", member_page_route))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        headers = {"Authorization": f"Bearer {key}"}
        graphql = await c.post(
            "/graphql",
            json={"query": MEMBER_PAGE, "variables": {"e": member.external_id}},
            headers=headers,
        )
        raw = await c.get(f"/raw/member/{member.external_id}", headers=headers)
    # then they say the same, and the page has something in every list
    assert raw.status_code == 200
    assert raw.json() == answer(graphql.json())
    page = raw.json()["data"]["member"]
    assert page["benefits"] and page["recommendations"] and page["points"]["expiringWithin"]
    assert len(page["coupons"]["edges"]) == 2 and len(page["transactions"]["edges"]) == 3
