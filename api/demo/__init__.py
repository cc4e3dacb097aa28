"""Pages a person can look at, driven only by the public GraphQL API: the member page a
storefront can copy (`/demo/member`) and the programme dashboard (`/demo/admin`). Plain HTML,
CSS and JavaScript served from this package: no build step, nothing from a CDN. Mounted when
`LOYALTY_DEMO_PAGES` is on (the default in development)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from api.demo import admin, member
from api.settings import Settings


def routes(settings: Settings) -> list[BaseRoute]:
    if not settings.demo_pages:
        return []
    return [*member.routes(settings), *admin.routes(settings)]
