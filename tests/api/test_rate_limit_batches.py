"""Issue 16: the charges asked for in one turn of the event loop go to Redis in one pipeline
(api/rate_limit._Charges), each still its own script in the order asked, so a bucket ends as
separate calls would leave it; a script Redis forgot is loaded and the calls sent again (those
alone fail if it cannot be); a Redis that fails sends every caller of the batch to the
in-process buckets; a batch an ended event loop left behind stops nothing."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import ConnectionError as RedisConnectionError

from api.rate_limit import Bucket, RateLimiter, _Charges
from tests.conftest import TEST_REDIS_URL, needs_redis


def _name() -> str:
    return f"batch-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def pipelines(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of commands of each pipeline sent from now on."""
    sent: list[int] = []
    execute = Pipeline.execute

    async def counted(self, *args, **kwargs):
        sent.append(len(self.command_stack))
        return await execute(self, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "execute", counted)
    return sent


@needs_redis
async def test_charges_of_one_turn_go_in_one_pipeline_in_the_order_asked(pipelines):
    limiter = RateLimiter(TEST_REDIS_URL)
    bucket = Bucket(10, 1)
    name = _name()
    await limiter.charge(_name(), bucket, 1)  # the script loaded, the connection made
    pipelines.clear()
    # when six requests each charge 2 points of a 10-point bucket in one turn of the loop
    answers = await asyncio.gather(*(limiter.charge(name, bucket, 2) for _ in range(6)))
    # then one pipeline carried the six, and each saw the bucket as the one before left it
    assert pipelines == [6]
    assert [a.currently_available for a in answers] == [8, 6, 4, 2, 0, 0]
    assert [a.allowed for a in answers] == [True] * 5 + [False]
    assert answers[-1].retry_after == 2
    # and the bucket is as six separate calls would have left it
    assert (await limiter.status(name, bucket)).currently_available == 0


@needs_redis
async def test_charges_in_different_turns_go_one_by_one(pipelines):
    limiter = RateLimiter(TEST_REDIS_URL)
    bucket = Bucket(10, 1)
    name = _name()
    first = await limiter.charge(name, bucket, 3)
    second = await limiter.charge(name, bucket, 3)
    assert (first.currently_available, second.currently_available) == (7, 4)
    assert pipelines == []  # a charge alone is one plain call, no pipeline


@needs_redis
async def test_a_script_redis_forgot_is_loaded_and_the_charges_sent_again():
    limiter = RateLimiter(TEST_REDIS_URL)
    bucket = Bucket(10, 1)
    alone, together = _name(), _name()
    assert TEST_REDIS_URL
    redis = Redis.from_url(TEST_REDIS_URL)
    try:
        await redis.script_flush()
        assert (await limiter.charge(alone, bucket, 4)).currently_available == 6
        await redis.script_flush()
        answers = await asyncio.gather(*(limiter.charge(together, bucket, 4) for _ in range(3)))
    finally:
        await redis.aclose()
    # each charge counted once: none lost, none twice
    assert [a.currently_available for a in answers] == [6, 2, 2]
    assert [a.allowed for a in answers] == [True, True, False]
    assert (await limiter.status(alone, bucket)).currently_available == 6


async def test_with_redis_down_every_caller_of_a_batch_is_limited_in_process():
    limiter = RateLimiter("redis://127.0.0.1:1/0")
    bucket = Bucket(10, 1)
    answers = await asyncio.gather(*(limiter.charge("down", bucket, 4) for _ in range(3)))
    assert [a.allowed for a in answers] == [True, True, False]
    assert [a.currently_available for a in answers] == [6, 2, 2]


@needs_redis
async def test_a_caller_that_goes_away_leaves_the_others_their_answers():
    limiter = RateLimiter(TEST_REDIS_URL)
    bucket = Bucket(10, 1)
    name = _name()
    await limiter.charge(_name(), bucket, 1)
    leaving = asyncio.ensure_future(limiter.charge(name, bucket, 1))
    staying = [asyncio.ensure_future(limiter.charge(name, bucket, 1)) for _ in range(2)]
    await asyncio.sleep(0)  # all three asked for in this turn
    leaving.cancel()
    answers = await asyncio.gather(*staying)
    assert all(a.allowed for a in answers)
    # the one that left was still charged (its script was on its way): 3 points taken
    assert (await limiter.status(name, bucket)).currently_available == 7


@needs_redis
async def test_when_a_forgotten_script_cannot_be_loaded_only_the_calls_it_stopped_fail(
    monkeypatch,
):
    limiter = RateLimiter(TEST_REDIS_URL, pause_after_error=0.0)  # then Redis again at once
    bucket = Bucket(10, 1)
    name = _name()
    await limiter.charge(_name(), bucket, 1)
    send_all = _Charges._send_all

    async def forgotten_half_way(self, calls):
        if len(calls) < 4:
            return await send_all(self, calls)
        head = await send_all(self, calls[:2])  # these two run on Redis
        await self._redis.script_flush()  # then Redis forgets the script
        return head + await send_all(self, calls[2:])  # NOSCRIPT for these

    async def load_fails(self, *args, **kwargs):
        raise RedisConnectionError("lost")

    monkeypatch.setattr(_Charges, "_send_all", forgotten_half_way)
    monkeypatch.setattr(Redis, "script_load", load_fails)
    # when four charges go in one batch, and the script cannot be loaded for the last two
    answers = await asyncio.gather(*(limiter.charge(name, bucket, 2) for _ in range(4)))
    monkeypatch.undo()
    # then the two that ran on Redis keep its answers; only the other two are counted in
    # the process (once each)
    assert [a.currently_available for a in answers] == [8, 6, 8, 6]
    assert (await limiter.status(name, bucket)).currently_available == 6  # Redis: two taken


def test_a_batch_left_by_an_ended_event_loop_does_not_stop_the_next_loops_charges():
    limiter = RateLimiter(TEST_REDIS_URL or "redis://127.0.0.1:1/0", pause_after_error=0.0)
    bucket = Bucket(10, 1)

    left: list[asyncio.Future[Any]] = []

    async def ends_with_a_charge_asked() -> None:
        await limiter.charge(_name(), bucket, 1)
        # asked in the loop's last turn: its sender is cancelled with the loop
        left.append(asyncio.ensure_future(limiter.charge(_name(), bucket, 1)))

    async def charges() -> bool:
        answer = await asyncio.wait_for(limiter.charge(_name(), bucket, 1), 5)
        return answer.allowed

    asyncio.run(ends_with_a_charge_asked())
    assert asyncio.run(charges())


@needs_redis
async def test_a_batch_whose_sender_is_cancelled_still_answers_its_callers(monkeypatch):
    limiter = RateLimiter(TEST_REDIS_URL, pause_after_error=0.0)
    bucket = Bucket(10, 1)
    sending = asyncio.Event()

    async def never_answered(self, calls):
        sending.set()
        await asyncio.sleep(3600)

    monkeypatch.setattr(_Charges, "_send_all", never_answered)
    callers = [asyncio.ensure_future(limiter.charge(_name(), bucket, 1)) for _ in range(3)]
    await sending.wait()
    assert limiter._charges is not None
    for task in list(limiter._charges._sending):
        task.cancel()
    # then each caller is told Redis failed, and is counted in the process instead
    answers = await asyncio.wait_for(asyncio.gather(*callers), 5)
    assert [a.currently_available for a in answers] == [9, 9, 9]
