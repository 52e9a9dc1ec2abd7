"""Forms of the patient package pages: link (K1), manual change (K7), and the
live price-per-session preview. They only parse input; `packages.patient_packages.ledger`
decides, and the views put its errors on the forms (`clinic.errors.add_to_form`).

Zero or negative sessions and negative totals are deliberately not refused
here: the ledger and `clinic.money` refuse them, with the same messages the
API gives."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from clinic import money
from clinic.errors import ValidationFailed
from clinic.form_fields import money_field
from clinic.models import Clinic, Room
from clinic.normalize import phone_display
from clinic.service_forms import ServiceCheckedForm
from packages.catalog import selectors
from packages.catalog.models import MAX_SESSIONS, PackageTemplate
from packages.catalog.templatetags.catalog_tags import money as money_display
from packages.patient_packages import budgets, ledger
from packages.patient_packages.ledger import Limits
from packages.patient_packages.models import MAX_INSTALLMENTS, PackageStatus, PatientPackage
from patients.models import Patient

# The SMS reminder lead times offered (hours before the appointment).
REMINDER_HOURS = (1, 2, 3, 6, 12, 24, 48, 72)


def _sessions_field(label: Any, *, required: bool) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=required,
        max_value=MAX_SESSIONS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


def _date_field(label: Any) -> forms.DateField:
    return forms.DateField(
        label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class TemplateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        template: PackageTemplate = obj
        sessions = template.sessions
        text = ngettext(
            "%(name)s · %(sessions)s session · %(price)s", "%(name)s · %(sessions)s sessions · %(price)s", sessions
        ) % {
            "name": template.name,
            "sessions": sessions,
            "price": money_display(template.price, template.clinic.currency),
        }
        if template.renewal == "monthly":
            text = _("%(text)s · monthly") % {"text": text}
        return text


class PackageLinkForm(ServiceCheckedForm):
    """Link a package from a template the clinic sees, or a direct one (K1)."""

    template = TemplateChoiceField(
        label=_("Package template"),
        queryset=PackageTemplate.objects.none(),
        required=False,
        empty_label=_("Direct package: enter the sessions and the total paid"),
    )
    sessions = _sessions_field(_("Number of sessions"), required=False)
    total_price = money_field(_("Total paid"), required=False, minimum=None)
    paid_at = _date_field(_("Payment date"))
    installments = forms.TypedChoiceField(
        label=_("Installments"), coerce=int, initial=1, choices=(), required=False, empty_value=1,  # type: ignore[arg-type]
        help_text=_("A package that posts its total is charged in this many monthly installments."),
    )  # fmt: skip
    insurer = forms.CharField(label=_("Insurer"), max_length=200, required=False)
    authorization = forms.CharField(label=_("Authorization code"), max_length=100, required=False)
    room: forms.ModelChoiceField[Room] = forms.ModelChoiceField(
        label=_("Room"), queryset=Room.objects.none(), required=False, empty_label=_("No room chosen")
    )
    mobile = forms.CharField(
        label=_("Mobile for SMS"),
        max_length=30,
        required=False,
        help_text=_("Prefilled from the patient's file. Leave it empty to send no SMS."),
    )
    reminder_hours = forms.TypedChoiceField(
        label=_("SMS reminder"), required=False, coerce=int, empty_value=None, choices=()
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, data: Any = None, *, clinic: Clinic, patient: Patient, today: dt.date) -> None:
        initial = {
            "paid_at": today,
            "insurer": patient.default_insurer,
            "mobile": phone_display(patient.mobile) if patient.mobile else "",
        }
        super().__init__(data, initial=initial)
        self.clinic, self.patient = clinic, patient
        self.fields["template"].queryset = linkable_templates(clinic)  # type: ignore[attr-defined]
        self.fields["room"].queryset = Room.objects.filter(clinic=clinic, is_active=True).order_by("name")  # type: ignore[attr-defined]
        self.fields["installments"].choices = [  # type: ignore[attr-defined]
            (n, ngettext("%(count)s installment", "%(count)s installments", n) % {"count": n})
            for n in range(1, MAX_INSTALLMENTS + 1)
        ]
        self.fields["reminder_hours"].choices = [("", _("No reminder"))] + [  # type: ignore[attr-defined]
            (hours, _("%(hours)s h before") % {"hours": hours}) for hours in REMINDER_HOURS
        ]

    def prefill_from(self, template: PackageTemplate | None) -> None:
        """Show the template's sessions and price, editable (monthly packages vary by month)."""
        self.initial["template"] = template.pk if template else None
        self.initial["sessions"] = template.sessions if template else None
        self.initial["total_price"] = template.price if template else None

    def service_check(self, data: dict[str, Any]) -> None:
        # The ledger's rules (a total or sessions missing for a direct
        # package, the mobile...) on what parsed, with the fields' own errors.
        ledger.link_check(patient=self.patient, clinic=self.clinic, data=data)

    def link_arguments(self) -> dict[str, Any]:
        """Keyword arguments for `packages.patient_packages.ledger.package_link`."""
        data = self.cleaned_data
        return {
            "template": data["template"],
            "sessions": data["sessions"],
            "total_price": data["total_price"],
            "paid_at": data["paid_at"],
            "installments": data["installments"],
            "insurer": data["insurer"],
            "authorization": data["authorization"],
            "room": data["room"],
            "mobile": data["mobile"],
            "reminder_hours": data["reminder_hours"],
            "notes": data["notes"],
        }


