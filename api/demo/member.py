"""The demo member page (see api/demo/__init__.py): the storefront's view of one member,
driven only by the public GraphQL API with a member token.

The page is four files in `static/member/` (HTML, CSS, the script and `queries.js`, every
GraphQL document it sends), served as they are: a storefront copies them. Nothing is inline,
so it runs behind `Content-Security-Policy: default-src 'self'`, which the page is served with.

In development two small routes stand in for the storefront's back end: one lists a few demo
members, the other mints a member token for the one picked, with the demo storefront key that
`loyalty seed-demo` wrote. The key stays on the server; the browser only ever sees the member
token. In production both refuse: there the storefront supplies the token."""

from __future__ import annotations

from importlib import resources
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from api.body import decode_json
from api.errors import BadRequest
from api.graphiql import demo_storefront_key
from api.settings import Settings

PATH = "/demo/member"
STATIC = ("api.demo", "static/member")
# The page's own policy: only this server's files, nothing inline, no eval.
CSP = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
PICKER_OFF = 'data-demo-picker="off"'
PICKER_ON = 'data-demo-picker="on"'
# How many demo members the picker offers.
PICKER_MEMBERS = 8

MEMBERS = """
query DemoMembers($first: Int!) {
  members(first: $first) {
    edges { node { externalId displayName tier { name } } }
  }
}
"""
ISSUE_TOKEN = """
mutation DemoMemberToken($input: IssueMemberTokenInput!) {
  issueMemberToken(input: $input) {
    __typename
    ... on IssueMemberTokenSuccess { token expiresAt }
    ... on IssueMemberTokenError { errors { code message } }
  }
}
"""


def routes(settings: Settings) -> list[BaseRoute]:
    return [
        Route(PATH, page, methods=["GET", "HEAD"]),
        Route(f"{PATH}/members", demo_members, methods=["GET"]),
        Route(f"{PATH}/token", demo_token, methods=["POST"]),
        Mount(f"{PATH}/static", StaticFiles(packages=[STATIC]), name="demo-member-static"),
    ]


def page_html(settings: Settings) -> str:
    """index.html; in development with the demo picker switched on."""
    text = (resources.files(STATIC[0]) / STATIC[1] / "index.html").read_text(encoding="utf-8")
    return text if settings.production else text.replace(PICKER_OFF, PICKER_ON, 1)


async def page(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    return HTMLResponse(
        page_html(settings),
        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"},
    )


def _refused(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _development_key(request: Request) -> str | JSONResponse:
    """The demo storefront key, or the answer that says why there is none to use."""
    settings: Settings = request.app.state.settings
    if settings.production:
        return _refused(403, "no demo tokens in production: the storefront mints the member token")
    key = demo_storefront_key(settings.data_dir)
    if key is None:
        return _refused(503, "no demo storefront key: run `loyalty seed-demo` first")
    return key


async def _own_graphql(request: Request, key: str, query: str, variables: dict[str, Any]) -> Any:
    """A GraphQL request to this very app, in-process, as the demo storefront."""
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://demo.local") as client:
        answer = await client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {key}"},
        )
    return answer.json()


async def demo_members(request: Request) -> Response:
    """Development: a few members to pick from (external id, name, tier)."""
    key = _development_key(request)
    if isinstance(key, JSONResponse):
        return key
    answer = await _own_graphql(request, key, MEMBERS, {"first": PICKER_MEMBERS})
    if answer.get("errors"):
        return _refused(502, answer["errors"][0]["message"])
    members = [
        {
            "externalId": edge["node"]["externalId"],
            "displayName": edge["node"]["displayName"],
            "tier": (edge["node"]["tier"] or {}).get("name"),
        }
        for edge in answer["data"]["members"]["edges"]
    ]
    return JSONResponse({"members": members}, headers={"Cache-Control": "no-store"})


async def demo_token(request: Request) -> Response:
    """Development: `{"externalId": ...}` in, `{"token", "expiresAt"}` out (never the key)."""
    key = _development_key(request)
    if isinstance(key, JSONResponse):
        return key
    # JSON only: a cross-site form cannot send it without the browser asking first.
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise BadRequest("send the body as application/json")
    body = decode_json(await request.body())
    external_id = body.get("externalId") if isinstance(body, dict) else None
    if not isinstance(external_id, str) or not external_id:
        raise BadRequest('send {"externalId": "<the member\'s externalId>"}')
    variables = {"input": {"memberExternalId": external_id}}
    answer = await _own_graphql(request, key, ISSUE_TOKEN, variables)
    if answer.get("errors"):
        return _refused(502, answer["errors"][0]["message"])
    result = answer["data"]["issueMemberToken"]
    if result["__typename"] != "IssueMemberTokenSuccess":
        return _refused(422, result["errors"][0]["message"])
    return JSONResponse(
        {"token": result["token"], "expiresAt": result["expiresAt"]},
        headers={"Cache-Control": "no-store"},
    )
