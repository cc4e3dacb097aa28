"""RELIABILITY.md 1-7, through registerMember (the creating operation this issue has)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from tortoise.transactions import in_transaction

from db.models import IdempotencyKey, Member
from domain.auth import Principal, Role
from domain.errors import (
    ErrorCode,
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    ValidationFailed,
)
from services import idempotency
from services import members as member_service
from services.members import ProfileInput
from tests.conftest import needs_postgres

PROFILE = ProfileInput(display_name="Li Wei", email="li.wei@example.com")


def staff(programme, key_id: int = 1) -> Principal:
    return Principal(programme_id=programme.id, role=Role.STOREFRONT, key_id=key_id)


async def register(principal, external_id="c-1", key="K", profile=PROFILE):
    return await member_service.register(
        principal, external_id=external_id, profile=profile, idempotency_key=key
    )


async def test_same_key_same_input_replays_without_a_second_effect(programme):
    # given
    first = await register(staff(programme))
    # when
    again = await register(staff(programme))
    # then
    assert again.id == first.id
    assert await Member.filter(programme_id=programme.id).count() == 1


async def test_same_key_different_input_is_refused_and_changes_nothing(programme):
    await register(staff(programme))
    with pytest.raises(IdempotencyKeyReused) as raised:
        await register(staff(programme), external_id="c-2")
    assert raised.value.code is ErrorCode.IDEMPOTENCY_KEY_REUSED
    assert await Member.filter(programme_id=programme.id, external_id="c-2").count() == 0


async def test_keys_are_scoped_by_principal(programme):
    # two storefront keys may both send "abc"
    a = await register(staff(programme, key_id=1), external_id="from-a", key="abc")
    b = await register(staff(programme, key_id=2), external_id="from-b", key="abc")
    assert a.id != b.id


async def test_keys_are_scoped_by_programme(make_programme):
    one, two = await make_programme(), await make_programme()
    a = await register(staff(one), key="abc")
    b = await register(staff(two), key="abc")
    assert a.programme_id == one.id and b.programme_id == two.id


async def test_validation_failures_are_not_stored(programme):
    # given a first attempt with a bad email
    with pytest.raises(ValidationFailed):
        await register(staff(programme), profile=ProfileInput(display_name="X", email="nope"))
    # when the corrected input comes with the same key
    member = await register(staff(programme))
    # then it succeeds
    assert member.email == "li.wei@example.com"


async def test_business_failures_roll_the_key_back_too(programme, make_member):
    # an externalId that exists: ALREADY_EXISTS, and the key stays free for a corrected retry
    await make_member(programme, external_id="taken")
    with pytest.raises(Exception) as raised:
        await register(staff(programme), external_id="taken", key="retry-me")
    assert getattr(raised.value, "code", None) is ErrorCode.ALREADY_EXISTS
    assert await IdempotencyKey.filter(programme_id=programme.id, key="retry-me").count() == 0
    assert (
        await register(staff(programme), external_id="free", key="retry-me")
    ).external_id == "free"


async def test_a_crash_inside_the_transaction_leaves_nothing(programme):
    # given an action that writes, then fails like a crash between steps would
    principal = staff(programme)

    async def half_done() -> dict:
        await Member.create(
            programme_id=programme.id,
            external_id="half",
            display_name="H",
            joined_at=programme.created_at,
        )
        raise RuntimeError("process died here")

    with pytest.raises(RuntimeError):
        await idempotency.run_once(
            principal, key="crash", operation="op", payload={}, action=half_done
        )
    # then neither the row nor the key survives
    assert await Member.filter(programme_id=programme.id, external_id="half").count() == 0
    assert await IdempotencyKey.filter(programme_id=programme.id, key="crash").count() == 0


async def test_keys_older_than_a_day_are_pruned_and_younger_kept(programme):
    # given one fresh key and one from 25 hours ago
    await register(staff(programme), key="fresh")
    await register(staff(programme), external_id="c-old", key="old")
    old = await IdempotencyKey.get(programme_id=programme.id, key="old")
    old.created_at = old.created_at - timedelta(hours=25)
    await old.save()
    # when
    pruned = await idempotency.prune_expired_keys()
    # then
    assert pruned >= 1
    keys = set(await IdempotencyKey.filter(programme_id=programme.id).values_list("key", flat=True))
    assert "fresh" in keys and "old" not in keys
    # and a second run changes nothing of ours
    await idempotency.prune_expired_keys()
    assert (
        set(await IdempotencyKey.filter(programme_id=programme.id).values_list("key", flat=True))
        == keys
    )


@needs_postgres
async def test_one_key_sent_21_times_at_once_gives_one_effect_and_21_identical_results(programme):
    # when
    results = await asyncio.gather(*(register(staff(programme), key="burst") for _ in range(21)))
    # then
    assert {m.id for m in results} == {results[0].id}
    assert await Member.filter(programme_id=programme.id).count() == 1
    assert await IdempotencyKey.filter(programme_id=programme.id, key="burst").count() == 1


@needs_postgres
async def test_first_then_twenty_parallel_replays(programme):
    first = await register(staff(programme), key="K21")
    replays = await asyncio.gather(*(register(staff(programme), key="K21") for _ in range(20)))
    assert all(m.id == first.id for m in replays)
    assert await Member.filter(programme_id=programme.id).count() == 1


@needs_postgres
async def test_same_key_while_the_first_is_still_running_is_in_progress(programme, monkeypatch):
    # given a first request that holds its key row in an open transaction
    monkeypatch.setattr(idempotency, "TWIN_WAIT_SECONDS", 0.3)
    principal = staff(programme)
    release = asyncio.Event()
    started = asyncio.Event()

    async def slow() -> dict:
        started.set()
        await release.wait()
        return {"memberId": 0}

    first = asyncio.create_task(
        idempotency.run_once(principal, key="slow", operation="op", payload={}, action=slow)
    )
    await started.wait()
    # when a twin arrives
    with pytest.raises(IdempotencyKeyInProgress):
        await idempotency.run_once(principal, key="slow", operation="op", payload={}, action=slow)
    # then once the first finishes, a retry gets its stored result
    release.set()
    assert await first == {"memberId": 0}
    assert await idempotency.run_once(
        principal, key="slow", operation="op", payload={}, action=slow
    ) == {"memberId": 0}


@needs_postgres
async def test_the_twin_wait_bound_does_not_cut_short_the_actions_own_lock_waits(
    programme, monkeypatch
):
    # given another transaction holding the programme row for longer than the twin wait
    from db.repositories import programmes as programme_repo

    monkeypatch.setattr(idempotency, "TWIN_WAIT_SECONDS", 0.2)
    holding = asyncio.Event()

    async def hold_the_row() -> None:
        async with in_transaction():
            await programme_repo.lock(programme.id)
            holding.set()
            await asyncio.sleep(0.8)

    holder = asyncio.create_task(hold_the_row())
    await holding.wait()

    async def needs_the_row() -> dict:
        await programme_repo.lock(programme.id)
        return {"ok": 1}

    # when an action (with a fresh key) has to wait 0.8 s for that lock
    result = await idempotency.run_once(
        staff(programme), key="patient", operation="op", payload={}, action=needs_the_row
    )
    await holder
    # then it waits and succeeds, rather than being told its key is in progress
    assert result == {"ok": 1}
