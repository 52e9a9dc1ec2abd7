"""The patient file's card of active packages (registered in `apps.py`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from clinic.permissions import Perm, request_has_perm
from packages.patient_packages import budgets, selectors
from packages.patient_packages.models import PackageStatus
from patients.file_panels import FilePanel
from patients.file_panels import register as register_panel
from patients.models import Patient


def context(request: HttpRequest, patient: Patient) -> dict[str, Any]:
    # One query: the first active packages (a sixth tells "more" is there);
    # one more for their balances.
    packages = list(selectors.patient_packages(patient=patient).filter(status=PackageStatus.ACTIVE)[:6])
    return {
        "active_packages": packages,
        "balances": budgets.balances(packages[:5]),
        "can_link": request_has_perm(request, Perm.LINK_PACKAGES),
    }


def register() -> None:
    register_panel(FilePanel("packages", order=20, template="packages/patient/_file_packages.html", context=context))
