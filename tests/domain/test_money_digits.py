"""Amounts are integers in the currency's minor unit, and not every currency has hundredths."""

from __future__ import annotations

import pytest

from domain.money import major, minor_digits


@pytest.mark.parametrize(
    ("currency", "amount", "written"),
    [
        ("CNY", 1_170_424, "11,704.24"),
        ("JPY", 1_170_424, "1,170,424"),
        ("KWD", 1_170_424, "1,170.424"),
        ("CLF", 12_345, "1.2345"),
    ],
)
def test_an_amount_is_written_with_its_currencys_digits(currency, amount, written):
    assert major(amount, currency) == written


def test_a_currency_not_listed_has_two_digits():
    assert minor_digits("EUR") == 2 and minor_digits("JPY") == 0
