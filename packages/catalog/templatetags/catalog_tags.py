"""Showing money and catalog facts in templates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format

from clinic import money as money_rules

register = template.Library()


@register.filter
def money(value: Decimal | None, currency: str = "BRL") -> str:
    """`1000` → "R$ 1.000,00" (grouping and decimal mark of the user's language)."""
    if value is None or value == "":
        return "—"
    amount = number_format(value, 2, use_l10n=True, force_grouping=True)
    return f"{money_rules.currency_symbol(currency or 'BRL')}\N{NO-BREAK SPACE}{amount}"


@register.filter
def percent(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"{number_format(value, 1, use_l10n=True)}\N{NO-BREAK SPACE}%"


@register.filter
def commission(template: Any) -> str:
    """A template's commission per session: "30,00 %" or "R$ 25,00"."""
    if template.commission_kind == "percent":
        return f"{number_format(template.commission_value, 2, use_l10n=True)}\N{NO-BREAK SPACE}%"
    if template.commission_kind == "fixed":
        return money(template.commission_value, template.clinic.currency)
    return "—"


@register.filter
def bar_width(percent: Decimal) -> str:
    """A bar segment's CSS width: the percentage, never more than the bar."""
    return str(min(max(percent, Decimal(0)), Decimal(100)))


@register.filter
def booked_width(limit: Any) -> str:
    """The booked segment's width: what is booked, in what the used part leaves of the bar."""
    used = min(max(limit.percent_used, Decimal(0)), Decimal(100))
    return str(min(max(limit.percent_booked, Decimal(0)), Decimal(100) - used))
