"""Webhook rules without a database: signatures (checked by the `standardwebhooks` package),
the retry schedule, giving up, and which URLs and addresses an endpoint may use."""

from __future__ import annotations

import ipaddress
import time
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from domain.errors import Collector
from domain.webhooks import (
    RETRY_SCHEDULE,
    ROTATION_OVERLAP,
    Attempt,
    check_event_types,
    check_url,
    delay_before_attempt,
    format_secret,
    is_forbidden_address,
    response_excerpt,
    should_disable,
    sign,
    signature_header,
    signing_secrets,
    wants,
)

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
OLD = format_secret(b"o" * 32)
NEW = format_secret(b"n" * 32)


def headers(secrets: list[str], body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(stamp),
        "webhook-signature": signature_header(
            secrets, message_id="evt_1", timestamp=stamp, body=body
        ),
    }


def test_a_signature_verifies_with_the_standard_library() -> None:
    body = b'{"type":"points.earned","data":{"points":120}}'
    assert Webhook(NEW).verify(body, headers([NEW], body)) == {
        "type": "points.earned",
        "data": {"points": 120},
    }


def test_a_changed_body_or_other_secret_fails_verification() -> None:
    body = b'{"points":120}'
    with pytest.raises(WebhookVerificationError):
        Webhook(NEW).verify(b'{"points":121}', headers([NEW], body))
    with pytest.raises(WebhookVerificationError):
        Webhook(OLD).verify(body, headers([NEW], body))


def test_during_a_rotation_both_secrets_sign_and_either_verifies() -> None:
    body = b"{}"
    rotated_at = NOW
    secrets = signing_secrets(NEW, OLD, rotated_at + ROTATION_OVERLAP, NOW + timedelta(hours=23))
    sent = headers(secrets, body)
    assert len(sent["webhook-signature"].split(" ")) == 2
    Webhook(OLD).verify(body, sent)
    Webhook(NEW).verify(body, sent)


def test_after_the_overlap_only_the_new_secret_signs() -> None:
    until = NOW + ROTATION_OVERLAP
    assert signing_secrets(NEW, OLD, until, until) == [NEW]
    assert signing_secrets(NEW, OLD, until, until - timedelta(seconds=1)) == [NEW, OLD]
    assert signing_secrets(NEW, None, None, NOW) == [NEW]


def test_the_signature_is_of_id_timestamp_and_body() -> None:
    body = b"{}"
    one = sign(NEW, message_id="a", timestamp=1, body=body)
    assert one.startswith("v1,")
    assert one != sign(NEW, message_id="b", timestamp=1, body=body)
    assert one != sign(NEW, message_id="a", timestamp=2, body=body)


def test_the_retry_schedule_is_svix_s() -> None:
    seconds = [delay_before_attempt(n).total_seconds() for n in range(1, 9)]  # type: ignore[union-attr]
    assert seconds == [0, 5, 300, 1800, 7200, 18000, 36000, 36000]
    assert delay_before_attempt(9) is None
    assert delay_before_attempt(0) is None
    assert len(RETRY_SCHEDULE) == 8
    short = (timedelta(0), timedelta(seconds=1))
    assert delay_before_attempt(2, short) == timedelta(seconds=1)
    assert delay_before_attempt(3, short) is None


def test_an_endpoint_is_disabled_after_five_days_of_failing() -> None:
    assert not should_disable(None, NOW)
    assert not should_disable(NOW - timedelta(days=5) + timedelta(seconds=1), NOW)
    assert should_disable(NOW - timedelta(days=5), NOW)


def test_only_a_2xx_without_error_succeeds() -> None:
    assert Attempt(200, 1, "").succeeded
    assert Attempt(299, 1, "").succeeded
    assert not Attempt(300, 1, "").succeeded
    assert not Attempt(199, 1, "").succeeded
    assert not Attempt(None, 1, "", error="timeout").succeeded
    assert not Attempt(200, 1, "", error="response too large").succeeded


def test_the_response_excerpt_is_at_most_one_kilobyte() -> None:
    assert len(response_excerpt(b"x" * 5000).encode()) == 1024
    assert response_excerpt("é".encode() * 600).encode() == "é".encode() * 512


def test_no_types_means_every_event() -> None:
    assert wants([], "points.earned")
    assert wants(["points.earned"], "points.earned")
    assert not wants(["tier.changed"], "points.earned")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared (CGNAT)
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fd00:ec2::254",  # AWS metadata over IPv6
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
    ],
)
def test_private_and_metadata_addresses_are_forbidden(address: str) -> None:
    assert is_forbidden_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert not is_forbidden_address(ipaddress.ip_address(address))


def url_errors(url: str, *, production: bool) -> list[str]:
    errors = Collector()
    check_url(errors, url, production=production)
    return [e.message for e in errors.errors]


def test_production_needs_https() -> None:
    assert url_errors("https://shop.example/hooks", production=True) == []
    assert url_errors("http://shop.example/hooks", production=True) == ["must be https"]
    assert url_errors("http://127.0.0.1:9000/hooks", production=False) == []


@pytest.mark.parametrize(
    "url",
    ["", "ftp://x.example", "https://", "https://u:p@x.example", "https://x.example:99999", "x"],
)
def test_malformed_urls_are_refused(url: str) -> None:
    assert url_errors(url, production=False)


def test_a_literal_private_address_is_refused_in_production_only() -> None:
    assert url_errors("https://169.254.169.254/latest", production=True)
    assert url_errors("https://169.254.169.254/latest", production=False) == []


def test_event_types_must_be_known_and_distinct() -> None:
    known = frozenset({"points.earned", "tier.changed"})
    errors = Collector()
    check_event_types(errors, ["points.earned", "tier.changed"], known)
    assert errors.errors == []
    check_event_types(errors, ["nope.nope", "points.earned", "points.earned"], known)
    assert [e.message for e in errors.errors] == [
        "unknown event types: 'nope.nope'",
        "each type once",
    ]
