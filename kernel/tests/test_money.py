"""Amounts are read strictly: what Python's Decimal would take is not always an amount."""

from decimal import Decimal

import pytest

from kernel.money import parse_money, parse_money_typed


@pytest.mark.parametrize(
    ("text", "amount"),
    [("45.10", "45.10"), ("45.1", "45.10"), ("45", "45.00"), ("1,234.50", "1234.50"), (".50", "0.50")],
)
def test_file_amounts_as_the_formats_write_them(text, amount):
    assert parse_money(text) == Decimal(amount)


@pytest.mark.parametrize(
    "text", ["1_0", "1e3", "NaN", "Infinity", "-5", "1,23", "12.345", "", "  ", "$5", "5 0"]
)
def test_what_decimal_would_take_but_is_no_amount_is_refused(text):
    assert parse_money(text) is None


@pytest.mark.parametrize(
    ("text", "language", "amount"),
    [
        ("2,00", "es", "2.00"),
        ("$2,500.00", "es", "2500.00"),
        ("2.500,00", "es", "2500.00"),
        ("1.234,50", "es", "1234.50"),
        ("$ 12,5", "es", "12.50"),
        ("2.50", "es", "2.50"),  # cents after a dot, as printed on the bill
        ("2.500", "es", "2500.00"),
        ("$1,234.50", "en", "1234.50"),
        (" 3 ", "en", "3.00"),
    ],
)
def test_typed_amounts_are_read_in_the_persons_language(text, language, amount):
    assert parse_money_typed(text, language=language) == Decimal(amount)


@pytest.mark.parametrize(
    ("text", "language"), [("1_0", "es"), ("1_0", "en"), ("2,005", "es"), ("2,00", "en"), ("1e2", "en")]
)
def test_typed_amounts_that_are_ambiguous_or_not_amounts_are_refused(text, language):
    assert parse_money_typed(text, language=language) is None


def test_an_amount_too_large_to_keep_is_not_an_amount():
    from kernel.money import parse_money, parse_money_typed

    assert parse_money("9999999999.99") == Decimal("9999999999.99")
    assert parse_money("10000000000") is None
    assert parse_money_typed("$99,999,999,999.00") is None
    assert parse_money_typed("10.000.000.000,00", language="es") is None
