"""The demo admin page (see api/demo/__init__.py): the programme dashboard at /demo/admin.

The page asks for an admin key (kept in the tab's sessionStorage, never in a URL), calls the
public `programmeInsights` query with it, and posts the answer to /demo/admin/charts, which
draws the charts as SVG (api.demo.charts). That route holds no credential and reads nothing
from the database: it only draws what it is sent, so it checks what it is sent."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from api.body import BodyTooLarge, decode_json
from api.demo import charts
from api.demo.insights_body import InvalidInsights, checked_insights
from api.demo.member import CSP
from api.errors import EdgeError
from api.settings import Settings

STATIC = ("api.demo", "static/admin")
PAGE = Path(__file__).parent / "static" / "admin" / "index.html"
# A year of DAY buckets with every list near its bound is well under this.
MAX_CHARTS_BODY = 512 * 1024
NO_STORE = {"Cache-Control": "no-store"}
DRAWING = threading.Lock()  # one drawing at a time: posts queue rather than take every core


def routes(settings: Settings) -> list[BaseRoute]:
    return [
        Route("/demo/admin", page, methods=["GET"]),
        Route("/demo/admin/charts", draw_charts, methods=["POST"]),
        Route("/demo/admin/charts.css", chart_styles, methods=["GET"]),
        Route("/demo/admin/names.js", names_script, methods=["GET"]),
        Mount("/demo/admin/static", StaticFiles(packages=[STATIC]), name="demo-admin-static"),
    ]


def _draw(insights: dict[str, Any]) -> dict[str, str]:
    with DRAWING:
        return charts.render(insights)


async def page(request: Request) -> Response:
    # the member page's policy: nothing inline, nothing from elsewhere, never in a frame
    return FileResponse(
        PAGE, media_type="text/html", headers={**NO_STORE, "Content-Security-Policy": CSP}
    )


async def chart_styles(request: Request) -> Response:
    return Response(charts.stylesheet(), media_type="text/css")


async def names_script(request: Request) -> Response:
    """The names the charts give sources, uses and segments, for the page's tables: one table,
    charts.SOURCE_NAMES, read by both."""
    names = orjson.dumps(charts.SOURCE_NAMES).decode()
    return Response(f"window.LOYALTY_NAMES = {names};\n", media_type="text/javascript")


async def _bounded_body(request: Request) -> bytes:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_CHARTS_BODY:
            raise BodyTooLarge(MAX_CHARTS_BODY)
    return body


async def draw_charts(request: Request) -> Response:
    """{name: svg} for the posted `programmeInsights` answer; 415, 413, 400 or 422 (with
    the field at fault) for anything else."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise EdgeError(415, "post the insights as application/json", code="UNSUPPORTED_MEDIA_TYPE")
    body: Any = decode_json(await _bounded_body(request))
    try:
        insights = checked_insights(body)
    except InvalidInsights as error:
        message = f"not a programmeInsights answer: {error}"
        raise EdgeError(422, message, code="VALIDATION") from None
    # a year of DAY buckets takes a while to draw: off the event loop
    drawn = await run_in_threadpool(_draw, insights)
    return JSONResponse(drawn, headers=NO_STORE)
