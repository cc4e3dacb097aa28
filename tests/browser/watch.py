"""What every browser test watches: a page must load only from the service, run behind a strict
CSP (as an office proxy may add one) and meet no error. `watch` collects each problem in a list
the test asserts empty."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from tests.fixtures.servers import PROJECT

CHROMIUM = Path(os.environ.get("LOYALTY_TEST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = PROJECT / ".artifacts"
# Only the server's own files, no inline script or style, no eval.
STRICT_CSP = "default-src 'self'"


def watch(
    page,
    base: str,
    document: str,
    problems: list[str],
    *,
    console: tuple[str, ...] = ("error", "warning"),
    own_csp: str | None = None,
    csp: str = STRICT_CSP,
) -> None:
    """Serve `document` (a path) under `csp`, refuse requests off `base`'s host, and note
    failed requests, answers of 400 and above, script errors and console messages of the
    `console` types (all of them would show a user a broken page). With `own_csp`, the page's
    own policy must start with it."""

    server = urlsplit(base).netloc

    def guard(route):
        url = urlsplit(route.request.url)
        if url.netloc != server:
            problems.append(f"request off the server: {route.request.url}")
            route.abort()
        elif url.path == document and route.request.resource_type == "document":
            response = route.fetch()
            own = response.headers.get("content-security-policy", "")
            if own_csp is not None and not own.startswith(own_csp):
                problems.append(f"the page came without its CSP: {own!r}")
            route.fulfill(
                response=response,
                headers={**response.headers, "content-security-policy": csp},
            )
        else:
            route.continue_()

    page.route("**/*", guard)
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status}: {r.url}"))
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "console",
        lambda m: (
            (m.type in console or "Content Security Policy" in m.text)
            and problems.append(f"console {m.type}: {m.text}")
        ),
    )
