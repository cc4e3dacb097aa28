"""The outbox: an event exists if and only if its change committed, and a reader following
positions sees every event once, in commit order, even when ids commit out of order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
import pytest
from tortoise.transactions import in_transaction

from db.models import Event, Programme
from domain.events import START, Position
from services import events as event_service
from tests.conftest import DATABASE_URL, ON_POSTGRES, needs_postgres
from tests.fixtures.events import feed_caught_up

AT = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


class Boom(Exception):
    pass


async def _events_of(programme: Programme) -> list[Event]:
    return await Event.filter(programme_id=programme.id).order_by("id")


async def test_an_event_written_in_a_transaction_that_rolls_back_is_not_there(
    programme: Programme, make_member
) -> None:
    member = await make_member(programme)
    before = len(await _events_of(programme))
    with pytest.raises(Boom):
        async with in_transaction():
            await event_service.record(
                programme.id, "points.adjusted", {"version": 1}, occurred_at=AT, member_id=member.id
            )
            raise Boom()
    assert len(await _events_of(programme)) == before
    async with in_transaction():
        await event_service.record(
            programme.id, "points.adjusted", {"version": 1}, occurred_at=AT, member_id=member.id
        )
    assert len(await _events_of(programme)) == before + 1


async def test_a_members_events_are_numbered_one_by_one(programme: Programme, make_member) -> None:
    member = await make_member(programme)
    other = await make_member(programme)
    for who in (member, other, member, member):
        async with in_transaction():
            await event_service.record(
                programme.id, "points.adjusted", {"version": 1}, occurred_at=AT, member_id=who.id
            )
    numbers = [e.sequence for e in await _events_of(programme) if e.member_id == member.id]
    assert numbers == list(range(1, len(numbers) + 1))
    assert len(numbers) >= 3


async def test_events_read_back_in_order_with_positions_that_resume(programme: Programme) -> None:
    for n in range(5):
        async with in_transaction():
            await event_service.record(
                programme.id, "webhook_endpoint.disabled", {"version": 1, "n": n}, occurred_at=AT
            )
    await feed_caught_up()
    first = await event_service.committed_after(START, programme_id=programme.id, limit=2)
    rest = await event_service.committed_after(
        first[-1].position, programme_id=programme.id, limit=10
    )
    assert [e.payload["n"] for e in first + rest] == [0, 1, 2, 3, 4]
    assert all(e.subject is None and e.sequence is None for e in first + rest)
    assert len({e.event_id for e in first + rest}) == 5
    if ON_POSTGRES:
        assert all(e.position.txid > 0 for e in first + rest)


@needs_postgres
async def test_a_reader_following_positions_misses_no_event_committed_out_of_id_order(
    programme: Programme,
) -> None:
    """Transaction A takes the lower id and commits last; B takes the higher id and commits
    first. A reader polling in between must not move past A's event and lose it."""
    dsn = DATABASE_URL.replace("postgres://", "postgresql://", 1)
    a, b = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    insert = (
        "INSERT INTO events (event_id, programme_id, type, occurred_at, recorded_at, payload) "
        "VALUES (gen_random_uuid(), $1, 'webhook_endpoint.disabled', now(), now(), $2::jsonb)"
        " RETURNING id"
    )
    try:
        ta, tb = a.transaction(), b.transaction()
        await ta.start()
        await tb.start()
        id_a = await a.fetchval(insert, programme.id, '{"version": 1, "who": "A"}')
        id_b = await b.fetchval(insert, programme.id, '{"version": 1, "who": "B"}')
        assert id_a < id_b
        await tb.commit()
        seen = await _follow(START, programme.id)
        await ta.commit()
        await feed_caught_up()
        seen += await _follow(seen[-1].position if seen else START, programme.id)
    finally:
        await a.close()
        await b.close()
    assert sorted(e.payload["who"] for e in seen) == ["A", "B"]
    assert [e.payload["who"] for e in seen] == ["A", "B"]  # A's transaction began first


async def _follow(after: Position, programme_id: int) -> list:
    seen = []
    for _ in range(3):
        page = await event_service.committed_after(after, programme_id=programme_id)
        seen += page
        if page:
            after = page[-1].position
        await asyncio.sleep(0.01)
    return seen


@needs_postgres
async def test_a_reader_polling_while_many_transactions_commit_out_of_order_sees_each_once(
    programme: Programme,
) -> None:
    """Writers hold their transactions open for random lengths after writing, so ids commit
    in shuffled order while a reader follows positions the whole time."""
    import random

    written: list[str] = []
    writing = True

    async def writer(n: int) -> None:
        for k in range(15):
            async with in_transaction():
                event_id = await event_service.record(
                    programme.id,
                    "webhook_endpoint.disabled",
                    {"version": 1, "writer": n, "k": k},
                    occurred_at=AT,
                )
                await asyncio.sleep(random.uniform(0, 0.02))
            written.append(str(event_id))

    seen: list[str] = []

    async def reader() -> None:
        after = START
        while writing or len(seen) < len(written):
            page = await event_service.committed_after(after, programme_id=programme.id, limit=7)
            seen.extend(e.event_id for e in page)
            if page:
                after = page[-1].position
            else:
                await asyncio.sleep(0.005)

    reading = asyncio.create_task(reader())
    await asyncio.gather(*(writer(n) for n in range(4)))
    writing = False
    await asyncio.wait_for(reading, timeout=30)
    assert len(seen) == len(set(seen)) == 60
    assert set(seen) == set(written)


@needs_postgres
async def test_concurrent_changes_to_one_member_number_its_events_without_gap_or_repeat(
    programme: Programme, make_member
) -> None:
    import uuid

    from services.points import admin as points_admin
    from tests.fixtures.factories import admin_of

    member = await make_member(programme)
    await asyncio.gather(
        *(
            points_admin.adjust(
                admin_of(programme),
                member_external_id=member.external_id,
                amount=10,
                reason="race",
                idempotency_key=uuid.uuid4().hex,
            )
            for _ in range(20)
        )
    )
    events = await Event.filter(member_id=member.id).order_by("sequence")
    assert [e.sequence for e in events] == list(range(1, 22))
    # in sequence order the balances climb as the changes did (numbers follow the row lock)
    balances = [e.payload["balance"]["available"] for e in events[1:]]
    assert balances == list(range(10, 210, 10))
    # and the pull hands out each of them
    await feed_caught_up()
    read = await event_service.committed_after(START, member_id=member.id)
    assert sorted(e.sequence for e in read) == list(range(1, 22))
