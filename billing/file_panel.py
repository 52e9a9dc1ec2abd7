"""The patient file's financial summary card (registered in `apps.py`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from billing import selectors
from billing.receivables import local_date
from clinic.permissions import Perm, request_has_perm
from patients.file_panels import FilePanel
from patients.file_panels import register as register_panel
from patients.models import Patient


def context(request: HttpRequest, patient: Patient) -> dict[str, Any] | None:
    if not request_has_perm(request, Perm.TAKE_PAYMENTS):
        return None
    clinic = patient.clinic
    return {
        "summary": selectors.patient_summary(patient.pk, local_date(timezone.now(), clinic.time_zone)),
        "payments": list(selectors.payment_list().filter(patient=patient)[:3]),
        "currency": clinic.currency,
    }


def register() -> None:
    register_panel(FilePanel("finance", order=40, template="billing/_file_finance.html", context=context))
