"""GraphiQL from the service's own files, and the `/` page (the browser test is in
tests/browser)."""

from __future__ import annotations

import re

PAGE_HEADERS = {"Accept": "text/html"}


async def test_graphiql_loads_only_from_the_service(http):
    # when
    page = await http.get("/graphql", headers=PAGE_HEADERS)
    # then: every script and stylesheet is a path on this server, and each one is served
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(sources) == 7  # GraphiQL's six files and the script starting it
    for source in sources:
        assert source.startswith("/graphiql-assets/"), source
        asset = await http.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 500
    assert "://" not in "".join(sources)


async def test_graphiql_opens_with_the_demo_storefront_key_and_the_member_page(tmp_path):
    from tests.fixtures.graphql import _client, test_settings

    (tmp_path / "demo-keys.env").write_text(
        "LOYALTY_ADMIN_KEY=lk_admin_secret\nLOYALTY_STOREFRONT_KEY=lk_storefront_demo\n"
    )
    async for client in _client(test_settings(LOYALTY_DATA_DIR=str(tmp_path))):
        page = (await client.get("/graphql", headers=PAGE_HEADERS)).text
    assert "Bearer lk_storefront_demo" in page
    assert "lk_admin_secret" not in page
    assert "query MemberPage" in page and "cust-0001" in page


async def test_a_client_asking_for_json_on_get_still_reaches_the_api(http):
    # when: a GET without Accept: text/html is the API's, not the page's
    response = await http.get("/graphql", params={"query": "{ __typename }"})
    # then
    assert "graphiql" not in response.text.lower()


async def test_the_root_page_links_graphiql_health_and_metrics(http):
    # when
    response = await http.get("/")
    # then
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for link in ("/graphql", "/demo/member", "/demo/admin", "/healthz", "/readyz", "/metrics"):
        assert f'href="{link}"' in response.text
    assert "Set-up: two commands" in response.text


async def test_the_root_page_in_production_offers_no_graphiql(production_http):
    # when
    response = await production_http.get("/")
    # then
    assert response.status_code == 200
    assert 'href="/graphql"' not in response.text
    assert 'href="/demo/member"' not in response.text  # the demo pages are off in production
    assert (await production_http.get("/graphiql-assets/graphiql.min.js")).status_code == 404
