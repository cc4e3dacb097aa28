"""The demo dashboard's routes (issue 21, point 3): the page and its files are served with
nothing inline (a strict CSP must not break it), and POST /demo/admin/charts draws a
`programmeInsights` answer or refuses, with a status and a message, what is not one."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from graphql import build_schema, parse, validate

from api.app import create_app
from api.demo import charts
from api.demo.admin import MAX_CHARTS_BODY
from api.demo.insights_body import SPEC
from tests.fixtures.graphql import test_settings as settings_with
from tests.fixtures.insights import INSIGHTS, insights
from tests.fixtures.servers import PROJECT

JSON = {"Content-Type": "application/json"}


async def test_the_charts_route_answers_an_svg_per_chart(http):
    # when
    response = await http.post("/demo/admin/charts", json=INSIGHTS)
    # then
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    drawn = response.json()
    assert set(drawn) == set(charts.CHARTS)
    assert all(svg.startswith("<svg") for svg in drawn.values())


REFUSED = {
    "not JSON": (b"{insights", JSON, 400, "BAD_REQUEST"),
    "not UTF-8": (b'{"a": "\xff"}', JSON, 400, "BAD_REQUEST"),
    "a form": (b"from=2026-01-01", {"Content-Type": "application/x-www-form-urlencoded"}, 415,
               "UNSUPPORTED_MEDIA_TYPE"),
    "no content type": (orjson.dumps(INSIGHTS), {}, 415, "UNSUPPORTED_MEDIA_TYPE"),
    "a GraphQL error document": (b'{"errors": [{"message": "FORBIDDEN"}]}', JSON, 422, "VALIDATION"),
    "the whole GraphQL answer": (orjson.dumps({"data": {"programmeInsights": INSIGHTS}}), JSON,
                                 422, "VALIDATION"),
    "a wrong field": (orjson.dumps(insights(points__earned="lots")), JSON, 422, "VALIDATION"),
    "over the size bound": (b'{"x": "' + b"a" * MAX_CHARTS_BODY + b'"}', JSON, 413,
                            "PAYLOAD_TOO_LARGE"),
}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"), REFUSED.values(), ids=REFUSED.keys()
)
async def test_what_is_not_an_insights_answer_is_refused_with_a_message(
    http, body, headers, status, code
):
    response = await http.post("/demo/admin/charts", content=body, headers=headers)
    assert response.status_code == status, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == code
    assert error["message"] and len(response.content) < 400


async def test_a_refusal_names_the_field_at_fault(http):
    response = await http.post("/demo/admin/charts", json=insights(points__earned="lots"))
    assert response.json()["errors"][0]["message"] == (
        "not a programmeInsights answer: points.earned: expected an integer within ±10**15".replace(
            "10**15", f"{10**15}"
        )
    )


async def test_lists_longer_than_a_programme_has_are_refused(http):
    # a programme has a handful of earning sources: a thousand is a body made to cost
    sources = [{"source": f"S{n}", "points": n} for n in range(21)]
    response = await http.post("/demo/admin/charts", json=insights(points__earnedBySource=sources))
    assert response.status_code == 422
    assert "points.earnedBySource: expected a list of at most 20" in response.text


async def test_a_streamed_body_over_the_bound_is_refused_without_a_length(http):
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(MAX_CHARTS_BODY // 65_536 + 2):
            yield b" " * 65_536

    response = await http.post("/demo/admin/charts", content=chunks(), headers=JSON)
    assert response.status_code == 413


async def test_the_page_and_its_files_have_nothing_inline(http):
    # when
    page = await http.get("/demo/admin")
    # then: every script and stylesheet is a file of the server's own
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    # and it says so itself, as the member page does: its own files only, never in a frame
    policy = page.headers["content-security-policy"]
    assert policy.startswith("default-src 'self'") and "frame-ancestors 'none'" in policy
    html = page.text
    assert "<style" not in html and " style=" not in html
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) == 6 and all(a.startswith("/demo/admin/") for a in assets)
    for asset in assets:
        response = await http.get(asset)
        assert response.status_code == 200, asset
        # nothing fetched from another host (the SVG namespace is a name, not a fetch)
        assert "://" not in response.text.replace("http://www.w3.org/2000/svg", ""), asset
    # no form field has a name: a submit without the script puts nothing in a URL
    assert re.findall(r"<(?:input|select|textarea)[^>]*\bname=", html) == []
    assert len(re.findall(r"<(?:input|select)", html)) == 4


async def test_the_chart_stylesheet_is_served_as_css(http):
    response = await http.get("/demo/admin/charts.css")
    assert response.headers["content-type"].startswith("text/css")
    assert response.text == charts.stylesheet()


async def test_the_tables_names_are_the_charts_served_as_a_script(http):
    # the page's tables name sources, uses and segments as the charts do: one table, in Python
    response = await http.get("/demo/admin/names.js")
    assert response.headers["content-type"].startswith("text/javascript")
    prefix, suffix = "window.LOYALTY_NAMES = ", ";\n"
    assert response.text.startswith(prefix) and response.text.endswith(suffix)
    assert json.loads(response.text[len(prefix) : -len(suffix)]) == charts.SOURCE_NAMES
    # and the page loads it before the panels read it
    page = (await http.get("/demo/admin")).text
    assert page.index("/demo/admin/names.js") < page.index("/demo/admin/static/panels.js")


async def test_with_demo_pages_off_there_is_no_dashboard():
    app = create_app(settings_with(LOYALTY_DEMO_PAGES="off"), manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/demo/admin")).status_code == 404
        assert (await client.post("/demo/admin/charts", json=INSIGHTS)).status_code == 404


def page_query() -> str:
    """The query admin.js sends (written there as a list of JSON strings, one per line)."""
    script = (PROJECT / "api/demo/static/admin/admin.js").read_text()
    lines = script.split("var QUERY = [", 1)[1].split('].join("\\n")', 1)[0]
    return "\n".join(json.loads(line.strip().rstrip(",")) for line in lines.strip().splitlines())


def test_the_page_asks_for_every_field_the_charts_read_and_the_schema_has():
    # given: the page's query and the schema as checked in
    document = parse(page_query())
    schema = build_schema((PROJECT / "schema.graphql").read_text())
    # then: it is a valid query of this schema
    assert validate(schema, document) == []

    def fields(selection_set) -> dict[str, object]:
        return {
            node.name.value: fields(node.selection_set) if node.selection_set else None
            for node in selection_set.selections
        }

    def spec_fields(spec) -> object:
        if callable(spec) and hasattr(spec, "item"):
            return spec_fields(spec.item)
        return {k: spec_fields(v) for k, v in spec.items()} if isinstance(spec, dict) else None

    [operation] = document.definitions
    asked = fields(operation.selection_set)["programmeInsights"]
    # and: the charts route's checks ask for exactly what the page sends
    assert asked == spec_fields(SPEC)
