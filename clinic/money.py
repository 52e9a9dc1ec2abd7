"""Every money and percentage rounding rule of the product, in one place.

Money is `Decimal` with two places, never float. Amounts are never negative.
Code elsewhere calls these functions instead of quantizing on its own, so that a
package's sessions, a commission and a budget bar all round the same way.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from clinic.errors import ValidationFailed

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
PERCENT_STEP = Decimal("0.1")

# Symbols for the currencies clinics use; any other ISO code is shown as is.
CURRENCY_SYMBOLS = {
    "BRL": "R$",
    "EUR": "€",
    "USD": "US$",
    "GBP": "£",
    "CHF": "CHF",
    "ARS": "AR$",
    "MXN": "MX$",
    "CLP": "CLP$",
    "COP": "COL$",
    "PEN": "S/",
    "UYU": "$U",
}


def money(value: Decimal | int | str, *, field: str = "amount") -> Decimal:
    """`value` as a non-negative amount with two places.

    More than two decimal places are refused rather than silently rounded: an
    amount is typed by a person and must be kept as typed.
    """
    try:
        amount = Decimal(value) if not isinstance(value, Decimal) else value
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationFailed(fields={field: [_("Enter an amount such as 120.00.")]}) from None
    if not amount.is_finite():
        raise ValidationFailed(fields={field: [_("Enter an amount such as 120.00.")]})
    if amount < 0:
        raise ValidationFailed(fields={field: [_("The amount cannot be negative.")]})
    if amount != amount.quantize(CENT, rounding=ROUND_DOWN):
        raise ValidationFailed(fields={field: [_("Use at most two decimal places.")]})
    return amount.quantize(CENT)


def _sessions(sessions: int, field: str) -> int:
    if not isinstance(sessions, int) or isinstance(sessions, bool) or sessions <= 0:
        raise ValidationFailed(
            _("The number of sessions must be at least 1: a price per session cannot be computed for zero sessions."),
            fields={field: [_("The number of sessions must be at least 1.")]},
        )
    return sessions


def session_prices(total: Decimal, sessions: int, *, field: str = "sessions") -> list[Decimal]:
    """The price of each session of a package (K9).

    Every session costs the total divided by the sessions, cut down to the cent,
    and the last one absorbs the remainder, so that the sessions add up exactly
    to the total: 1000.00 / 3 = 333.33 + 333.33 + 333.34.

    Cutting down (not rounding half up) keeps the last session's price at least
    the others' and never negative: 0.10 over 20 sessions rounded half up would
    be 0.01 each and leave the last at -0.09.
    """
    return split(total, sessions, field=field)


def split(total: Decimal, parts: int, *, field: str = "sessions") -> list[Decimal]:
    """`total` in `parts` that add up to it exactly, the last taking the
    remainder: a package's sessions (K9), a sale's installments (B4)."""
    regular = price_per_session(total, parts, field=field)
    return [regular] * (parts - 1) + [last_session_price(total, parts, field=field)]


def price_per_session(total: Decimal, sessions: int, *, field: str = "sessions") -> Decimal:
    """The price of every session but the last (which absorbs the remainder)."""
    total = money(total, field="price")
    count = _sessions(sessions, field)
    return total if count == 1 else (total / count).quantize(CENT, rounding=ROUND_DOWN)


def last_session_price(total: Decimal, sessions: int, *, field: str = "sessions") -> Decimal:
    total = money(total, field="price")
    count = _sessions(sessions, field)
    return total - price_per_session(total, count, field=field) * (count - 1)


def line_amount(quantity: int, unit_price: Decimal) -> Decimal:
    """The amount of an appointment line: quantity times unit price."""
    if quantity < 0:
        raise ValidationFailed(fields={"quantity": [_("The quantity cannot be negative.")]})
    return (money(unit_price, field="price") * quantity).quantize(CENT)


def commission(kind: str, value: Decimal, session_value: Decimal) -> Decimal:
    """A professional's commission for one session (S2, B5).

    `kind` is "percent" (of the session value, rounded half up to the cent),
    "fixed" (the amount itself) or "none".
    """
    if kind == "none":
        return ZERO
    value = money(value, field="commission_value")
    if kind == "fixed":
        return value
    if kind == "percent":
        return (money(session_value) * value / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
    raise ValueError(f"unknown commission kind {kind!r}")


def percent(part: Decimal | int, whole: Decimal | int) -> Decimal:
    """`part` as a percentage of `whole`, cut down to one decimal place.

    Cut down so that a budget bar shows 100 % only when the budget is really
    used up (99.96 % reads 99.9 %, not 100.0 %). A zero `whole` is a limit that
    nothing may use: 100 % as soon as it is reached.
    """
    part, whole = Decimal(part), Decimal(whole)
    if whole <= 0:
        return HUNDRED.quantize(PERCENT_STEP)
    return (part * HUNDRED / whole).quantize(PERCENT_STEP, rounding=ROUND_DOWN)


def currency_symbol(code: str) -> str:
    return CURRENCY_SYMBOLS.get(code.upper(), code.upper())


def excel_currency_format(code: str) -> str:
    """An Excel number format showing the currency symbol and two places."""
    symbol = currency_symbol(code).replace('"', "")
    return f'"{symbol}" #,##0.00;-"{symbol}" #,##0.00'


def average(total: Decimal, sessions: int) -> Decimal:
    """A package's average value per session, shown in its history (K9)."""
    if sessions <= 0:
        return ZERO
    return (Decimal(total) / sessions).quantize(CENT, rounding=ROUND_HALF_UP)


def next_session_value(amount_open: Decimal, sessions_remaining: int) -> Decimal:
    """What the next debited session is worth: the open amount shared over the
    sessions not yet used, cut down to the cent; the last session takes all
    that is open. Without manual changes this is K9's rule exactly
    (1000.00 / 3 = 333.33, 333.33, 333.34), and after a manual change of the
    total or the sessions the open amount still reaches exactly zero."""
    if sessions_remaining <= 0:
        raise ValueError("no session left to value")
    if sessions_remaining == 1:
        return amount_open
    return (amount_open / sessions_remaining).quantize(CENT, rounding=ROUND_DOWN)
