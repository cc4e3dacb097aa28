"""The demo dashboard (/demo/admin) in a real headless Chromium (Debian's, driven by Playwright)
against `loyalty serve` with the demo programme: the user types the demo admin key, the page
asks `programmeInsights` for the last 12 months and shows every chart (an SVG with its data
points) and every table (with rows). Behind a strict CSP; every request succeeds and stays on
the server; screenshots at phone and desktop widths are left in .artifacts/ to look at."""

from __future__ import annotations

import pytest

from api.demo.charts import CHARTS
from tests.browser.watch import ARTIFACTS, CHROMIUM, watch
from tests.fixtures.insights import INSIGHTS, insights
from tests.fixtures.servers import loyalty, loyalty_env, loyalty_server

# What pygal draws for a data point: a bar, a dot on a line, a line, a pie slice.
DATA_POINTS = "svg .series rect.rect, svg .series .dot, svg .series path.line, svg path.slice"
WIDTHS = {"phone": 390, "desktop": 1280}


def demo_keys(data) -> dict[str, str]:
    lines = (data / "demo-keys.env").read_text().splitlines()
    return dict(line.strip().split("=", 1) for line in lines if "=" in line)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("dashboard")
    env = loyalty_env(LOYALTY_DATA_DIR=str(data))
    loyalty(env, "migrate")
    loyalty(env, "seed-demo", "--members", "12")  # a year of 12 members has every chart's shape
    with loyalty_server(env, data / "server.log") as base:
        yield base, demo_keys(data)


@pytest.fixture(params=list(WIDTHS), ids=list(WIDTHS))
def browser_page(request, demo_server):
    # CI installs chromium (.ci/run); a missing browser is a failure, never a skip.
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install -y chromium"
    from playwright.sync_api import sync_playwright

    base, _ = demo_server
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        width = WIDTHS[request.param]
        page = browser.new_page(viewport={"width": width, "height": 900})

        watch(page, base, "/demo/admin", problems)
        try:
            yield page, request.param, problems
        finally:
            browser.close()


def test_the_dashboard_draws_every_chart_and_table_for_the_demo_programme(
    demo_server, browser_page
):
    base, keys = demo_server
    admin_key = keys["LOYALTY_ADMIN_KEY"]
    page, width_name, problems = browser_page
    # given: the dashboard, opened with no key in its URL
    page.goto(base + "/demo/admin")
    assert page.input_value("#granularity") == "MONTH"
    assert page.input_value("#from") < page.input_value("#to")
    # when: the user enters the demo admin key and loads
    page.fill("#key", admin_key)
    page.click("#load")
    page.locator("#panels .panel").first.wait_for(timeout=30_000)
    # then: every chart is an SVG with data points, every table has rows
    for name in CHARTS:
        panel = page.locator(f"#panel-{name}")
        assert panel.locator("svg").count() == 1, name
        assert panel.locator(DATA_POINTS).count() > 0, f"{name}: no data point drawn"
        assert panel.locator("tbody tr:not(.empty)").count() > 0, f"{name}: an empty table"
    assert "Could not" not in page.inner_text("#status")
    # the key stays in the tab's session storage, never in the address
    assert admin_key not in page.url
    assert page.evaluate("sessionStorage.getItem('loyalty.demo.adminKey')") == admin_key
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / f"admin-dashboard-{WIDTHS[width_name]}.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 20_000
    assert problems == []


KEYS = {
    "a storefront key": ("LOYALTY_STOREFRONT_KEY", "FORBIDDEN"),
    "no key": (None, "UNAUTHENTICATED"),
}


@pytest.mark.parametrize(("key_name", "code"), KEYS.values(), ids=KEYS.keys())
def test_a_key_that_is_not_an_admin_key_shows_the_apis_message(
    demo_server, browser_page, key_name, code
):
    base, keys = demo_server
    page, _, problems = browser_page
    page.goto(base + "/demo/admin")
    page.fill("#key", keys[key_name] if key_name else "lk_admin_not_a_key")
    page.click("#load")
    page.locator("#status.error").wait_for(timeout=30_000)
    status = page.inner_text("#status")
    assert status.startswith("Could not load the insights: ") and f"({code})" in status
    assert page.locator("#panels").is_hidden()
    assert problems == []


HOSTILE = '<img src="/x-injected" onerror="alert(1)"><script>alert(2)</script>'


def test_hostile_labels_are_shown_as_text_in_charts_and_tables(demo_server, browser_page):
    # given: an API answer (stood in for here) whose names are markup
    base, keys = demo_server
    page, _, problems = browser_page
    answer = insights(
        campaigns=[dict(INSIGHTS["campaigns"][0], name=HOSTILE)],
        tiers__distribution=[{"code": "X", "name": HOSTILE, "members": 3}],
        members__bySegment=[{"segment": HOSTILE, "members": 2}],
    )
    page.route(
        "**/graphql",
        lambda route: route.fulfill(
            json={"data": {"programmeInsights": answer}}, headers={"Cache-Control": "no-store"}
        ),
    )
    page.on(
        "dialog", lambda dialog: problems.append(f"dialog: {dialog.message}") or dialog.dismiss()
    )
    # when
    page.goto(base + "/demo/admin")
    page.fill("#key", keys["LOYALTY_ADMIN_KEY"])
    page.click("#load")
    page.locator("#panels .panel").first.wait_for(timeout=30_000)
    # then: the names are text, in the tables whole and in the charts (cut short)
    assert page.locator("#panels script, #panels img, #panels foreignObject").count() == 0
    assert page.locator("#panel-campaigns td", has_text=HOSTILE).count() == 1
    assert page.locator("#panel-tierDistribution td", has_text=HOSTILE).count() == 1
    assert page.locator("#panel-campaigns svg text", has_text='<img src="').count() == 1
    for name in CHARTS:
        assert page.locator(f"#panel-{name} {DATA_POINTS}").count() > 0, name
    assert problems == []  # no alert, and no request for /x-injected
