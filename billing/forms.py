"""The finance pages' forms: the receivables filters, registering a payment
(money or a package) and a refund."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from billing.models import MONEY_METHODS, Method, PayerKind
from billing.selectors import ReceivableFilters
from billing.services import payment_take_check
from clinic.form_fields import money_field
from clinic.models import Professional
from clinic.money import ZERO
from clinic.service_forms import ServiceCheckedForm
from packages.catalog.models import Service
from packages.patient_packages.models import PatientPackage

STATUS_CHOICES = [
    ("open", _("To receive")),
    ("paid", _("Paid")),
    ("cancelled", _("Cancelled")),
    ("all", _("All")),
]


class ReceivableFilterForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    professional: forms.ModelChoiceField[Professional] = forms.ModelChoiceField(
        label=_("Professional"), queryset=Professional.objects.none(), required=False
    )
    service: forms.ModelChoiceField[Service] = forms.ModelChoiceField(
        label=_("Service"), queryset=Service.objects.none(), required=False
    )
    patient = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    package = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, professionals: QuerySet[Professional], services: QuerySet[Service],
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.fields["professional"].queryset = professionals  # type: ignore[attr-defined]
        self.fields["service"].queryset = services  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end must be after the start."))
        return data

    def filters(self, *, clinic: int) -> ReceivableFilters:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return ReceivableFilters(
            patient=data.get("patient"),
            status=data.get("status") or "open",
            start=data.get("start"),
            end=data.get("end"),
            service=data["service"].pk if data.get("service") else None,
            professional=data["professional"].pk if data.get("professional") else None,
            clinic=clinic if not data.get("patient") else None,
            # Paying from a package lists the sessions it can pay, not sales.
            kind="session" if data.get("package") else None,
        )


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """This month, as the receivables page opens."""
    start = today.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return start, end


class PaymentForm(ServiceCheckedForm):
    method = forms.ChoiceField(label=_("Method"), widget=forms.RadioSelect)
    patient_package: forms.ModelChoiceField[PatientPackage] = forms.ModelChoiceField(
        label=_("Package"), queryset=PatientPackage.objects.none(), required=False,
        help_text=_("Each session is debited from the package."),
    )  # fmt: skip
    amount = money_field(_("Amount received"), required=False)
    use_credit = forms.BooleanField(label=_("Use the account credit first"), required=False)
    payer = forms.ChoiceField(label=_("Paid by"), choices=PayerKind.choices, initial=PayerKind.PATIENT)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    confirm_price = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, packages: QuerySet[PatientPackage], has_guardian: bool, credit: Decimal = ZERO,
        receivables: Sequence[int] = (), **kwargs: Any,
    ) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.credit, self.receivables = credit, list(receivables)
        choices = [(m.value, m.label) for m in Method if m in MONEY_METHODS]
        self.fields["patient_package"].queryset = packages  # type: ignore[attr-defined]
        self.fields["patient_package"].label_from_instance = lambda p: f"{p.number} · {p.name}"  # type: ignore[attr-defined]
        if packages.exists():
            choices.append((Method.PACKAGE.value, Method.PACKAGE.label))
        else:
            del self.fields["patient_package"]
        self.fields["method"].choices = choices  # type: ignore[attr-defined]
        if not has_guardian:
            del self.fields["payer"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        method = data.get("method")
        if method == Method.PACKAGE:
            if not data.get("patient_package"):
                self.add_error("patient_package", _("Choose the package."))
        elif method and data.get("amount") is None:
            self.add_error("amount", _("Enter the amount received."))
        return data

    def service_check(self, data: dict[str, Any]) -> None:
        # Nothing received and no credit to use shows with the other errors.
        payment_take_check(data=data, credit=self.credit, receivables=self.receivables)


class RefundForm(forms.Form):
    amount = money_field(_("Amount to refund"), required=False, minimum="0.01")
    receivables = forms.TypedMultipleChoiceField(label=_("Sessions"), coerce=int, required=False,
                                                 widget=forms.CheckboxSelectMultiple)  # fmt: skip
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def __init__(self, *args: Any, choices: list[tuple[int, str]], by_amount: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.by_amount = by_amount
        self.fields["receivables"].choices = choices  # type: ignore[attr-defined]
        if not by_amount:
            del self.fields["amount"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("amount") and not data.get("receivables"):
            message = _("Enter the amount or choose the sessions.") if self.by_amount else _("Choose the sessions.")
            self.add_error(None, message)
        elif data.get("amount") and data.get("receivables"):
            self.add_error(None, _("Give the amount to refund or the sessions, not both."))
        return data


class CommissionFilterForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    professional: forms.ModelChoiceField[Professional] = forms.ModelChoiceField(
        label=_("Professional"), queryset=Professional.objects.none(), required=False,
        empty_label=_("All professionals"),
    )  # fmt: skip

    def __init__(self, *args: Any, professionals: QuerySet[Professional], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["professional"].queryset = professionals  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end must be after the start."))
        elif start and end and (end - start).days > 366:
            self.add_error("end", _("Choose at most a year."))
        return data


class CashDayForm(forms.Form):
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
