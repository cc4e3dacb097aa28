"""GraphiQL served by the service itself, and the `/` page that points at it.

The browser files (GraphiQL 2, React 17, the explorer plugin) come from the PyPI package
`graphene-django-graphiql-static`, an ordinary dependency with no dependencies of its own: we
only read its static folder (Django is never imported), mounted at /graphiql-assets. So the
page loads with no internet, behind a strict CSP, in an air-gapped office.

In development the page opens with the demo storefront key's header filled in (read from
`<LOYALTY_DATA_DIR>/demo-keys.env`, which `loyalty seed-demo` writes) and the member-page
query; in production there is no GraphiQL at all."""

from __future__ import annotations

import html
from pathlib import Path

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from api.settings import Settings

ASSETS_PATH = "/graphiql-assets"
ASSETS_PACKAGE = ("graphene_django_graphiql_static", "static/graphene_django_graphiql_static")
# Only what the page uses (the package also ships a fetch polyfill and graphql-ws).
STYLES = ("graphiql.min.css", "style.css")
SCRIPTS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "graphiql-plugin-explorer.umd.js",
)

SAMPLE_QUERY = """\
# The member page of a demo member, with the demo storefront key (see the Headers tab).
# Press the run button (or Ctrl-Enter).
query MemberPage($externalId: String!) {
  member(externalId: $externalId) {
    externalId
    displayName
    tier { code name }
    points { available pending spendable }
    coupons(first: 5) { edges { node { code status template { title } } } }
  }
  programme { now tiers { code name entryThreshold } }
}
"""
SAMPLE_VARIABLES = '{\n  "externalId": "cust-0001"\n}'

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Loyalty API · GraphiQL</title>
{styles}
{scripts}
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script type="application/json" id="graphiql-setup">{setup}</script>
<script src="{start}"></script>
</body>
</html>
"""

# Nothing inline in the page: behind a strict Content-Security-Policy (`script-src 'self'`,
# `style-src 'self'`, as a proxy may add it) an inline script or style would not run. The
# script starting GraphiQL is served as a file of its own; the layout is set through CSSOM,
# which such a policy allows.
START_PATH = f"{ASSETS_PATH}/loyalty-graphiql.js"
START_SCRIPT = """\
(function () {
  var setup = JSON.parse(document.getElementById("graphiql-setup").textContent);
  var root = document.getElementById("graphiql");
  [document.documentElement, document.body, root].forEach(function (element) {
    element.style.cssText = "height: 100%; margin: 0; width: 100%; overflow: hidden;";
  });
  var e = React.createElement;
  var fetcher = GraphiQL.createFetcher({ url: setup.endpoint });
  function Editor() {
    var state = React.useState(setup.query);
    var explorer = GraphiQLPluginExplorer.useExplorerPlugin({
      query: state[0], onEdit: state[1]
    });
    return e(GraphiQL, {
      fetcher: fetcher,
      query: state[0],
      onEditQuery: state[1],
      variables: setup.variables,
      headers: setup.headers,
      defaultEditorToolsVisibility: true,
      shouldPersistHeaders: false,
      plugins: [explorer]
    });
  }
  ReactDOM.render(e(Editor), root);
})();
"""

ROOT = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Loyalty API</title>
<style>body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 42rem; margin: 2rem auto;
padding: 0 1rem; }} code {{ background: #f3f3f3; padding: 0 .2rem; }}</style></head>
<body>
<h1>Loyalty API</h1>
<p>A headless loyalty engine: members, tiers, points, coupons and recommendations behind one
GraphQL endpoint. Running in <strong>{mode}</strong> mode.</p>
<ul>
{graphql}
{demo}<li><a href="/healthz">/healthz</a>: the process is up</li>
<li><a href="/readyz">/readyz</a>: the database (and Redis, when set) answer</li>
<li><a href="/metrics">/metrics</a>: Prometheus metrics</li>
</ul>
<p>In the README (<code>README.md</code> beside the code):</p>
<ul>
<li><em>Set-up: two commands</em> and <em>A member page with curl</em>: the first hour</li>
<li><em>Points</em>, <em>Tiers</em>, <em>Coupons</em>, <em>Campaigns</em>, <em>Rewards
catalogue</em>, <em>Challenges</em>, <em>Insights</em>, <em>Segments and recommendations</em></li>
<li><em>Configuration</em> and <em>Running in production</em>: logs, metrics, workers</li>
</ul>
<p>The schema: <code>schema.graphql</code>{sdl}.</p>
</body>
</html>
"""


