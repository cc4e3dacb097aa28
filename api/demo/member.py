"""The demo member page (see api/demo/__init__.py)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from api.settings import Settings


def routes(settings: Settings) -> list[BaseRoute]:
    return []
