from __future__ import annotations

from typing import Any

from domain.auth import Role
from domain.events import Event, EventPolicy, Position
from resolvers.auth import require
from resolvers.ids import BIGINT_MAX, decode_pair_cursor, encode_pair_cursor
from services import events

EVENT_CURSOR = "evt:"


def event_cursor(event: Event) -> str:
    return encode_pair_cursor(EVENT_CURSOR, event.position.txid, event.position.id)


async def events_page(
    info: Any,
    *,
    first: int,
    after: str | None,
    types: list[str] | None,
    member_id: int | None,
) -> tuple[list[Event], bool]:
    pair = decode_pair_cursor(EVENT_CURSOR, after, maximum=BIGINT_MAX)
    return await events.page(
        require(info, Role.ADMIN),
        first=first,
        after=Position(*pair) if pair else None,
        types=types,
        member_id=member_id,
    )


async def policy(info: Any) -> EventPolicy:
    return await events.policy(require(info, Role.ADMIN))


async def change_policy(info: Any, changes: dict[str, int], *, idempotency_key: str) -> EventPolicy:
    return await events.change_policy(
        require(info, Role.ADMIN), changes, idempotency_key=idempotency_key
    )