def demo_storefront_key(data_dir: Path) -> str | None:
    """The key `loyalty seed-demo` wrote, if it ran with this data directory."""
    try:
        lines = (data_dir / "demo-keys.env").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, value = line.partition("=")
        if name.strip() == "LOYALTY_STOREFRONT_KEY" and value.strip():
            return value.strip()
    return None


def page(settings: Settings) -> str:
    key = demo_storefront_key(settings.data_dir)
    headers = {"Authorization": f"Bearer {key}" if key else "Bearer <a storefront key>"}
    setup = {
        "endpoint": "/graphql",
        "query": SAMPLE_QUERY,
        "variables": SAMPLE_VARIABLES,
        "headers": orjson.dumps(headers, option=orjson.OPT_INDENT_2).decode(),
    }
    # Inside <script>, "</" could end the element: JSON allows "<" escaped.
    setup_json = orjson.dumps(setup).decode().replace("<", "\\u003c")
    return PAGE.format(
        styles="\n".join(f'<link rel="stylesheet" href="{ASSETS_PATH}/{name}">' for name in STYLES),
        scripts="\n".join(f'<script src="{ASSETS_PATH}/{name}"></script>' for name in SCRIPTS),
        setup=setup_json,
        start=START_PATH,
    )


def assets() -> list[BaseRoute]:
    """GraphiQL's files: the package's, and the script that starts it."""
    return [
        Route(START_PATH, start_script),
        Mount(ASSETS_PATH, StaticFiles(packages=[ASSETS_PACKAGE]), name="graphiql-assets"),
    ]


async def start_script(request: Request) -> Response:
    return Response(START_SCRIPT, media_type="text/javascript")


def wants_page(scope: Scope) -> bool:
    """A browser opening /graphql: a GET that accepts HTML and carries no query, neither as
    text nor as a persisted query's hash (`extensions`)."""
    if scope["method"] not in ("GET", "HEAD"):
        return False
    headers = dict(scope["headers"])
    accept = headers.get(b"accept", b"").decode("latin-1")
    query_string = scope.get("query_string", b"").decode("latin-1")
    names = {part.split("=")[0] for part in query_string.split("&")}
    asks_query = bool(names & {"query", "extensions"})
    return "text/html" in accept and not asks_query


class GraphiQLPage:
    """In front of the GraphQL view in development: browsers get the page, clients the API."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and wants_page(scope):
            response = HTMLResponse(page(self.settings), headers={"Cache-Control": "no-store"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


DEMO_LINKS = (
    '<li><a href="/demo/member">/demo/member</a>: the demo member page (a storefront\'s view)'
    "</li>\n"
    '<li><a href="/demo/admin">/demo/admin</a>: the programme dashboard (with the admin key)'
    "</li>\n"
)


async def root(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    if settings.production:
        graphql = "<li><code>POST /graphql</code>: the API (GraphiQL is off in production)</li>"
        sdl = ""
    else:
        graphql = '<li><a href="/graphql">/graphql</a>: GraphiQL, with the demo key filled in</li>'
        sdl = ", or ask GraphiQL's documentation explorer"
    demo = DEMO_LINKS if settings.demo_pages else ""
    body = ROOT.format(mode=html.escape(settings.mode), graphql=graphql, sdl=sdl, demo=demo)
    return HTMLResponse(body)
