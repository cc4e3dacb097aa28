"""Issue 16: the programme row is read from this process's cache (db.invalidation) inside a
transaction too — every audited mutation runs in one — while a transaction that locked or
saved the row reads its own from the database, and what it read is never kept."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from db import invalidation
from db.repositories import programmes as programme_repo
from domain.abuse import AbusePolicy
from domain.auth import Principal, Role
from services import abuse as abuse_service
from tests.conftest import needs_redis
from tests.graphql.test_privacy import ERASE, erase_input

PROGRAMMES = re.compile(r'\bFROM\s+"?programmes"?', re.IGNORECASE)
ADVANCE = """mutation ($k: String!) { advanceTestClock(input: {days: 3, idempotencyKey: $k}) {
  ... on AdvanceTestClockSuccess { programme { now } } } }"""


@contextmanager
def programme_reads() -> Iterator[list[str]]:
    """The statements sent through the default client's class that read the programmes
    table (as tests.graphql.test_query_counts.counting_statements counts them all)."""
    client_class = type(connections.get("default"))
    seen: list[str] = []
    originals = {}
    for name in ("execute_query", "execute_query_dict", "execute_insert", "execute_script"):
        original = getattr(client_class, name)
        originals[name] = original

        def wrapper(self, query, *args, _original=original, **kwargs):
            if PROGRAMMES.search(query):
                seen.append(query)
            return _original(self, query, *args, **kwargs)

        setattr(client_class, name, wrapper)
    try:
        yield seen
    finally:
        for name, original in originals.items():
            setattr(client_class, name, original)


@needs_redis
async def test_a_warm_audited_mutation_reads_no_programme_row(
    gql, programme, make_member, make_key, listening
):
    admin = await make_key(programme, Role.ADMIN)
    first, second = await make_member(programme), await make_member(programme)
    # the first erasure reads the row inside its transaction, and keeps it
    body = await gql(ERASE, {"input": erase_input(first.external_id)}, auth=admin)
    assert body["data"]["eraseMember"]["__typename"] == "EraseMemberSuccess", body
    with programme_reads() as reads:
        body = await gql(ERASE, {"input": erase_input(second.external_id)}, auth=admin)
    assert body["data"]["eraseMember"]["__typename"] == "EraseMemberSuccess", body
    assert reads == []


@needs_redis
async def test_a_row_read_inside_a_transaction_is_kept(programme, listening):
    async with in_transaction():
        await programme_repo.get(programme.id)
    with programme_reads() as reads:
        assert (await programme_repo.get(programme.id)).code == programme.code
    assert reads == []


@needs_redis
async def test_a_transaction_that_locked_the_row_reads_its_own(programme, listening):
    await programme_repo.get(programme.id)  # kept
    async with in_transaction():
        async with in_transaction():  # a savepoint, as an audited action's own transaction
            await programme_repo.lock(programme.id)
        with programme_reads() as reads:
            await programme_repo.get(programme.id)
    assert len(reads) == 1


@needs_redis
async def test_a_saved_row_is_read_back_uncommitted_and_never_kept(programme, listening):
    await programme_repo.get(programme.id)  # kept
    limits = {"admin": {"maximumAvailable": 7, "restoreRate": 1}}

    class Undo(Exception):
        pass

    with pytest.raises(Undo):
        async with in_transaction():
            async with in_transaction():
                row = await programme_repo.fresh(programme.id)
                await programme_repo.set_rate_limits(row, limits)
            assert (await programme_repo.get(programme.id)).rate_limits == limits
            raise Undo  # rolled back: the row must not have been kept
    assert not (await programme_repo.get(programme.id)).rate_limits


@needs_redis
async def test_a_settings_mutation_sees_its_own_fresh_row(gql, programme, make_key, listening):
    key = await make_key(programme, Role.ADMIN)
    before = (await gql("{ programme { now } }", auth=key))["data"]["programme"]["now"]
    moved = await gql(ADVANCE, {"k": "fresh-clock"}, auth=key)
    after = moved["data"]["advanceTestClock"]["programme"]["now"]
    assert after[:10] > before[:10]


@needs_redis
async def test_setting_the_abuse_policy_reads_the_row_from_the_database(programme, listening):
    principal = Principal(programme_id=programme.id, role=Role.ADMIN, key_id=1)
    await programme_repo.get(programme.id)  # kept
    async with in_transaction():
        with programme_reads() as reads:
            await abuse_service.set_policy(principal, AbusePolicy(referrals_per_day=3))
    assert len(reads) == 1
    assert (await abuse_service.current_policy(principal)).referrals_per_day == 3


@needs_redis
async def test_a_savepoint_opened_after_the_lock_reads_the_transaction_s_own_row(
    programme, listening
):
    committed = await programme_repo.get(programme.id)
    limits = {"member": {"maximumAvailable": 9, "restoreRate": 1}}

    class Undo(Exception):
        pass

    with pytest.raises(Undo):
        async with in_transaction():
            async with in_transaction():
                row = await programme_repo.lock(programme.id)
                await programme_repo.set_rate_limits(row, limits)
            # another request keeps the committed row meanwhile
            name = programme_repo.programme_name(programme.id)
            invalidation.local.put(name, committed, invalidation.local.epoch)
            async with in_transaction():  # a later savepoint: a client of its own
                assert (await programme_repo.get(programme.id)).rate_limits == limits
            invalidation.local.drop([name])
            async with in_transaction():
                await programme_repo.get(programme.id)  # reads its own row: keeps nothing
            raise Undo
    assert not (await programme_repo.get(programme.id)).rate_limits
