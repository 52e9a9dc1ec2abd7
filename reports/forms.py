"""The general package report's filters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from clinic.models import Clinic, Professional
from packages.catalog import selectors as catalog
from packages.catalog.models import PackageTemplate
from packages.patient_packages.models import PackageStatus
from reports.selectors import SORTS, PackageFilters


class PackageReportForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *PackageStatus.choices])
    start = forms.DateField(label=_("Linked from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Linked until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    clinic: forms.ModelChoiceField[Clinic] = forms.ModelChoiceField(
        label=_("Clinic"), queryset=Clinic.objects.none(), required=False, empty_label=_("All clinics")
    )
    professional: forms.ModelChoiceField[Professional] = forms.ModelChoiceField(
        label=_("Professional"), queryset=Professional.objects.none(), required=False,
        empty_label=_("All professionals"),
    )  # fmt: skip
    template: forms.ModelChoiceField[PackageTemplate] = forms.ModelChoiceField(
        label=_("Template"), queryset=PackageTemplate.objects.none(), required=False, empty_label=_("All templates")
    )
    patient = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    sort = forms.ChoiceField(
        required=False, widget=forms.HiddenInput,
        choices=[(key, key) for key in SORTS] + [(f"-{key}", key) for key in SORTS],
    )  # fmt: skip

    def __init__(self, *args: Any, clinics: QuerySet[Clinic], professionals: QuerySet[Professional],
                 templates: QuerySet[PackageTemplate], **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics  # type: ignore[attr-defined]
        self.fields["professional"].queryset = professionals  # type: ignore[attr-defined]
        self.fields["template"].queryset = templates  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The end must be after the start."))
        return data

    def filters(self, *, time_zone: str) -> PackageFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return PackageFilters(
            status=data.get("status") or "",
            start=data.get("start"),
            end=data.get("end"),
            clinic=data["clinic"].pk if data.get("clinic") else None,
            professional=data["professional"].pk if data.get("professional") else None,
            patient=data.get("patient"),
            template=data["template"].pk if data.get("template") else None,
            sort=data.get("sort") or "-linked",
            time_zone=time_zone,
        )

    def described(self) -> str:
        """The filters in words, for the export's title row."""
        if not self.is_valid():
            return ""
        parts = []
        for name in ("status", "start", "end", "clinic", "professional", "template"):
            value = self.cleaned_data.get(name)
            if value:
                field = self.fields[name]
                if name == "status":
                    shown = dict(field.choices).get(value, value)  # type: ignore[attr-defined]
                elif isinstance(value, dt.date):
                    shown = date_format(value, "SHORT_DATE_FORMAT")
                else:
                    shown = value
                parts.append(f"{field.label}: {shown}")
        return "; ".join(str(part) for part in parts)


def package_report_form(data: Any, clinic: Clinic) -> PackageReportForm:
    """The report's filters bound to a query, with the choices `clinic` sees."""
    return PackageReportForm(
        data,
        clinics=Clinic.objects.filter(is_active=True).order_by("-is_central", "name"),
        professionals=organization_professionals(clinic),
        templates=catalog.visible_templates(clinic=clinic).order_by("name"),
    )


def organization_professionals(clinic: Clinic) -> QuerySet[Professional]:
    return Professional.objects.filter(clinic__organization_id=clinic.organization_id).order_by("name")


class SalesForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    free_at_most = forms.IntegerField(
        label=_("Call when at most this many sessions are free"), min_value=0, max_value=50, required=False,
        initial=2,
    )  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The end must be after the start."))
        return data
