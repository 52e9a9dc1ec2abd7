"""The patient's own page, the sold packages' part (X7): each active package
with the staff's balance vocabulary, and its session card."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from packages.patient_packages import budgets, selectors
from packages.patient_packages.models import PackageStatus
from patients import file_panels
from patients.file_panels import FilePanel
from patients.models import Patient


def context(request: HttpRequest, patient: Patient) -> dict[str, Any]:
    packages = list(selectors.patient_packages(patient=patient).filter(status=PackageStatus.ACTIVE))
    return {"packages": packages, "balances": budgets.balances(packages)}


def register() -> None:
    file_panels.portal.register(FilePanel("packages", order=5, template="portal/_packages.html", context=context))
