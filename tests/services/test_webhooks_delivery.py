"""Delivery to a real receiver on loopback: signed per Standard Webhooks (checked with the
`standardwebhooks` package), retried on the schedule, given up on, never crossing programmes,
and not held up by a receiver that hangs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from standardwebhooks import Webhook

from db.models import Event, WebhookDelivery, WebhookEndpoint
from domain.webhooks import DeliveryStatus, EndpointStatus
from services.webhooks import endpoints
from services.webhooks.worker import Deliverer
from tests.fixtures.receiver import receiver
from tests.fixtures.webhooks import (
    FakeClock,
    admin,
    configure,
    deliveries_of,
    make_endpoint,
    one_round,
    record_events,
    until_idle,
)


@pytest.fixture(autouse=True)
async def clean_endpoints() -> AsyncIterator[None]:
    """Each test's endpoints go with it, so no later test's deliverer calls them."""
    configure()
    yield
    await WebhookEndpoint.all().delete()


async def test_a_committed_event_reaches_the_receiver_signed(programme) -> None:
    with receiver() as rx:
        # given an endpoint and one event
        made = await make_endpoint(programme, rx.url)
        [event_id] = await record_events(programme, 1)
        # when a deliverer runs
        await until_idle(Deliverer(configure()))
        # then the receiver got it once, and the standard verifier accepts it
        assert rx.ids() == [event_id]
        got = rx.received[0]
        body = Webhook(made.secret).verify(got.body, got.headers)
        assert body["id"] == event_id
        assert body["type"] == "member.updated"
        assert body["programme"] == programme.code
        assert made.secret.startswith("whsec_")
        [delivery] = await deliveries_of(made.endpoint.id)
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
            DeliveryStatus.SUCCEEDED,
            1,
            200,
        )


async def test_a_rotated_secret_verifies_with_either_key_during_the_overlap(programme) -> None:
    with receiver() as rx:
        made = await make_endpoint(programme, rx.url)
        rotated = await endpoints.rotate_secret(
            admin(programme), made.endpoint.id, idempotency_key="rotate-1"
        )
        assert rotated.secret != made.secret
        await record_events(programme, 1)
        await until_idle(Deliverer(configure()))
        got = rx.received[0]
        # both the old and the new secret verify the same delivery
        Webhook(made.secret).verify(got.body, got.headers)
        Webhook(rotated.secret).verify(got.body, got.headers)
        assert len(got.headers["webhook-signature"].split(" ")) == 2
        # and a retry of the rotation answers the same secret instead of rotating again
        again = await endpoints.rotate_secret(
            admin(programme), made.endpoint.id, idempotency_key="rotate-1"
        )
        assert again.secret == rotated.secret


async def test_the_database_holds_no_secret_in_the_clear(programme) -> None:
    made = await make_endpoint(programme, "http://127.0.0.1:9/x")
    row = await WebhookEndpoint.get(id=made.endpoint.id)
    raw = made.secret.removeprefix("whsec_")
    assert raw not in row.secret_sealed and made.secret not in row.secret_sealed


async def test_500_three_times_then_200_is_four_attempts_on_the_schedule(programme) -> None:
    with receiver() as rx:
        rx.answers = [(500, b"no"), (500, b"no"), (500, b"no"), (200, b"ok")]
        made = await make_endpoint(programme, rx.url)
        await record_events(programme, 1)
        clock = FakeClock()
        deliverer = Deliverer(configure(), clock=clock)
        expected_gaps = [timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30)]
        # when the first attempt fails
        await one_round(deliverer)
        for attempt, gap in enumerate(expected_gaps, start=1):
            [row] = await deliveries_of(made.endpoint.id)
            assert (row.status, row.attempts, row.last_status_code) == ("pending", attempt, 500)
            # then the next attempt is due exactly one step of the schedule later
            assert row.next_attempt_at == clock.now + gap
            clock.advance(gap - timedelta(seconds=1))
            await one_round(deliverer)
            assert len(rx.received) == attempt  # not yet due
            clock.advance(timedelta(seconds=1))
            await one_round(deliverer)
        [row] = await deliveries_of(made.endpoint.id)
        assert (row.status, row.attempts, row.last_status_code) == ("succeeded", 4, 200)
        assert row.next_attempt_at is None
        assert len(rx.received) == 4
        assert len(set(rx.ids())) == 1  # the same webhook-id on every attempt


async def test_a_delivery_fails_for_good_after_the_last_attempt(programme) -> None:
    with receiver() as rx:
        rx.answers = [(503, b"down")]
        made = await make_endpoint(programme, rx.url)
        await record_events(programme, 1)
        short = (timedelta(0), timedelta(0), timedelta(0))
        await until_idle(Deliverer(configure(schedule=short)))
        [row] = await deliveries_of(made.endpoint.id)
        assert (row.status, row.attempts, row.last_response) == ("failed", 3, "down")
        assert len(rx.received) == 3


async def test_an_endpoint_failing_for_five_days_is_disabled_with_an_event(programme) -> None:
    with receiver() as rx:
        rx.answers = [(500, b"")]
        made = await make_endpoint(programme, rx.url)
        await record_events(programme, 2)
        clock = FakeClock()
        deliverer = Deliverer(configure(), clock=clock)
        await one_round(deliverer)  # the first failure starts the count
        endpoint = await WebhookEndpoint.get(id=made.endpoint.id)
        assert endpoint.failing_since == clock.now
        clock.advance(timedelta(days=5))
        await one_round(deliverer)
        endpoint = await WebhookEndpoint.get(id=made.endpoint.id)
        assert endpoint.status == EndpointStatus.DISABLED
        disabled = await Event.filter(
            programme_id=programme.id, type="webhook_endpoint.disabled"
        ).all()
        assert len(disabled) == 1
        assert disabled[0].payload["endpoint"]["id"] == made.endpoint.id
        # and nothing more is sent to it
        sent = len(rx.received)
        clock.advance(timedelta(days=1))
        await one_round(deliverer)
        assert len(rx.received) == sent


async def test_a_success_resets_the_failing_count(programme) -> None:
    with receiver() as rx:
        rx.answers = [(500, b""), (200, b"")]
        made = await make_endpoint(programme, rx.url)
        await record_events(programme, 1)
        await until_idle(Deliverer(configure(schedule=(timedelta(0), timedelta(0)))))
        endpoint = await WebhookEndpoint.get(id=made.endpoint.id)
        assert endpoint.failing_since is None


async def test_an_endpoint_gets_only_the_types_it_asked_for(programme) -> None:
    with receiver() as rx:
        await make_endpoint(programme, rx.url, event_types=["tier.changed"])
        await record_events(programme, 2, type="member.updated")
        [wanted] = await record_events(programme, 1, type="tier.changed")
        await until_idle(Deliverer(configure()))
        assert rx.ids() == [wanted]


async def test_programme_b_never_receives_programme_a_s_events(make_programme) -> None:
    a, b = await make_programme(), await make_programme()
    with receiver() as rx_a, receiver() as rx_b:
        await make_endpoint(a, rx_a.url)
        await make_endpoint(b, rx_b.url)
        a_ids = await record_events(a, 3)
        b_ids = await record_events(b, 2)
        await until_idle(Deliverer(configure()))
        assert sorted(rx_a.ids()) == sorted(a_ids)
        assert sorted(rx_b.ids()) == sorted(b_ids)
        assert {b.body for b in rx_b.received}.isdisjoint({a.body for a in rx_a.received})


async def test_a_hanging_receiver_does_not_stall_the_others(make_programme) -> None:
    slow_programme, fast_programme = await make_programme(), await make_programme()
    with receiver() as slow, receiver() as fast:
        slow.delay = 3.0  # longer than the timeout: it hangs as far as we care
        await make_endpoint(slow_programme, slow.url)
        await make_endpoint(fast_programme, fast.url)
        await record_events(slow_programme, 10)
        await record_events(fast_programme, 20)
        config = configure(timeout_seconds=2.0, per_endpoint=2, concurrency=8)
        stop = asyncio.Event()
        started = time.monotonic()
        running = asyncio.create_task(Deliverer(config).run(stop))
        while len(fast.received) < 20 and time.monotonic() - started < 10:
            await asyncio.sleep(0.05)
        took = time.monotonic() - started
        stop.set()
        await running
        # the fast receiver got all 20 within one slow answer's time, while the slow one
        # never had more than 2 requests at a time
        assert len(fast.received) == 20
        assert took < 2.0, took
        assert 1 <= len(slow.received) <= 4
        timed_out = await WebhookDelivery.filter(last_error__contains="no answer within")
        assert timed_out


async def test_production_refuses_a_receiver_on_a_private_address(programme) -> None:
    with receiver() as rx:
        made = await make_endpoint(programme, rx.url)  # created in development
        await record_events(programme, 1)
        # when a production deliverer sends it
        await one_round(Deliverer(configure(production=True)))
        # then nothing reached the loopback receiver
        assert rx.received == []
        [row] = await deliveries_of(made.endpoint.id)
        assert row.last_error is not None and "private" in row.last_error
        assert row.status == "pending"


async def test_redirects_are_not_followed_and_large_answers_are_cut(programme) -> None:
    with receiver() as rx:
        rx.answers = [(302, b"x" * 200_000)]
        rx.extra_headers = {"Location": rx.url + "/elsewhere"}
        made = await make_endpoint(programme, rx.url)
        await record_events(programme, 1)
        await one_round(Deliverer(configure()))
        assert [r.path for r in rx.received] == ["/hooks"]
        [row] = await deliveries_of(made.endpoint.id)
        assert row.last_status_code == 302 and row.status == "pending"
        assert len(row.last_response.encode()) == 1024
