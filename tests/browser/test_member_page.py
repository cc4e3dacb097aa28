"""The demo member page in a real headless Chromium (Debian's, driven by Playwright), as a
storefront developer opens it after `make run`: it loads from the service alone under a strict
CSP, shows the demo member's tier and points, a check-in changes the points shown, a refused
action shows the API's own message. Screenshots at phone and desktop width are left in
.artifacts/ for a human to look at."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from services.seed import DEMO_TIERS
from tests.browser.watch import ARTIFACTS, CHROMIUM, watch
from tests.fixtures.graphql import JWT_SECRET, WEBHOOK_KEY
from tests.fixtures.servers import loyalty, loyalty_env, loyalty_server

PAGE = "/demo/member"
DEMO_TIER_NAMES = {name for _, name, _ in DEMO_TIERS}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
GIVE_POINTS = """
mutation($m: String!) {
  adjustPoints(input: {memberExternalId: $m, amount: 600, reason: "browser test", idempotencyKey: $m}) {
    __typename
  }
}
"""
ISSUE_TOKEN = """
mutation { issueMemberToken(input: {memberExternalId: "cust-0001"}) {
  ... on IssueMemberTokenSuccess { token }
} }
"""
REDEEM_TUMBLER = """
mutation($k: String!) {
  redeemReward(input: {code: "TUMBLER", idempotencyKey: $k}) {
    ... on RedeemRewardError { errors { message } }
  }
}
"""


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory):
    return tmp_path_factory.mktemp("member-page")


@pytest.fixture(scope="module")
def demo_server(demo_data):
    # four members: each test below acts as a member of its own
    env = loyalty_env(LOYALTY_DATA_DIR=str(demo_data))
    loyalty(env, "migrate")
    loyalty(env, "seed-demo", "--members", "4")
    with loyalty_server(env, demo_data / "server.log") as base:
        yield base


@pytest.fixture(scope="module")
def production_server(tmp_path_factory):
    """The demo programme served in production with the demo pages switched on."""
    data = tmp_path_factory.mktemp("member-page-production")
    env = loyalty_env(LOYALTY_DATA_DIR=str(data))
    loyalty(env, "migrate")
    loyalty(env, "seed-demo", "--members", "1")
    production = {
        **env,
        "LOYALTY_MODE": "production",
        "LOYALTY_DEMO_PAGES": "on",
        "LOYALTY_JWT_SECRET": JWT_SECRET,
        "LOYALTY_WEBHOOK_KEYS": WEBHOOK_KEY,
    }
    with loyalty_server(production, data / "server.log") as base:
        yield base, data


def demo_key(data, name: str) -> str:
    for line in (data / "demo-keys.env").read_text().splitlines():
        key, _, value = line.partition("=")
        if key == name:
            return value
    raise AssertionError(f"seed-demo wrote no {name}")


@pytest.fixture(scope="module")
def chromium():
    # CI installs chromium (.ci/run); a missing browser is a failure, never a skip.
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install -y chromium"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def open_page(demo_server, chromium):
    """A fresh tab (its own sessionStorage) at a viewport, watched: every problem the page
    meets is collected — console errors, failed or refused requests, script errors, CSP
    violations, requests off the server. It waits until the page shows a member unless
    `member=False`; `base` is the demo server unless given."""
    problems: list[str] = []
    contexts = []

    def opening(viewport, *, base=demo_server, member=True, prepare=None):
        # dates are shown in the programme's time zone whatever the browser's; numbers in
        # the browser's locale
        context = chromium.new_context(viewport=viewport, locale="en-US", timezone_id="UTC")
        contexts.append(context)
        page = context.new_page()

        watch(page, base, PAGE, problems, own_csp="default-src 'self'")
        if prepare is not None:
            prepare(page)
        page.goto(base + PAGE)
        if member:
            # the page is drawn once it names the member it shows
            page.locator("body[data-member]").wait_for(timeout=30_000)
        return page

    try:
        yield opening, problems
    finally:
        for context in contexts:
            context.close()


def figure(page, name: str) -> int:
    return int(re.sub(r"\D", "", page.locator(f'[data-figure="{name}"]').inner_text()))


def box(page, selector: str) -> dict[str, float]:
    found = page.locator(selector).bounding_box()
    assert found is not None, selector
    return found


def pick(page, external_id: str) -> None:
    page.select_option("#picker-member", external_id)
    page.get_by_role("button", name="Open").click()
    page.locator(f'body[data-member="{external_id}"]').wait_for(timeout=30_000)


def test_the_page_shows_the_demo_members_tier_and_points_at_both_widths(open_page):
    opening, problems = open_page
    ARTIFACTS.mkdir(exist_ok=True)
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        # when: the page opens (the picker mints a token for the first demo member)
        page = opening(viewport)
        # then: the member's tier, its progress and points are shown
        assert page.locator("body").get_attribute("data-member") == "cust-0001"
        # (the demo's year of orders has moved the member up; where to depends on the date)
        assert page.locator("#tier-badge").inner_text() in DEMO_TIER_NAMES
        assert page.locator("#progress-text").inner_text().strip()
        assert figure(page, "available") > 0  # the seeded year's points
        assert page.locator("#benefits li").count() >= 1
        assert page.locator("#challenges progress").count() >= 1
        assert page.locator("#transactions tr").count() >= 1
        assert page.locator("#rewards button[data-redeem]").count() >= 1
        # and the layout fits the width: one column on a phone, the points beside the tier
        # card on a desktop
        tier, points = box(page, ".card-tier"), box(page, ".card-points")
        for card in page.locator(".card").all():
            edge = card.bounding_box()
            assert edge is not None and edge["x"] + edge["width"] <= viewport["width"], name
        if name == "phone":
            assert points["y"] >= tier["y"] + tier["height"]
        else:
            assert points["x"] >= tier["x"] + tier["width"] and points["y"] == tier["y"]
        screenshot = ARTIFACTS / f"member-page-{viewport['width']}.png"
        page.screenshot(path=str(screenshot), full_page=True)
        assert screenshot.stat().st_size > 20_000
    assert problems == []


def test_a_check_in_adds_points_and_a_second_one_shows_why_it_was_refused(open_page):
    opening, problems = open_page
    page = opening(DESKTOP)
    pick(page, "cust-0002")
    before = figure(page, "available")
    # when: the member checks in
    page.get_by_role("button", name="Check in today").click()
    # then: the points shown grow, and the page says what was earned
    page.locator(".toast-ok", has_text="Checked in").wait_for(timeout=10_000)
    # (polling the figure: the CSP forbids evaluating script strings in the page)
    for _ in range(50):
        if figure(page, "available") != before:
            break
        page.wait_for_timeout(100)
    assert figure(page, "available") > before
    # when: a second check-in the same day
    page.get_by_role("button", name="Check in today").click()
    # then: the union error's message is shown, and the points stay
    refused = page.locator(".toast-error")
    refused.wait_for(timeout=10_000)
    assert "already checked in" in refused.inner_text()
    assert page.get_by_role("alert").is_visible()
    assert problems == []


def test_redeeming_a_reward_the_member_cannot_afford_shows_the_apis_message(demo_server, open_page):
    opening, problems = open_page
    page = opening(PHONE)
    pick(page, "cust-0003")
    before = figure(page, "available")
    # given: what the API itself answers this member for the same reward
    minted = httpx.post(f"{demo_server}{PAGE}/token", json={"externalId": "cust-0003"}).json()
    refused = httpx.post(
        f"{demo_server}/graphql",
        json={"query": REDEEM_TUMBLER, "variables": {"k": "test-refused-tumbler"}},
        headers={"Authorization": f"Bearer {minted['token']}"},
    ).json()["data"]["redeemReward"]["errors"][0]["message"]
    # when
    page.locator('#rewards button[data-redeem="TUMBLER"]').click()
    # then: the page shows that message, and nothing changed
    shown = page.locator(".toast-error")
    shown.wait_for(timeout=10_000)
    assert shown.inner_text().strip().startswith(refused)
    assert figure(page, "available") == before
    page.screenshot(path=str(ARTIFACTS / "member-page-refused-390.png"))
    assert problems == []


def test_claiming_a_coupon_and_redeeming_a_reward_refresh_the_wallet_and_points(
    demo_server, demo_data, open_page
):
    # given: a member with 600 points to spend (an admin's adjustment)
    given = httpx.post(
        f"{demo_server}/graphql",
        json={"query": GIVE_POINTS, "variables": {"m": "cust-0004"}},
        headers={"Authorization": f"Bearer {demo_key(demo_data, 'LOYALTY_ADMIN_KEY')}"},
    ).json()
    assert given["data"]["adjustPoints"]["__typename"] == "TransactionSuccess", given
    opening, problems = open_page
    page = opening(DESKTOP)
    pick(page, "cust-0004")
    wallet = page.locator("#wallet .wallet-available li")
    coupons, spendable = wallet.count(), figure(page, "spendable")
    assert spendable >= 600
    # when: the member claims a free-shipping coupon from the list of coupons to claim (not
    # the 10% one: its template allows one per member, and the reward below issues it)
    page.locator('#claimable button[data-claim="FREESHIP"]').click()
    # then: the wallet shows one more coupon ready to use
    page.locator(".toast-ok", has_text="is in your wallet").wait_for(timeout=10_000)
    page.locator(f"#wallet .wallet-available li >> nth={coupons}").wait_for(timeout=10_000)
    assert wallet.count() == coupons + 1
    # when: it redeems the 500-point coupon reward from the shelf
    page.locator('#rewards button[data-redeem="COUPON-10PCT"]').click()
    # then: 500 points are gone from what it may spend
    page.locator(".toast-ok", has_text="Redeemed").wait_for(timeout=10_000)
    for _ in range(50):
        if figure(page, "spendable") != spendable:
            break
        page.wait_for_timeout(100)
    assert figure(page, "spendable") == spendable - 500
    assert problems == []


def test_in_production_the_page_takes_a_token_the_storefront_minted(production_server, open_page):
    base, data = production_server
    opening, problems = open_page
    # given: the page in production offers no picker, only a place for a token
    page = opening(PHONE, base=base, member=False)
    page.locator("#token-input").wait_for(timeout=30_000)
    assert page.locator("#picker").is_hidden()
    assert "Paste a member token" in page.locator("#placeholder").inner_text()
    # when: the storefront's back end mints a token with its key, and the member pastes it
    minted = httpx.post(
        f"{base}/graphql",
        json={"query": ISSUE_TOKEN},
        headers={"Authorization": f"Bearer {demo_key(data, 'LOYALTY_STOREFRONT_KEY')}"},
    ).json()
    page.fill("#token-input", minted["data"]["issueMemberToken"]["token"])
    page.get_by_role("button", name="Use").click()
    # then: the member's page is shown, and the token is nowhere in the address
    page.locator('body[data-member="cust-0001"]').wait_for(timeout=30_000)
    assert page.locator("#tier-badge").inner_text() in DEMO_TIER_NAMES
    assert "token" not in page.url
    assert problems == []


def test_the_downgrade_warning_and_expiring_points_show_when_the_api_reports_them(open_page):
    # given: the API's answer for a Gold member who would fall to Silver, with points expiring
    # (the seeded members have neither yet: their orders are days old); the times are
    # midnight in the demo programme's zone (Asia/Shanghai), so the next day's date
    def as_if_falling(route):
        answer = route.fetch()
        body = answer.json()
        viewer = (body.get("data") or {}).get("viewer")
        if viewer and "tierProgress" in viewer:
            viewer["tier"] = {**viewer["tier"], "code": "GOLD", "name": "Gold", "rank": 2}
            viewer["tierValidUntil"] = "2027-06-30T16:00:00+00:00"
            viewer["tierProgress"]["amountToRetain"] = 12_345
            viewer["tierProgress"]["willDowngradeTo"] = {"code": "SILVER", "name": "Silver"}
            viewer["points"]["expiringWithin"] = [
                {"amount": 300, "expiresAt": "2027-01-20T16:00:00+00:00"}
            ]
        route.fulfill(response=answer, body=json.dumps(body))

    opening, problems = open_page
    # when
    page = opening(PHONE, prepare=lambda page: page.route("**/graphql", as_if_falling))
    # then: the warning names what is left, by when, and the tier below
    warning = page.locator("#downgrade")
    assert warning.is_visible()
    assert warning.inner_text() == "Keep Gold: ¥123.45 more by Jul 1, 2027, or you move to Silver."
    assert figure(page, "expiring") == 300
    assert "300 points expire on Jan 21, 2027" in page.locator("#expiring").inner_text()
    assert problems == []


def test_an_expired_token_is_replaced_in_the_demo_without_the_member_noticing(open_page):
    # given: the tab still holds a token that no longer works (they last 15 minutes)
    stale = (
        "sessionStorage.setItem('loyalty.memberToken', 'eyJ.expired.token');"
        "sessionStorage.setItem('loyalty.demoMember', 'cust-0002');"
    )
    opening, problems = open_page
    # when
    page = opening(DESKTOP, prepare=lambda page: page.add_init_script(script=stale))
    # then: the page minted a fresh token for the same member and shows it
    assert page.locator("body").get_attribute("data-member") == "cust-0002"
    assert page.locator("#picker-member").input_value() == "cust-0002"
    assert page.locator("#tier-badge").inner_text() in DEMO_TIER_NAMES
    assert problems == []
