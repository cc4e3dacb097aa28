"""GraphiQL in a real headless Chromium (Debian's, driven by Playwright): the page a newcomer
opens after `make run` loads from the service alone, runs the sample query with the demo key
and shows the member. Every request the page makes must succeed and stay on the server; a
screenshot is left in .artifacts/ for a human to look at."""

from __future__ import annotations

import pytest

from tests.browser.watch import ARTIFACTS, CHROMIUM, STRICT_CSP, watch
from tests.fixtures.servers import loyalty, loyalty_env, loyalty_server


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("graphiql")
    env = loyalty_env(LOYALTY_DATA_DIR=str(data))
    loyalty(env, "migrate")
    loyalty(env, "seed-demo", "--members", "3")
    with loyalty_server(env, data / "server.log") as base:
        yield base


@pytest.fixture
def browser_page(demo_server):
    # CI installs chromium (.ci/run); a missing browser is a failure, never a skip.
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install -y chromium"
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})

        # GraphiQL's stylesheet embeds its fonts as data: URLs, which are not requests
        fonts = STRICT_CSP + "; font-src 'self' data:"
        watch(page, demo_server, "/graphql", problems, console=(), csp=fonts)
        try:
            yield page, problems
        finally:
            browser.close()


def test_graphiql_loads_offline_and_runs_the_sample_query(demo_server, browser_page):
    page, problems = browser_page
    # given: the root page a newcomer opens from uvicorn's start-up line
    page.goto(demo_server + "/")
    page.get_by_role("link", name="/graphql").click()
    # when: GraphiQL has loaded and the run button is clicked
    page.wait_for_selector(".graphiql-execute-button", timeout=30_000)
    page.get_by_role("button", name="Headers").click()
    assert "Bearer lk_" in page.locator(".graphiql-editor-tool").inner_text()
    page.click(".graphiql-execute-button")
    # then: the member's data is shown
    # (a locator, not a script string: the page's CSP forbids evaluating strings)
    page.locator(".result-window", has_text="cust-0001").wait_for(timeout=30_000)
    result = page.locator(".result-window").inner_text()
    assert '"displayName"' in result and '"errors"' not in result, result
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "graphiql.png"
    page.screenshot(path=str(screenshot))
    assert screenshot.stat().st_size > 10_000
    assert problems == []
