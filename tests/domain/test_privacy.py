"""Erasure's pure rules (issue 18.3)."""

from __future__ import annotations

from domain.privacy import erased_payload, is_pseudonym, pseudonym, scrubbed


def test_a_payload_loses_every_old_value_wherever_it_sits():
    old = {"shop-42": "erased-ab", "Chen Jing": ""}
    payload = {
        "version": 1,
        "member": {"externalId": "shop-42", "displayName": "Chen Jing"},
        "referral": {"inviter": "shop-42", "invitees": ["shop-42", "shop-7"]},
        "points": 10,
        "reason": "shop-42 said so",  # free text is not matched in part
    }
    assert scrubbed(payload, old) == {
        "version": 1,
        "member": {"externalId": "erased-ab", "displayName": ""},
        "referral": {"inviter": "erased-ab", "invitees": ["erased-ab", "shop-7"]},
        "points": 10,
        "reason": "shop-42 said so",
    }


def test_pseudonyms_are_recognisable_and_the_event_names_nobody():
    name = pseudonym("0123456789abcdef0123")
    assert is_pseudonym(name) and not is_pseudonym("shop-42")
    assert erased_payload(pseudonym=name, forfeited=120) == {
        "version": 1,
        "member": {"externalId": name},
        "forfeitedPoints": 120,
    }
