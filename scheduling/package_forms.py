"""Forms of the package pages that book sessions: the dates picked while
linking a package (K2)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clinic.models import Clinic, Professional
from scheduling.recurrence import LinkRow


class SessionDateForm(forms.Form):
    """One picked date of a package link: the session's day, time, professional
    and status (K2). Rows without a date are ignored."""

    date = forms.DateField(label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(label=_("Time"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    professional: forms.ModelChoiceField[Professional] = forms.ModelChoiceField(
        label=_("Professional"), queryset=Professional.objects.none(), required=False
    )
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args: Any, clinic: Clinic, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["professional"].queryset = Professional.objects.filter(  # type: ignore[attr-defined]
            clinic=clinic, is_active=True
        ).order_by("name")
        self.fields["status"].choices = [  # type: ignore[attr-defined]
            ("scheduled", pgettext_lazy("appointment", "Scheduled")),
            ("confirmed", pgettext_lazy("appointment", "Confirmed")),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date") and not data.get("time"):
            self.add_error("time", _("Choose the time."))
        return data


SessionDateFormSet = forms.formset_factory(SessionDateForm, extra=0, max_num=200, validate_max=True)


def session_dates_formset(data: Any, *, clinic: Clinic) -> Any:
    return SessionDateFormSet(data, prefix="dates", form_kwargs={"clinic": clinic})


def link_rows(formset: Any, clinic: Clinic) -> list[LinkRow]:
    """The formset's filled rows as `LinkRow`s, in the clinic's time zone."""
    tz = ZoneInfo(clinic.time_zone)
    return [
        LinkRow(
            start=dt.datetime.combine(row["date"], row["time"], tzinfo=tz),
            professional=row.get("professional"),
            status=row.get("status") or "scheduled",
        )
        for row in formset.cleaned_data
        if row.get("date")
    ]
