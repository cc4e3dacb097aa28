from __future__ import annotations

from typing import Any

from domain.auth import Role
from domain.points import PointsPolicy
from resolvers.auth import ANYONE, require
from services.points import policy


async def current(info: Any) -> PointsPolicy:
    return await policy.current(require(info, *ANYONE))


async def change(info: Any, changes: dict[str, Any], *, idempotency_key: str) -> PointsPolicy:
    return await policy.change(require(info, Role.ADMIN), changes, idempotency_key=idempotency_key)
