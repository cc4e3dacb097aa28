"""The benchmark's raw member page answers exactly what the GraphQL member page does."""

from __future__ import annotations

import httpx
from starlette.routing import Route

from api.app import create_app
from api.member_page import MEMBER_PAGE, member_page_route
from domain.auth import Role
from tests.fixtures.graphql import answer
from tests.fixtures.graphql import test_settings as app_settings
from tests.fixtures.page import a_full_member


async def test_the_raw_member_page_is_the_graphql_member_page(programme, make_member, make_key):
    # given a member with benefits, coupons, ledger rows and recommendations
    member = await a_full_member(programme, make_member)
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
