from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from clinic import services
from clinic.models import Clinic, Organization, Professional, User, Weekday
from clinic.resources import DEFAULT_COLOR, WorkingInterval
from clinic.selectors import users_for_clinic
from clinic.service_forms import ServiceCheckedForm
from clinic.time_zones import time_zone_choices


class ClinicForm(ServiceCheckedForm):
    """Input for `clinic_create` / `clinic_update`; the service validates the
    rest, and its rules run with the form's (`service_check`), so every error
    shows on the first submit."""

    name = forms.CharField(label=_("Name"), max_length=200)
    time_zone = forms.ChoiceField(
        label=_("Time zone"), choices=lambda: time_zone_choices("BR"), initial="America/Sao_Paulo"
    )
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
    pix_key = forms.CharField(
        label=_("Pix key"), max_length=77, required=False,
        help_text=_("Receivables show a Pix code and QR code for this key."),
    )  # fmt: skip
    pix_city = forms.CharField(label=_("Pix city"), max_length=15, required=False)
    legal_name = forms.CharField(label=_("Legal name"), max_length=200, required=False)
    tax_id = forms.CharField(
        label=_("Tax id"), max_length=30, required=False, help_text=_("CNPJ (or the professional's CPF) in Brazil."),
    )  # fmt: skip
    address = forms.CharField(
        label=_("Address"), max_length=300, required=False,
        help_text=_("As printed on session cards and receipts, e.g. Rua Augusta 1200, sala 4 · São Paulo/SP."),
    )  # fmt: skip
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    reminder_hours = forms.IntegerField(
        label=_("Reminder (hours before)"), min_value=0, max_value=24 * 14, initial=24, required=False,
        help_text=_("0: no reminders. A package link or an appointment may set its own."),
    )  # fmt: skip
    reminder_channels = forms.MultipleChoiceField(
        label=_("Reminder channels"), required=False, widget=forms.CheckboxSelectMultiple, initial=["sms"],
        choices=[("sms", _("SMS")), ("whatsapp", "WhatsApp"), ("email", _("E-mail"))],
    )  # fmt: skip
    cancellation_hours = forms.IntegerField(
        label=_("Online cancellation (hours before)"), min_value=0, max_value=24 * 14, initial=24, required=False,
        help_text=_("Patients may cancel a session on their page up to this many hours before it."),
    )  # fmt: skip

    online_booking = forms.BooleanField(
        label=_("Online booking"), required=False,
        help_text=_("Patients book sessions their packages cover on their page and the clinic's public link."),
    )  # fmt: skip
    online_notice_hours = forms.IntegerField(label=_("Minimum notice (hours)"), min_value=0, max_value=24 * 14,
                                             initial=12, required=False)  # fmt: skip
    online_days_ahead = forms.IntegerField(label=_("At most days ahead"), min_value=1, max_value=366, initial=30,
                                           required=False)  # fmt: skip
    online_slot_minutes = forms.IntegerField(label=_("Slot interval (minutes)"), min_value=5, max_value=240,
                                             initial=30, required=False)  # fmt: skip
    online_buffer_minutes = forms.IntegerField(label=_("Buffer after a session (minutes)"), min_value=0,
                                               max_value=240, initial=0, required=False)  # fmt: skip
    online_max_upcoming = forms.IntegerField(label=_("Upcoming sessions a patient may hold"), min_value=1,
                                             max_value=100, initial=4, required=False)  # fmt: skip

    def __init__(
        self, *args: Any, organization: Organization | None = None, clinic: Clinic | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization or (clinic.organization if clinic else None)
        self.clinic = clinic
        # The zones of the clinic's country first: the one typed in this
        # request, else the clinic's, else the form's default.
        country = (self.data.get("country") if self.is_bound else None) or self.initial.get("country") or "BR"
        current = self.initial.get("time_zone")
        self.fields["time_zone"].choices = time_zone_choices(str(country), current=current)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # Left empty: the default shown as the field's initial value.
        for name in ("reminder_hours", "cancellation_hours", "online_notice_hours", "online_days_ahead",
                     "online_slot_minutes", "online_buffer_minutes", "online_max_upcoming"):  # fmt: skip
            if data.get(name) is None and name not in self.errors:
                data[name] = self.fields[name].initial
        return data

    def service_check(self, data: dict[str, Any]) -> object:
        if self.organization is not None:
            services.clinic_check(organization=self.organization, clinic=self.clinic, data=data)
        return None

    def clean_country(self) -> str:
        return str(self.cleaned_data["country"]).upper()

    @classmethod
    def for_clinic(cls, clinic: Clinic, data: Any = None) -> ClinicForm:
        initial = {field: getattr(clinic, field) for field in cls.base_fields}
        return cls(data=data, initial=initial, clinic=clinic)


class _UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        full_name = obj.get_full_name()
        return f"{full_name} ({obj.username})" if full_name else obj.username


class ProfessionalForm(forms.Form):
    """Input for `professional_create` / `professional_update`; the service validates the rest."""

    name = forms.CharField(label=_("Name"), max_length=200)
    specialty = forms.CharField(
        label=_("Specialty"), max_length=120, required=False, help_text=_("e.g. Physiotherapist, Psychologist.")
    )
    color = forms.CharField(
        label=_("Colour"),
        max_length=7,
        initial=DEFAULT_COLOR,
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text=_("Their appointments show in this colour in the calendar."),
    )
    user = _UserChoiceField(
        label=_("Login"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("No login (bookable only)"),
        help_text=_("Link a user of this clinic so they can log in and see their own calendar."),
    )

    def __init__(self, *args: Any, clinic: Clinic, linked_user_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The people of the clinic, plus whoever is linked today (they may have
        # left the clinic since; saving the form must not unlink them silently).
        users = Q(pk__in=users_for_clinic(clinic).values("pk"))
        if linked_user_id is not None:
            users |= Q(pk=linked_user_id)
        self.fields["user"].queryset = User.objects.filter(users).order_by(  # type: ignore[attr-defined]
            "first_name", "last_name", "username"
        )

    @classmethod
    def for_professional(cls, professional: Professional, data: Any = None) -> ProfessionalForm:
        initial = {
            "name": professional.name,
            "specialty": professional.specialty,
            "color": professional.color,
            "user": professional.user_id,
        }
        return cls(data=data, initial=initial, clinic=professional.clinic, linked_user_id=professional.user_id)


class WorkingHoursForm(forms.Form):
    """One row of the weekly schedule; blank rows are ignored."""

    weekday = forms.TypedChoiceField(
        label=_("Weekday"), choices=[("", "—"), *Weekday.choices], coerce=int, empty_value=None
    )
    starts_at = forms.TimeField(
        label=_("From"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"), input_formats=["%H:%M"]
    )
    ends_at = forms.TimeField(
        label=_("Until"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"), input_formats=["%H:%M"]
    )


class BaseWorkingHoursFormSet(forms.BaseFormSet):
    def intervals(self) -> list[WorkingInterval]:
        """The rows kept (filled in, not marked for removal), once the formset is valid."""
        return [
            WorkingInterval(
                weekday=form.cleaned_data["weekday"],
                starts_at=form.cleaned_data["starts_at"],
                ends_at=form.cleaned_data["ends_at"],
            )
            for form in self.forms
            # Untouched blank rows have no cleaned_data; existing rows always do.
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]

    @classmethod
    def for_professional(cls, professional: Professional | None, data: Any = None) -> BaseWorkingHoursFormSet:
        if data is not None:
            # Bound, the posted rows are the whole week: comparing them with the
            # saved ones would make a blank extra row look "changed" and required.
            return cls(data=data, prefix=WORKING_HOURS_PREFIX)
        initial = [
            {"weekday": hours.weekday, "starts_at": hours.starts_at, "ends_at": hours.ends_at}
            for hours in (professional.working_hours.all() if professional else [])
        ]
        return cls(initial=initial, prefix=WORKING_HOURS_PREFIX)


WORKING_HOURS_PREFIX = "hours"
WorkingHoursFormSet = forms.formset_factory(
    WorkingHoursForm,
    formset=BaseWorkingHoursFormSet,
    extra=2,
    can_delete=True,
    max_num=50,
    validate_max=True,
)


class RoomForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
