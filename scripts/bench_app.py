"""The app `make bench` serves: the real one, plus the raw member page route
(api/member_page.py). With LOYALTY_BENCH_MEMORY=1 the member page's resolvers answer from
memory after their first call per member, so the GraphQL layer can be measured against the
raw route on the same data with no database in the way."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route

from api.app import create_app_from_env
from api.member_page import member_page_route
from resolvers import coupons as coupon_resolvers
from resolvers import members as member_resolvers
from resolvers import points as points_resolvers
from resolvers import recommendations as reco_resolvers
from resolvers import tier_engine as tier_resolvers
from services import keys as key_service
from services import programmes as programme_service

Resolver = Callable[..., Awaitable[Any]]


def _remembered(call: Resolver, key: Callable[..., Any]) -> Resolver:
    """`call`, answering from memory after the first call for each `key(*args)`."""
    seen: dict[Any, Any] = {}

    async def answer(*args: Any, **kwargs: Any) -> Any:
        k = key(*args, **kwargs)
        if k not in seen:
            seen[k] = await call(*args, **kwargs)
        return seen[k]

    return answer


def _in_memory() -> None:
    alone = lambda arg: arg  # noqa: E731
    by_member = lambda info, member, *a, **k: (member.id, a, tuple(sorted(k.items())))  # noqa: E731
    key_service.authenticate_key = _remembered(key_service.authenticate_key, alone)
    programme_service.current = _remembered(programme_service.current, alone)
    member_resolvers.member = _remembered(member_resolvers.member, lambda info, e: e)
    tier_resolvers.progress = _remembered(tier_resolvers.progress, by_member)
    points_resolvers.expiring = _remembered(points_resolvers.expiring, by_member)
    points_resolvers.transactions = _remembered(points_resolvers.transactions, by_member)
    coupon_resolvers.wallet_page = _remembered(coupon_resolvers.wallet_page, by_member)
    reco_resolvers.recommendations = _remembered(reco_resolvers.recommendations, by_member)


def create() -> Starlette:
    if os.environ.get("LOYALTY_BENCH_MEMORY") == "1":
        _in_memory()
    app = create_app_from_env()  # as `loyalty serve` runs it: production logging included
    app.router.routes.append(Route("/raw/member/{external_id}", member_page_route))
    return app
