from __future__ import annotations

from datetime import date
from typing import Any

from domain.auth import Role
from resolvers.auth import require
from services import insights
from services.insights import Insights


async def programme_insights(info: Any, *, first: date, last: date, granularity: str) -> Insights:
    """Admin only: a storefront or member credential is refused (FORBIDDEN) before any read."""
    return await insights.programme_insights(require(info, Role.ADMIN), first, last, granularity)
