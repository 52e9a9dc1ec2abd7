"""K9 and the other rounding rules of `clinic.money`."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic import money
from clinic.errors import ValidationFailed

D = Decimal


def test_session_prices_1000_over_3_last_absorbs_the_remainder() -> None:
    assert money.session_prices(D("1000.00"), 3) == [D("333.33"), D("333.33"), D("333.34")]
    assert money.price_per_session(D("1000.00"), 3) == D("333.33")
    assert money.last_session_price(D("1000.00"), 3) == D("333.34")


@pytest.mark.parametrize(
    ("total", "sessions", "regular", "last"),
    [
        ("1000.00", 1, "1000.00", "1000.00"),
        ("1000.00", 10, "100.00", "100.00"),
        ("800.00", 7, "114.28", "114.32"),
        ("2000.00", 3, "666.66", "666.68"),
        ("100.00", 3, "33.33", "33.34"),
        ("0.10", 20, "0.00", "0.10"),
        ("0.00", 5, "0.00", "0.00"),
        ("1.00", 3, "0.33", "0.34"),
        ("9999999999.99", 7, "1428571428.57", "1428571428.57"),
    ],
)
def test_session_prices(total: str, sessions: int, regular: str, last: str) -> None:
    prices = money.session_prices(D(total), sessions)
    assert len(prices) == sessions
    assert prices[:-1] == [D(regular)] * (sessions - 1)
    assert prices[-1] == D(last)
    assert sum(prices) == D(total)


@pytest.mark.parametrize("sessions", [0, -1, -10])
def test_zero_or_negative_sessions_is_a_clear_error_never_nan(sessions: int) -> None:
    with pytest.raises(ValidationFailed) as error:
        money.session_prices(D("1000.00"), sessions)
    assert error.value.code == "validation_error"
    assert error.value.detail == (
        "The number of sessions must be at least 1: a price per session cannot be computed for zero sessions."
    )
    assert error.value.fields == {"sessions": ["The number of sessions must be at least 1."]}
    with pytest.raises(ValidationFailed):
        money.price_per_session(D("1000.00"), sessions)


def test_the_error_names_the_field_it_is_about() -> None:
    with pytest.raises(ValidationFailed) as error:
        money.session_prices(D("10.00"), 0, field="items")
    assert list(error.value.fields) == ["items"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-0.01", "The amount cannot be negative."),
        ("1.005", "Use at most two decimal places."),
        ("NaN", "Enter an amount such as 120.00."),
        ("Infinity", "Enter an amount such as 120.00."),
        ("abc", "Enter an amount such as 120.00."),
    ],
)
def test_invalid_amounts_are_refused(value: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        money.money(value, field="price")
    assert error.value.fields == {"price": [message]}


def test_money_normalises_to_two_places() -> None:
    assert str(money.money(10)) == "10.00"
    assert str(money.money("7.5")) == "7.50"
    assert str(money.money(D("3"))) == "3.00"


def test_negative_total_is_refused_by_session_prices() -> None:
    with pytest.raises(ValidationFailed) as error:
        money.session_prices(D("-100.00"), 2)
    assert error.value.fields == {"price": ["The amount cannot be negative."]}


@given(
    total=st.decimals(min_value=0, max_value=D("9999999999.99"), places=2, allow_nan=False, allow_infinity=False),
    sessions=st.integers(min_value=1, max_value=1000),
)
def test_session_prices_always_add_up_and_never_go_negative(total: Decimal, sessions: int) -> None:
    prices = money.session_prices(total, sessions)
    assert sum(prices) == total
    assert all(price >= 0 for price in prices)
    assert all(price == prices[0] for price in prices[:-1])
    assert prices[-1] >= prices[0]
    assert prices[-1] - prices[0] < D("0.01") * sessions
    assert all(price == price.quantize(D("0.01")) for price in prices)


@pytest.mark.parametrize(
    ("kind", "value", "session", "expected"),
    [
        ("percent", "30.00", "333.33", "100.00"),  # 99.999 rounds half up
        ("percent", "12.50", "100.00", "12.50"),
        ("percent", "33.33", "10.01", "3.34"),  # 3.336333 → 3.34
        ("percent", "0.00", "100.00", "0.00"),
        ("fixed", "25.00", "333.33", "25.00"),
        ("none", "0.00", "333.33", "0.00"),
    ],
)
def test_commission(kind: str, value: str, session: str, expected: str) -> None:
    assert money.commission(kind, D(value), D(session)) == D(expected)


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(0, 10, "0.0"), (7, 10, "70.0"), (2, 3, "66.6"), ("999.6", "1000", "99.9"), (10, 10, "100.0"), (12, 10, "120.0")],
)
def test_percent_is_cut_down_so_a_bar_shows_100_only_when_full(part, whole, expected: str) -> None:
    assert money.percent(D(part), D(whole)) == D(expected)


def test_line_amount() -> None:
    assert money.line_amount(3, D("33.33")) == D("99.99")
    assert money.line_amount(0, D("33.33")) == D("0.00")


def test_currency_formats() -> None:
    assert money.currency_symbol("BRL") == "R$"
    assert money.currency_symbol("eur") == "€"
    assert money.currency_symbol("JPY") == "JPY"
    assert money.excel_currency_format("BRL") == '"R$" #,##0.00;-"R$" #,##0.00'
