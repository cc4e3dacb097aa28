"""Idempotency key rules: the request fingerprint, key shape, and retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.errors import Collector
from domain.idempotency import check_key, prune_before, request_fingerprint


def test_fingerprint_ignores_key_order_at_every_depth():
    # given the same input written in two key orders
    one = {"externalId": "c-1", "profile": {"email": "a@example.com", "phone": "12345"}}
    other = {"profile": {"phone": "12345", "email": "a@example.com"}, "externalId": "c-1"}
    # when
    fingerprints = (
        request_fingerprint("registerMember", one),
        request_fingerprint("registerMember", other),
    )
    # then
    assert fingerprints[0] == fingerprints[1]


@pytest.mark.parametrize(
    "other",
    [
        {"externalId": "c-2"},
        {"externalId": "c-1", "displayName": "Ann"},
        {"externalId": ["c-1"]},
        {"externalid": "c-1"},
        {},
    ],
)
def test_fingerprint_differs_for_a_different_payload(other):
    # given
    payload = {"externalId": "c-1"}
    # when
    same, different = (
        request_fingerprint("registerMember", payload),
        request_fingerprint("registerMember", other),
    )
    # then
    assert same != different


@pytest.mark.parametrize(("one", "other"), [(1, "1"), (1, True), (0, None), (1, 1.5)])
def test_fingerprint_tells_value_types_apart(one, other):
    # given two payloads whose values print alike
    # when
    a, b = (
        request_fingerprint("awardPoints", {"points": one}),
        request_fingerprint("awardPoints", {"points": other}),
    )
    # then
    assert a != b


def test_fingerprint_differs_for_a_different_operation():
    # given
    payload = {"externalId": "c-1"}
    # when
    register, update = (
        request_fingerprint("registerMember", payload),
        request_fingerprint("updateMember", payload),
    )
    # then
    assert register != update


def test_fingerprint_is_a_sha256_hex_digest_and_deterministic():
    # given
    payload = {"points": 100, "at": datetime(2024, 1, 1, tzinfo=UTC)}
    # when
    first, second = (
        request_fingerprint("awardPoints", payload),
        request_fingerprint("awardPoints", payload),
    )
    # then
    assert first == second
    assert len(first) == 64
    assert int(first, 16) >= 0


@pytest.mark.parametrize("key", ["k", "order-2024-0001", "key with spaces", "ключ-1", "x" * 255])
def test_a_printable_key_up_to_the_limit_is_accepted(key):
    # given
    errors = Collector()
    # when
    check_key(errors, key)
    # then
    assert errors.errors == []


@pytest.mark.parametrize("key", ["", "x" * 256, "abc\n", "a\tb", "nul\x00", "\x1b[31mred"])
def test_an_empty_long_or_unprintable_key_is_rejected(key):
    # given
    errors = Collector()
    # when
    check_key(errors, key)
    # then
    assert [e.field for e in errors.errors] == ["idempotencyKey"]


def test_prune_before_is_exactly_24_hours_earlier():
    # given
    now = datetime(2024, 3, 10, 8, 15, 30, 123456, tzinfo=UTC)
    # when
    cutoff = prune_before(now)
    # then
    assert cutoff == datetime(2024, 3, 9, 8, 15, 30, 123456, tzinfo=UTC)
    assert now - cutoff == timedelta(hours=24)


def test_fingerprint_text_is_the_one_keys_were_stored_with():
    # given an input with what the canonical JSON escapes or prints by str()
    payload = {
        "orderId": "\u00f6-1",
        "at": datetime(2026, 12, 2, 10, 0, tzinfo=UTC),
        "amount": Decimal("1.50"),
        "lines": [{"b": 1, "a": [True, None, 2.5]}],
    }
    # when / then: sha256 of
    # ["recordOrder",{"amount":"1.50","at":"2026-12-02 10:00:00+00:00","lines":[{"a":[true,null,2.5],"b":1}],"orderId":"\u00f6-1"}]
    assert request_fingerprint("recordOrder", payload) == (
        "6bdc6a2142e960b3664863406d2d7d857df98001e2b9068e309778b4caad6aff"
    )
