"""The patient file's card of next and past sessions (registered in `apps.py`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from patients.file_panels import FilePanel
from patients.file_panels import register as register_panel
from patients.models import Patient
from scheduling.selectors import next_and_past_sessions, status_labels


def context(request: HttpRequest, patient: Patient) -> dict[str, Any]:
    upcoming, past = next_and_past_sessions(patient.pk, timezone.now())
    return {"upcoming": upcoming, "past": past, "status_labels": status_labels()}


def register() -> None:
    register_panel(FilePanel("sessions", order=10, template="scheduling/_file_sessions.html", context=context))
