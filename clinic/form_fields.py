"""Form fields every app shares.

`money_field` is the one way a form asks for an amount: shown in the reader's
locale ("1.200,50" in Portuguese and German, "1,200.50" in English), typed
with or without digit grouping, with a numeric keyboard on phones.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.formats import get_format


class MoneyField(forms.DecimalField):
    """A localized amount that also accepts the language's digit grouping:
    "1.000,50" in Portuguese, "1,000.50" in English."""

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if isinstance(value, str):
            value = value.strip().replace("\N{NO-BREAK SPACE}", "").replace(" ", "")
            thousands = re.escape(get_format("THOUSAND_SEPARATOR"))
            decimals = re.escape(get_format("DECIMAL_SEPARATOR"))
            if re.fullmatch(rf"\d{{1,3}}({thousands}\d{{3}})+({decimals}\d*)?", value):
                value = value.replace(get_format("THOUSAND_SEPARATOR"), "")
        return super().to_python(value)


def money_field(label: Any, *, required: bool = True, minimum: str | None = "0", **kwargs: Any) -> MoneyField:
    return MoneyField(
        label=label,
        required=required,
        max_digits=12,
        decimal_places=2,
        min_value=None if minimum is None else Decimal(minimum),
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        **kwargs,
    )
