from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from clinic.models import Clinic


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones()) if "/" in name]


class ClinicForm(forms.Form):
    """Input for `clinic_create` / `clinic_update`; the service validates the rest."""

    name = forms.CharField(label=_("Name"), max_length=200)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=_time_zone_choices, initial="America/Sao_Paulo")
    currency = forms.CharField(
        label=_("Currency"), max_length=3, initial="BRL", help_text=_("Three-letter ISO code, e.g. BRL, EUR, USD.")
    )
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        initial="BR",
        help_text=_("Two-letter code (BR, PT, ES, DE...): phone numbers without a country code are read as local."),
    )
    language = forms.ChoiceField(
        label=_("Language of public pages"),
        choices=settings.LANGUAGES,
        initial="pt-br",
        help_text=_("The self-registration form opens in this language."),
    )
    is_central = forms.BooleanField(
        label=_("Central office"),
        required=False,
        help_text=_("The head office shares services and package templates with the other clinics."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def clean_country(self) -> str:
        return str(self.cleaned_data["country"]).upper()

    @classmethod
    def for_clinic(cls, clinic: Clinic, data: Any = None) -> ClinicForm:
        initial = {field: getattr(clinic, field) for field in cls.base_fields}
        return cls(data=data, initial=initial)
