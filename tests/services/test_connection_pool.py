"""The PostgreSQL pool takes a connection back without asyncpg's reset round trip, and still
leaves no transaction or setting behind for the next statement."""

from __future__ import annotations

import asyncpg
from tortoise import connections

from tests.conftest import needs_postgres


def _spy_on_statements(monkeypatch) -> list[str]:
    """Every statement the driver sends as text (the reset query goes through `execute`)."""
    sent: list[str] = []
    original = asyncpg.Connection.execute

    async def execute(self, query, *args, **kwargs):
        sent.append(query)
        return await original(self, query, *args, **kwargs)

    monkeypatch.setattr(asyncpg.Connection, "execute", execute)
    return sent


@needs_postgres
async def test_a_statement_outside_a_transaction_sends_no_reset(monkeypatch):
    sent = _spy_on_statements(monkeypatch)
    for _ in range(3):
        await connections.get("default").execute_query("SELECT 1")
    assert not [q for q in sent if "RESET" in q.upper() or "UNLISTEN" in q.upper()]


@needs_postgres
async def test_a_local_setting_ends_with_its_transaction():
    """What skipping the reset rests on: the only setting we make is SET LOCAL."""
    async with connections.get("default")._pool.acquire() as connection:
        async with connection.transaction():
            await connection.execute("SET LOCAL lock_timeout = '1500ms'")
            inside = await connection.fetchval("SHOW lock_timeout")
        after = await connection.fetchval("SHOW lock_timeout")
    assert inside == "1500ms"
    assert after == "0"


@needs_postgres
async def test_a_connection_given_back_inside_a_transaction_is_rolled_back():
    # given a pool connection released with a transaction still open (a cancelled request)
    pool = connections.get("default")._pool
    connection = await pool.acquire()
    await connection.execute("BEGIN")
    await connection.execute("SET LOCAL lock_timeout = '7ms'")
    await pool.release(connection)
    # then every connection the pool hands out next is outside any transaction
    held = [await pool.acquire() for _ in range(pool.get_size())]
    try:
        for each in held:
            assert not each.is_in_transaction()
            assert await each.fetchval("SHOW lock_timeout") == "0"
    finally:
        for each in held:
            await pool.release(each)
