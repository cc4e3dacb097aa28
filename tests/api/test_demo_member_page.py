"""The demo member page over plain HTTP (the browser test is tests/browser/test_member_page.py):
served with its own strict CSP from this package's files, absent when LOYALTY_DEMO_PAGES is
off, and its development token route mints member tokens without ever handing out the key,
and refuses in production."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from importlib import resources
from pathlib import Path

from domain.auth import Role
from tests.fixtures import graphql as app_fixtures
from tests.fixtures.servers import PROJECT

PAGE = "/demo/member"
DEMO_ROUTES = [
    ("GET", PAGE),
    ("GET", f"{PAGE}/members"),
    ("POST", f"{PAGE}/token"),
    ("GET", f"{PAGE}/static/member.js"),
    ("GET", f"{PAGE}/static/queries.js"),
]
VIEWER = "{ viewer { externalId } }"
# the page's scripts besides queries.js
SCRIPTS = ("member.js", "api.js", "render.js")


def demo_keys(directory: Path, storefront_key: str) -> Path:
    (directory / "demo-keys.env").write_text(
        f"LOYALTY_ADMIN_KEY=lk_admin_never_shown\nLOYALTY_STOREFRONT_KEY={storefront_key}\n"
    )
    return directory


async def test_the_page_loads_only_its_own_files_under_a_strict_policy(http):
    # when
    page = await http.get(PAGE)
    # then: the page says its policy, and every file it names is here and served
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert 'data-demo-picker="on"' in page.text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sorted(sources) == [
        "/demo/member/static/icon.svg",
        "/demo/member/static/member.css",
        "/demo/member/static/member.js",
    ]
    for source in [*sources, f"{PAGE}/static/queries.js"]:
        asset = await http.get(source)
        assert asset.status_code == 200, source
    # nothing inline: no <style>, no style="", no inline <script> body, no on*= handler
    assert "<style" not in page.text and "style=" not in page.text
    assert re.search(r"<script[^>]*>\s*[^<\s]", page.text) is None
    assert re.search(r"\son[a-z]+=", page.text) is None


async def test_every_graphql_document_of_the_page_is_in_queries_js(http):
    queries = (await http.get(f"{PAGE}/static/queries.js")).text
    # then: the page's other scripts hold no GraphQL of their own
    for name in SCRIPTS:
        script = await http.get(f"{PAGE}/static/{name}")
        assert script.status_code == 200, name
        assert re.search(r"\b(query|mutation)\s+[A-Z]\w*\s*[({]", script.text) is None, name
        assert "viewer {" not in script.text and "... on" not in script.text, name
    for name in ("MemberPage", "CheckIn", "ClaimCoupon", "RedeemReward"):
        assert re.search(rf"\b(query|mutation) {name}\b", queries), name


def test_the_page_files_ship_in_the_package():
    # given: the package data globs of pyproject.toml
    config = tomllib.loads((PROJECT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["api.demo"]
    folder = resources.files("api.demo") / "static" / "member"
    names = [entry.name for entry in folder.iterdir()]  # type: ignore[attr-defined]
    # then: each file of the page is matched, so a wheel carries it
    assert {"index.html", "member.css", "queries.js", *SCRIPTS} <= set(names)
    for name in names:
        assert any(fnmatch(f"static/member/{name}", glob) for glob in globs), name


async def test_no_demo_routes_when_demo_pages_are_off():
    settings = app_fixtures.test_settings(LOYALTY_DEMO_PAGES="off")
    async for client in app_fixtures._client(settings):
        for method, path in DEMO_ROUTES:
            response = await client.request(method, path, json={"externalId": "cust-0001"})
            assert response.status_code == 404, (method, path)


async def test_production_serves_the_page_without_the_picker_and_refuses_tokens(tmp_path):
    # given: production with the demo pages switched on, and demo keys on disk
    settings = app_fixtures.test_settings(
        LOYALTY_MODE="production",
        LOYALTY_DEMO_PAGES="on",
        LOYALTY_DATA_DIR=str(demo_keys(tmp_path, "lk_storefront_demo_secret")),
    )
    async for client in app_fixtures._client(settings):
        page = await client.get(PAGE)
        token = await client.post(f"{PAGE}/token", json={"externalId": "cust-0001"})
        members = await client.get(f"{PAGE}/members")
    # then: the page asks the storefront for a token; nothing is minted or listed
    assert page.status_code == 200
    assert 'data-demo-picker="off"' in page.text
    assert token.status_code == 403
    assert "production" in token.json()["error"]
    assert members.status_code == 403
    assert "lk_storefront" not in token.text + members.text


async def test_the_demo_token_route_mints_a_member_token_and_never_the_key(
    tmp_path, programme, make_member, make_key
):
    # given: a storefront key written where `loyalty seed-demo` writes it
    member = await make_member(programme, display_name="Page Reader")
    key = await make_key(programme, Role.STOREFRONT)
    settings = app_fixtures.test_settings(LOYALTY_DATA_DIR=str(demo_keys(tmp_path, key)))
    async for client in app_fixtures._client(settings):
        # when
        minted = await client.post(f"{PAGE}/token", json={"externalId": member.external_id})
        listed = await client.get(f"{PAGE}/members")
        token = minted.json()["token"]
        viewer = await client.post(
            "/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {token}"}
        )
        unknown = await client.post(f"{PAGE}/token", json={"externalId": "nobody"})
        as_form = await client.post(f"{PAGE}/token", data={"externalId": member.external_id})
    # then: only the token and its expiry go out, and the token is the member's
    assert minted.status_code == 200
    assert set(minted.json()) == {"token", "expiresAt"}
    assert key not in minted.text and key not in listed.text
    assert viewer.json()["data"]["viewer"] == {"externalId": member.external_id}
    assert {"externalId": member.external_id, "displayName": "Page Reader", "tier": "Bronze"} in (
        listed.json()["members"]
    )
    assert unknown.status_code == 422
    assert unknown.json() == {"error": "no member with this externalId"}
    assert as_form.status_code == 400


async def test_the_token_route_says_so_when_no_demo_was_seeded(tmp_path):
    settings = app_fixtures.test_settings(LOYALTY_DATA_DIR=str(tmp_path))
    async for client in app_fixtures._client(settings):
        response = await client.post(f"{PAGE}/token", json={"externalId": "cust-0001"})
    assert response.status_code == 503
    assert "seed-demo" in response.json()["error"]
