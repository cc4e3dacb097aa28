"""Member profile rules, without a database."""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import Collector, ErrorCode, ValidationFailed
from domain.members import Birthday, check_external_id, parse_birthday, validate_profile


def profile(**overrides: Any) -> dict[str, Any]:
    """A valid profile; each test overrides only the field it is about."""
    fields: dict[str, Any] = {
        "display_name": "Ann Lee",
        "email": "ann@example.com",
        "phone": "+86 138 0000 0000",
        "birthday": "07-14",
    }
    return {**fields, **overrides}


def fields_of(errors: Collector) -> list[str | None]:
    return [e.field for e in errors.errors]


def test_a_valid_profile_reports_nothing():
    # given
    errors = Collector()
    # when
    changes = validate_profile(**profile(), errors=errors)
    # then
    assert errors.errors == []
    assert changes.display_name == "Ann Lee"
    assert changes.phone == "+86 138 0000 0000"
    assert changes.birthday == Birthday(7, 14)


@pytest.mark.parametrize("display_name", ["", "   ", "x" * 10_000, "x" * 101])
def test_display_name_out_of_range_is_rejected(display_name):
    # given
    errors = Collector()
    # when
    validate_profile(**profile(display_name=display_name), errors=errors)
    # then
    assert fields_of(errors) == ["displayName"]
    assert errors.errors[0].code is ErrorCode.VALIDATION


def test_display_name_is_trimmed_and_100_characters_is_accepted():
    # given
    errors = Collector()
    name = "x" * 100
    # when
    changes = validate_profile(**profile(display_name=f"  {name}  "), errors=errors)
    # then
    assert errors.errors == []
    assert changes.display_name == name


@pytest.mark.parametrize(
    "email",
    [
        "",
        "ann",
        "ann@",
        "@example.com",
        "ann@example",
        "ann@@example.com",
        "ann lee@example.com",
        "ann@exa mple.com",
        "ann@-example.com",
        "ann@example-.com",
        "ann@example..com",
        "ann@.example.com",
        "ann@example.com.",
        "a" * 65 + "@example.com",
        "ann@" + "a" * 250 + ".com",
    ],
)
def test_invalid_email_is_rejected_on_email(email):
    # given
    errors = Collector()
    # when
    validate_profile(**profile(email=email), errors=errors)
    # then
    assert fields_of(errors) == ["email"]


def test_valid_email_is_trimmed_and_lower_cased():
    # given
    errors = Collector()
    # when
    changes = validate_profile(**profile(email="  Ann.Lee+Shop@Example.COM "), errors=errors)
    # then
    assert errors.errors == []
    assert changes.email == "ann.lee+shop@example.com"


@pytest.mark.parametrize(
    "birthday", ["02-30", "13-01", "2-3", "00-10", "04-31", "01-00", "", "0229"]
)
def test_impossible_or_misshapen_birthday_is_rejected(birthday):
    # given
    errors = Collector()
    # when
    changes = validate_profile(**profile(birthday=birthday), errors=errors)
    # then
    assert fields_of(errors) == ["birthday"]
    assert changes.birthday is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("02-29", Birthday(2, 29)), ("12-31", Birthday(12, 31)), ("01-01", Birthday(1, 1))],
)
def test_real_month_and_day_is_accepted(text, expected):
    # given
    errors = Collector()
    # when
    changes = validate_profile(**profile(birthday=text), errors=errors)
    # then
    assert errors.errors == []
    assert changes.birthday == expected
    assert str(changes.birthday) == text


@pytest.mark.parametrize("text", ["02-30", "13-01", "2-3", "00-10", "12-32", "1231"])
def test_parse_birthday_returns_none_for_bad_input(text):
    # given a string that is not a real MM-DD
    # when
    parsed = parse_birthday(text)
    # then
    assert parsed is None


@pytest.mark.parametrize(
    "phone", ["+86 138 0000 0000", "138-0000-0000", "13800000000", "12345", " 0123 456789 "]
)
def test_phone_shapes_that_are_accepted(phone):
    # given
    errors = Collector()
    # when
    changes = validate_profile(**profile(phone=phone), errors=errors)
    # then
    assert errors.errors == []
    assert changes.phone == phone.strip()


@pytest.mark.parametrize(
    "phone",
    [
        "",
        "1234",
        "+",
        "++86 138 0000 0000",
        "phone",
        "138 0000 000x",
        "(010) 1234 5678",
        "1" * 21,
        "-1380000000",
    ],
)
def test_phone_shapes_that_are_rejected(phone):
    # given
    errors = Collector()
    # when
    validate_profile(**profile(phone=phone), errors=errors)
    # then
    assert fields_of(errors) == ["phone"]


def test_fields_not_given_are_not_checked():
    # given
    errors = Collector()
    # when
    changes = validate_profile(
        display_name=None, email=None, phone=None, birthday=None, errors=errors
    )
    # then
    assert errors.errors == []
    assert (changes.display_name, changes.email, changes.phone, changes.birthday) == (
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize("external_id", ["C1", "cust-42", "shop:cust_1.a@b", "a" * 128])
def test_external_id_that_is_accepted(external_id):
    # given
    errors = Collector()
    # when
    check_external_id(errors, external_id)
    # then
    assert errors.errors == []


@pytest.mark.parametrize(
    "external_id",
    [
        "",
        "cust 42",
        " cust-42",
        "cust-42 ",
        "a" * 129,
        "-cust",
        "_cust",
        "cust/42",
        "cust#1",
        "cust-42\n",
    ],
)
def test_external_id_that_is_rejected(external_id):
    # given
    errors = Collector()
    # when
    check_external_id(errors, external_id)
    # then
    assert fields_of(errors) == ["externalId"]
    assert errors.errors[0].code is ErrorCode.VALIDATION


def test_every_bad_field_is_reported_at_once():
    # given
    errors = Collector()
    # when
    check_external_id(errors, "bad id")
    validate_profile(
        display_name="", email="not-an-email", phone="abc", birthday="02-30", errors=errors
    )
    with pytest.raises(ValidationFailed) as raised:
        errors.raise_if_any()
    # then
    failure = raised.value
    assert [e.field for e in failure.errors] == [
        "externalId",
        "displayName",
        "email",
        "phone",
        "birthday",
    ]
    assert {e.code for e in failure.errors} == {ErrorCode.VALIDATION}
    assert failure.code is ErrorCode.VALIDATION


def test_a_collector_prefix_names_the_nested_field():
    # given
    errors = Collector("members.2.")
    # when
    validate_profile(**profile(email="nope"), errors=errors)
    # then
    assert fields_of(errors) == ["members.2.email"]


def test_a_clean_collector_does_not_raise():
    # given
    errors = Collector()
    validate_profile(**profile(), errors=errors)
    # when
    errors.raise_if_any()
    # then
    assert errors.errors == []
