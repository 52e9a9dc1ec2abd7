"""Forms of the calendar: the booking / edit modal with its service lines and
its "repeat" section, the drag-and-drop move, the evolution note and the
custom statuses of the settings page.

They only parse input; the services decide (double booking, budget, package).
Date-times are read in the current time zone, which the views set to the
clinic's (`timezone.override`), so "09:00" means 09:00 at the clinic.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import QuerySet
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from clinic.form_fields import money_field
from clinic.models import Clinic, Professional, Room, Weekday
from clinic.selectors import professionals_for_clinic, rooms_for_clinic
from clinic.service_forms import ServiceCheckedForm, ServiceModelForm
from packages.catalog import selectors as catalog
from packages.catalog.models import Service
from packages.patient_packages.models import PackageStatus, PatientPackage
from patients.models import Patient
from patients.services import patient_check
from scheduling.models import AppointmentStatus
from scheduling.recurrence import MAX_OCCURRENCES, Recurrence
from scheduling.services import MAX_QUANTITY, LineInput

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

DATETIME_INPUT = "%Y-%m-%dT%H:%M"
DATETIME_FORMATS = [DATETIME_INPUT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


def _datetime_field(label: StrOrPromise, *, required: bool) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 300}, format=DATETIME_INPUT),
    )


class ServiceSelect(forms.Select):
    """A select of services whose options carry their price and duration, so
    the row's price can default to the service's without a request."""

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        service = getattr(value, "instance", None)
        if isinstance(service, Service):
            # In the reader's locale, as the price input shows it ("120,00").
            option["attrs"]["data-price"] = formats.localize_input(service.price)
            option["attrs"]["data-duration"] = service.duration_minutes
        return option


class LineForm(forms.Form):
    service: forms.ModelChoiceField[Service] = forms.ModelChoiceField(
        label=_("Service"), queryset=Service.objects.none(), widget=ServiceSelect
    )
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY, initial=1)
    price = money_field(_("Unit price"), required=False)

    def __init__(self, *args: Any, services: QuerySet[Service], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services  # type: ignore[attr-defined]


class BaseLineFormSet(forms.BaseFormSet):
    def line_inputs(self) -> list[LineInput]:
        """The valid, not removed lines (call after `is_valid`)."""
        return [
            LineInput(form.cleaned_data["service"], form.cleaned_data["quantity"], form.cleaned_data.get("price"))
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("service")
        ]

    def partial_lines(self) -> list[LineInput]:
        """The lines typed so far that parse, even while the form as a whole is
        incomplete: what the live budget bar shows."""
        lines = []
        for form in self.forms:
            if form.is_valid() and form.cleaned_data.get("service") and not form.cleaned_data.get("DELETE"):
                data = form.cleaned_data
                lines.append(LineInput(data["service"], data["quantity"], data.get("price")))
        return lines


LineFormSet = forms.formset_factory(
    LineForm, formset=BaseLineFormSet, extra=0, min_num=1, validate_min=True, can_delete=True, max_num=20
)
LINES_PREFIX = "lines"


def line_formset(clinic: Clinic, data: Any = None, initial: list[dict[str, Any]] | None = None) -> BaseLineFormSet:
    services = catalog.visible_services(clinic=clinic).filter(is_active=True).order_by("name", "pk")
    keep = {line["service"].pk for line in initial or [] if line.get("service")}
    if keep:
        services = catalog.service_choices(clinic=clinic, keep=keep)
    formset = LineFormSet(data, initial=initial, prefix=LINES_PREFIX, form_kwargs={"services": services})
    assert isinstance(formset, BaseLineFormSet)
    return formset


def bookable_patients() -> QuerySet[Patient]:
    """The patients a new booking may be for: the organization's active ones
    (the tenant scope limits them to the request's organization)."""
    return Patient.objects.filter(is_active=True).order_by("name_search", "pk")


def status_choices() -> list[tuple[str, str]]:
    """Active statuses in the legend's order, built-ins in the reader's language."""
    statuses = AppointmentStatus.objects.filter(is_active=True).order_by("position", "name")
    return [(status.code, status.display_name) for status in statuses]


class AppointmentForm(forms.Form):
    """The booking modal; with `appointment` it edits one (no patient, no
    status — status buttons run the transition —, no repeat).

    The patient is a hidden input filled by the modal's search-as-you-type
    picker (`patient_search`): a clinic may have thousands of patients, too
    many for a select. The field still validates against the scoped queryset,
    so another organization's id or an archived patient is an invalid choice."""

    patient: forms.ModelChoiceField[Patient] = forms.ModelChoiceField(
        label=_("Patient"), queryset=Patient.objects.none(), widget=forms.HiddenInput
    )
    professional: forms.ModelChoiceField[Professional] = forms.ModelChoiceField(
        label=_("Professional"), queryset=Professional.objects.none(), required=False
    )
    room: forms.ModelChoiceField[Room] = forms.ModelChoiceField(
        label=_("Room"), queryset=Room.objects.none(), required=False
    )
    start = _datetime_field(_("Start"), required=True)
    end = _datetime_field(_("End"), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=())
    patient_package: forms.ModelChoiceField[PatientPackage] = forms.ModelChoiceField(
        label=_("Package"), queryset=PatientPackage.objects.none(), required=False, widget=forms.RadioSelect
    )
    authorization = forms.CharField(label=_("Insurer authorization"), max_length=100, required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    repeat = forms.BooleanField(label=_("Repeat"), required=False)
    interval = forms.IntegerField(label=_("Every … weeks"), min_value=1, max_value=52, initial=1, required=False)
    weekdays = forms.TypedMultipleChoiceField(
        label=_("On"), choices=Weekday.choices, coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    until = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    count = forms.IntegerField(label=_("Sessions"), min_value=1, max_value=MAX_OCCURRENCES, required=False)
    following = forms.BooleanField(
        label=_("Also change the following sessions of the series (time, professional, room)"), required=False
    )
    # Booked as attended (a debiting status) ahead of time: asked first (`services.is_future_debit`).
    confirm_future = forms.BooleanField(required=False)

    def __init__(self, *args: Any, clinic: Clinic, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.editing = editing
        self.fields["professional"].queryset = professionals_for_clinic(clinic)  # type: ignore[attr-defined]
        self.fields["room"].queryset = rooms_for_clinic(clinic)  # type: ignore[attr-defined]
        self.fields["patient_package"].queryset = PatientPackage.objects.filter(  # type: ignore[attr-defined]
            status=PackageStatus.ACTIVE, deleted_at__isnull=True
        )
        self.fields["end"].help_text = _("Empty: from the services' durations.")
        if editing:
            for name in ("patient", "status", "repeat", "interval", "weekdays", "until", "count", "confirm_future"):
                del self.fields[name]
        else:
            del self.fields["following"]
            self.fields["patient"].queryset = bookable_patients()  # type: ignore[attr-defined]
            self.fields["status"].choices = status_choices()  # type: ignore[attr-defined]
            if not self.is_bound and self.initial.get("patient") is not None and self.chosen_patient is None:
                # A preselected id that is not a valid choice (archived, another
                # organization's) is dropped rather than kept in the hidden input.
                self.initial = {name: value for name, value in self.initial.items() if name != "patient"}

    @functools.cached_property
    def chosen_patient(self) -> Patient | None:
        """The patient the picker shows as chosen: the posted or preselected
        one, while it is a valid choice."""
        if "patient" not in self.fields:
            return None
        cleaned = getattr(self, "cleaned_data", {}).get("patient")
        if isinstance(cleaned, Patient):
            return cleaned
        value = self.data.get(self.add_prefix("patient")) if self.is_bound else self.initial.get("patient")
        if isinstance(value, Patient):
            value = value.pk
        if not str(value or "").isdigit():
            return None
        queryset: QuerySet[Patient] = self.fields["patient"].queryset  # type: ignore[attr-defined]
        return queryset.filter(pk=int(str(value))).first()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("repeat") and not data.get("until") and not data.get("count"):
            self.add_error("count", _("Say until when, or how many sessions."))
        return data

    def recurrence(self) -> Recurrence | None:
        data = self.cleaned_data
        if self.editing or not data.get("repeat"):
            return None
        return Recurrence(
            first=data["start"],
            interval=data.get("interval") or 1,
            weekdays=tuple(data.get("weekdays") or ()),
            until=data.get("until"),
            count=data.get("count"),
        )


class MoveForm(forms.Form):
    """A drag or a resize on the calendar: the new start and end, clinic time,
    and, dropped in another professional's column of the day view, the new
    professional (`professional` sent empty: no professional; not sent: the
    same). `undo` says the move puts back what a previous one changed."""

    start = forms.DateTimeField(input_formats=DATETIME_FORMATS)
    end = forms.DateTimeField(input_formats=DATETIME_FORMATS, required=False)
    professional: forms.ModelChoiceField[Professional] = forms.ModelChoiceField(
        label=_("Professional"), queryset=Professional.objects.none(), required=False
    )
    undo = forms.BooleanField(required=False)

    def __init__(self, *args: Any, clinic: Clinic, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Inactive ones too: an undo gives a session back to the professional
        # it had, and the day view shows an inactive one's column while they
        # still have sessions.
        self.fields["professional"].queryset = professionals_for_clinic(  # type: ignore[attr-defined]
            clinic, active_only=False
        )

    @property
    def moves_professional(self) -> bool:
        return self.add_prefix("professional") in self.data

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start: dt.datetime | None = data.get("start")
        end: dt.datetime | None = data.get("end")
        if start and end and end <= start:
            self.add_error("end", _("The end must be after the start."))
        return data


class QuickPatientForm(ServiceCheckedForm):
    """The booking modal's "New patient": a few fields, parsed here (the
    name and the professional must be there), checked with the rules of the
    patient file (`patients.services.patient_check`: the phone, the e-mail, a
    birth date in the past...) even when a field failed, so that every error
    shows at once. Prefixed, as its inputs sit inside the booking form."""

    prefix = "new_patient"

    full_name = forms.CharField(label=_("Full name"), max_length=200)
    mobile = forms.CharField(
        label=_("Mobile"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    email = forms.CharField(
        label=_("E-mail"), max_length=254, required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    birth_date = forms.DateField(
        label=_("Birth date"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    professional: forms.ModelChoiceField[Professional] = forms.ModelChoiceField(
        label=_("Responsible professional"),
        queryset=Professional.objects.none(),
        error_messages={"required": _("Choose the responsible professional.")},
    )

    # The patient's fields the form hands to `patient_create`.
    PATIENT_FIELDS = ("full_name", "mobile", "email", "birth_date")

    def __init__(self, *args: Any, clinic: Clinic, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.fields["professional"].queryset = professionals_for_clinic(clinic)  # type: ignore[attr-defined]
        self.fields["full_name"].widget.attrs["data-patient-new-first"] = "true"

    def patient_fields(self, data: dict[str, Any]) -> dict[str, Any]:
        """The patient's fields that parsed."""
        return {name: data[name] for name in self.PATIENT_FIELDS if name in data}

    def service_check(self, data: dict[str, Any]) -> object:
        patient_check(clinic=self.clinic, fields=self.patient_fields(data))
        return None


class EvolutionNoteForm(forms.Form):
    text = forms.CharField(label=_("New note"), widget=forms.Textarea(attrs={"rows": 3}))


class AppointmentStatusForm(ServiceModelForm):
    class Meta:
        model = AppointmentStatus
        fields = ["name", "code", "color", "debits", "releases"]
        widgets = {"color": forms.TextInput(attrs={"type": "color"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = _("Short identifier used by the API, e.g. “teleconsult”.")
        if self.instance.pk:
            self.fields["code"].disabled = True
            if self.instance.is_builtin:
                # Built-ins show in each reader's language: only the colour changes.
                self.initial["name"] = self.instance.display_name
                for name in ("name", "debits", "releases"):
                    self.fields[name].disabled = True
