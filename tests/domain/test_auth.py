"""API key format and hashing, and what a Principal scopes idempotency keys by."""

from __future__ import annotations

import re

import pytest

from domain.auth import (
    Principal,
    Role,
    api_key_role,
    format_api_key,
    hash_api_key,
    key_display_prefix,
)


@pytest.mark.parametrize(
    ("role", "expected"),
    [(Role.ADMIN, "lk_admin_tok3n"), (Role.STOREFRONT, "lk_storefront_tok3n")],
)
def test_format_api_key_puts_the_kind_in_the_prefix(role, expected):
    # given
    token = "tok3n"
    # when
    secret = format_api_key(role, token)
    # then
    assert secret == expected


@pytest.mark.parametrize("role", [Role.ADMIN, Role.STOREFRONT])
def test_api_key_role_reads_back_the_role_of_a_formatted_key(role):
    # given a token that itself contains underscores
    secret = format_api_key(role, "a_b_c-9")
    # when
    parsed = api_key_role(secret)
    # then
    assert parsed is role


@pytest.mark.parametrize(
    "secret",
    [
        "lk_member_abc123",
        "",
        "lk",
        "lk_admin",
        "lk_admin_",
        "xx_admin_abc123",
        "LK_admin_abc123",
        "lk_ADMIN_abc123",
        "lk_root_abc123",
        "lk__abc123",
        "lkadminabc123",
        "Bearer lk_admin_abc123",
    ],
)
def test_api_key_role_rejects_member_role_and_garbage(secret):
    # given a string that is not an admin or storefront key
    # when
    role = api_key_role(secret)
    # then
    assert role is None


def test_hash_api_key_is_sha256_hex():
    # given the FIPS 180-2 test vector "abc"
    # when
    digest = hash_api_key("abc")
    # then
    assert digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_hash_api_key_is_deterministic_and_not_the_secret():
    # given
    secret = format_api_key(Role.ADMIN, "q" * 43)
    # when
    first, second = hash_api_key(secret), hash_api_key(secret)
    # then
    assert first == second
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert secret not in first
    assert "q" * 43 not in first


def test_different_keys_hash_differently():
    # given two keys one character apart
    # when
    one = hash_api_key("lk_admin_abcdef1")
    other = hash_api_key("lk_admin_abcdef2")
    # then
    assert one != other


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        ("lk_admin_abcdefghijklmnopqrstuvwxyz", "lk_admin_abcdefghijkl"),
        ("lk_storefront_0123456789abcdef0123", "lk_storefront_0123456789ab"),
    ],
)
def test_key_display_prefix_shows_the_kind_and_twelve_token_characters(secret, expected):
    # given a full key
    # when
    shown = key_display_prefix(secret)
    # then
    assert shown == expected
    assert shown != secret


def test_scope_of_a_key_and_of_a_member_differ_even_with_the_same_id():
    # given a key and a member that happen to share the number 7
    key = Principal(programme_id=1, role=Role.STOREFRONT, key_id=7)
    member = Principal(programme_id=1, role=Role.MEMBER, member_id=7)
    # when
    scopes = (key.scope, member.scope)
    # then
    assert scopes == ("key:7", "member:7")


def test_two_keys_have_different_scopes():
    # given
    admin = Principal(programme_id=1, role=Role.ADMIN, key_id=1)
    storefront = Principal(programme_id=1, role=Role.STOREFRONT, key_id=2)
    # when
    scopes = {admin.scope, storefront.scope}
    # then
    assert scopes == {"key:1", "key:2"}


def test_can_checks_the_role():
    # given
    member = Principal(programme_id=1, role=Role.MEMBER, member_id=3)
    # when
    allowed = (member.can(Role.MEMBER), member.can(Role.ADMIN, Role.STOREFRONT))
    # then
    assert allowed == (True, False)
