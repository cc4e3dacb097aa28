from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import available_timezones

from db.models import Programme
from db.repositories import programmes as programme_repo
from domain.auth import Principal
from domain.clock import ProgrammeMode, advanced_clock
from domain.errors import AlreadyExists, Collector
from domain.idempotency import check_key
from domain.money import is_currency
from services.clock import now_of, wall_now
from services.idempotency import run_once

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9\-]{1,63}$")


async def create(
    *, code: str, name: str, currency: str, timezone: str = "UTC", mode: ProgrammeMode
) -> Programme:
    errors = Collector()
    if not CODE_RE.fullmatch(code):
        errors.add("code", "2-64 characters: lower-case letters, digits and -")
    if not 1 <= len(name.strip()) <= 200:
        errors.add("name", "must be 1-200 characters")
    if not is_currency(currency):
        errors.add("currency", "must be an ISO 4217 code such as CNY")
    if timezone not in available_timezones():
        errors.add("timezone", "must be an IANA time zone such as Asia/Shanghai")
    errors.raise_if_any()
    if await programme_repo.get_by_code(code):
        raise AlreadyExists(f"programme {code} exists", field="code")
    return await programme_repo.create(
        code=code,
        name=name.strip(),
        currency=currency,
        timezone=timezone,
        mode=mode,
        now=wall_now(),
    )


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
