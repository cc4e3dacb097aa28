from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import available_timezones

from db.models import Programme
from db.repositories import programmes as programme_repo
from domain.auth import Principal, Role
from domain.clock import ProgrammeMode, advanced_clock, zone_problem
from domain.errors import AlreadyExists, Collector, NotFound
from domain.idempotency import check_key
from domain.money import is_currency
from domain.points import NEUTRAL_POLICY, PointsPolicy
from services.clock import now_of, wall_now
from services.idempotency import run_once

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9\-]{1,63}$")


async def create(
    *,
    code: str,
    name: str,
    currency: str,
    timezone: str = "UTC",
    mode: ProgrammeMode,
    points_policy: PointsPolicy = NEUTRAL_POLICY,
    clock_at: datetime | None = None,
) -> Programme:
    """A new programme starts from the neutral points policy unless it is given another. A
    sandbox's test clock may start in the past (`clock_at`: the demo starts a year back)."""
    errors = Collector()
    if not CODE_RE.fullmatch(code):
        errors.add("code", "2-64 characters: lower-case letters, digits and -")
    if not 1 <= len(name.strip()) <= 200:
        errors.add("name", "must be 1-200 characters")
    if not is_currency(currency):
        errors.add("currency", "must be an ISO 4217 code such as CNY")
    if (problem := zone_problem(timezone, available_timezones())) is not None:
        errors.add("timezone", problem)
    if clock_at is not None and (mode is not ProgrammeMode.SANDBOX or clock_at > wall_now()):
        errors.add("clockAt", "only a sandbox's test clock may start, and not in the future")
    errors.raise_if_any()
    if await programme_repo.get_by_code(code):
        raise AlreadyExists(f"programme {code} exists", field="code")
    return await programme_repo.create(
        code=code,
        name=name.strip(),
        currency=currency,
        timezone=timezone,
        mode=mode,
        now=clock_at or wall_now(),
        points_policy=points_policy.to_json(),
    )


async def every_or_one(code: str | None) -> list[Programme]:
    """Every programme by id, or the one with `code` (a command's `--programme`): NotFound
    naming `programme` when there is none."""
    if code is None:
        return list(await Programme.all().order_by("id"))
    found = await programme_repo.get_by_code(code)
    if found is None:
        raise NotFound(f"no programme {code!r}", field="programme")
    return [found]


async def current(principal: Principal) -> Programme:
    return await programme_repo.get(principal.programme_id)


async def by_code(code: str) -> Programme | None:
    return await programme_repo.get_by_code(code)


async def advance_test_clock(
    principal: Principal, *, days: int, seconds: int, to: datetime | None, idempotency_key: str
) -> Programme:
    """Idempotent, so a retried request does not move the clock twice."""
    errors = Collector()
    check_key(errors, idempotency_key)
    errors.raise_if_any()

    async def advance() -> dict[str, Any]:
        # The row lock makes two advances queue, so each moves from where the other left it.
        programme = await programme_repo.lock(principal.programme_id)
        target = advanced_clock(
            programme.mode, now_of(programme), days=days, seconds=seconds, to=to
        )
        await programme_repo.set_test_clock(programme, target)
        return {"now": target.isoformat()}

    payload = {"days": days, "seconds": seconds, "to": to.isoformat() if to else None}
    await run_once(
        principal,
        key=idempotency_key,
        operation="advanceTestClock",
        payload=payload,
        action=advance,
    )
    return await programme_repo.get(principal.programme_id)


RATE_LIMIT_ROLES = tuple(role.value for role in Role)
RATE_LIMIT_MAX = 100_000_000


async def set_rate_limit(
    code: str, role: str, *, maximum: int | None, restore_rate: int | None
) -> Programme:
    """The operator's setting (`loyalty set-rate-limit`, not the API: a programme does not
    raise its own limits): one role's cost bucket for one programme, or, with neither
    number, back to the default."""
    errors = Collector()
    if role not in RATE_LIMIT_ROLES:
        errors.add("role", f"must be one of {', '.join(RATE_LIMIT_ROLES)}")
    if (maximum is None) != (restore_rate is None):
        errors.add("restoreRate", "give both numbers, or neither to restore the default")
    elif maximum is not None and restore_rate is not None:
        if not 1 <= maximum <= RATE_LIMIT_MAX:
            errors.add("maximumAvailable", f"must be 1-{RATE_LIMIT_MAX}")
        if not 1 <= restore_rate <= maximum:
            errors.add("restoreRate", "must be 1 to maximumAvailable (points a second)")
    errors.raise_if_any()
    programme = await programme_repo.get_by_code(code)
    if programme is None:
        raise NotFound(f"no programme {code}", field="code")
    limits = dict(programme.rate_limits or {})
    if maximum is None:
        limits.pop(role, None)
    else:
        limits[role] = {"maximumAvailable": maximum, "restoreRate": restore_rate}
    await programme_repo.set_rate_limits(programme, limits)
    return programme


async def rate_limits(programme_id: int) -> dict[str, Any]:
    """The roles whose limits this programme has changed (see set_rate_limit)."""
    return await programme_repo.rate_limits(programme_id)
