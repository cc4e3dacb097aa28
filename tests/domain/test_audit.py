"""The audit trail's pure rules (issue 18.1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

from domain.audit import (
    MASK,
    MAX_SUMMARY_ITEMS,
    MIN_RETENTION_DAYS,
    is_audited,
    pack_targets,
    redact_input,
    retention_cutoff,
    unpack_targets,
)
from domain.auth import Principal, Role


def test_personal_and_secret_fields_are_masked_at_any_depth():
    given = {
        "input": {
            "externalId": "shop-1",
            "displayName": "Chen",
            "email": "c@example.com",
            "phone": "+86",
            "birthday": "02-29",
            "consent": {"marketing": True},
            "members": [{"memberExternalId": "a"}, {"memberExternalId": "b"}],
            "tierCode": "GOLD",
            "code": "20OFF",
            "amount": 5,
            "reason": "goodwill",
        }
    }
    kept = redact_input(given)["input"]
    for name in ("externalId", "displayName", "email", "phone", "birthday"):
        assert kept[name] == MASK, name
    assert kept["members"] == [{"memberExternalId": MASK}, {"memberExternalId": MASK}]
    assert (kept["tierCode"], kept["code"], kept["amount"], kept["reason"]) == (
        "GOLD",
        "20OFF",
        5,
        "goodwill",
    )
    assert kept["consent"] == {"marketing": True}
    assert redact_input({"token": None}) == {"token": None}


def test_long_lists_and_text_are_cut_and_unprintable_text_replaced():
    kept = redact_input({"skus": [str(n) for n in range(50)], "note2": "x" * 500})
    assert len(kept["skus"]) == MAX_SUMMARY_ITEMS + 1
    assert kept["skus"][-1] == {"omitted": 50 - MAX_SUMMARY_ITEMS}
    assert len(kept["note2"]) == 200
    assert redact_input({"sku": "a\x00b\ud800c\td"}) == {"sku": "a\ufffdb\ufffdc\td"}


def test_kept_text_is_plain_text_whether_printable_or_not():
    class Method(StrEnum):
        CARD = "CARD"

    kept = redact_input({"method": Method.CARD, "sku": "y" * 300, "reason": "a\nb" * 150})
    assert [type(value) for value in kept.values()] == [str, str, str]
    assert kept == {"method": "CARD", "sku": "y" * 200, "reason": ("a\nb" * 150)[:200]}


def test_targets_pack_so_one_id_is_found_by_a_like_and_read_back():
    packed = pack_targets(["TWVtYmVyOjE=", "TWVtYmVyOjE=", "", "T3JkZXI6Mg=="])
    assert packed == " TWVtYmVyOjE= T3JkZXI6Mg== "
    assert " T3JkZXI6Mg== " in packed
    assert unpack_targets(packed) == ["TWVtYmVyOjE=", "T3JkZXI6Mg=="]
    assert pack_targets([]) == " " and unpack_targets(" ") == []


def test_retention_is_never_under_the_triggers_year():
    now = datetime(2026, 12, 2, tzinfo=UTC)
    assert retention_cutoff(now, 730) == now - timedelta(days=730)
    assert retention_cutoff(now, 30) == now - timedelta(days=MIN_RETENTION_DAYS)


def test_staff_credentials_are_audited_member_tokens_are_not():
    assert is_audited(Principal(programme_id=1, role=Role.ADMIN, key_id=1))
    assert is_audited(Principal(programme_id=1, role=Role.STOREFRONT, key_id=2))
    assert not is_audited(Principal(programme_id=1, role=Role.MEMBER, member_id=3))
    assert not is_audited(None)