def linkable_templates(clinic: Clinic) -> Any:
    """The active templates the clinic sees (the catalog's visibility rules)."""
    return selectors.template_list(clinic=clinic).filter(is_active=True)


class PackageChangeForm(forms.Form):
    """An exceptional change of a package's values (K7). Only what changed is
    sent to `packages.patient_packages.ledger.package_change`, so the history
    lists exactly that. A package with budget limits also asks what its limits
    do when its sessions are raised."""

    sessions_total = _sessions_field(_("Number of sessions"), required=True)
    limits = forms.ChoiceField(
        label=_("Budget limits when the sessions are raised"),
        required=False,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        choices=[
            (Limits.GROW, _("They grow with the sessions (a courtesy session, a bonus)")),
            (Limits.KEEP, _("They stay as they are (an insurer's authorization)")),
        ],
    )
    amount_total = money_field(_("Total value"), minimum=None)
    paid_at = _date_field(_("Payment date"))
    status = forms.ChoiceField(label=_("Status"))
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, data: Any = None, *, package: PatientPackage) -> None:
        initial = {
            "sessions_total": package.sessions_total,
            "amount_total": package.amount_total,
            "paid_at": package.paid_at,
            "status": package.status,
            "notes": package.notes,
        }
        super().__init__(data, initial=initial)
        self.package = package
        choices = [
            (PackageStatus.ACTIVE.value, pgettext_lazy("package status", "Active")),
            (PackageStatus.INACTIVE.value, pgettext_lazy("package status", "Inactive")),
        ]
        if package.status == PackageStatus.FINISHED:
            choices.append((PackageStatus.FINISHED.value, _("Finished (nothing remains)")))
        self.fields["status"].choices = choices  # type: ignore[attr-defined]
        # The limits the package was sold with, named as the budget bar names them.
        self.limit_labels = [limit.label for limit in budgets.session_check(package, [], when=timezone.now()).limits]
        if not self.limit_labels:
            del self.fields["limits"]
        else:
            self.fields["limits"].help_text = _("Its limits: %(limits)s.") % {"limits": "; ".join(self.limit_labels)}

    def changes(self) -> dict[str, Any]:
        """The fields whose value differs from the package's."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "limits" and value != getattr(self.package, name)
        }

    def limits_choice(self) -> str | None:
        return self.cleaned_data.get("limits") or None


@dataclass(frozen=True)
class PricePreview:
    """What the link form shows under the total: the price of each session and
    of the last one, which absorbs the rounding (K9); or why it cannot."""

    currency: str
    regular: Decimal | None = None
    last: Decimal | None = None
    sessions: int | None = None
    error: str = ""

    @property
    def differs(self) -> bool:
        return self.regular is not None and self.last is not None and self.regular != self.last


class PricePreviewForm(forms.Form):
    sessions = forms.IntegerField(required=False, max_value=MAX_SESSIONS)
    total_price = money_field(_("Total paid"), required=False, minimum=None)


def price_preview(data: Any, *, currency: str) -> PricePreview:
    """The preview for the sessions and total typed so far (`data`: a QueryDict
    or a dict). The rounding comes from `clinic.money`, as when debiting."""
    form = PricePreviewForm(data)
    if not form.is_valid():
        first = next(iter(form.errors.values()))
        return PricePreview(currency=currency, error=str(first[0]))
    return preview_prices(form.cleaned_data["sessions"], form.cleaned_data["total_price"], currency=currency)


def preview_prices(sessions: int | None, total: Decimal | None, *, currency: str) -> PricePreview:
    if sessions is None or total is None:
        return PricePreview(currency=currency)
    try:
        prices = money.session_prices(total, sessions)
    except ValidationFailed as error:
        return PricePreview(currency=currency, error=_error_text(error))
    return PricePreview(currency=currency, regular=prices[0], last=prices[-1], sessions=sessions)


def _error_text(error: ValidationFailed) -> str:
    if error.detail != str(ValidationFailed.default_detail):
        return error.detail
    return next((message for messages in error.fields.values() for message in messages), error.detail)
