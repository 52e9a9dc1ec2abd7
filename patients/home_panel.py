"""The patients' part of the home page (registered in `apps.py`):
self-registrations to review, the week's new patients, and the access log
of the patients the home page's cards name."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from clinic import home_panels
from clinic.home_panels import Figure, FigureSource, Home, HomePanel, PatientsShown
from clinic.models import Role
from clinic.permissions import Perm
from patients import selectors, services
from patients.models import AccessChannel

REVIEW_ROWS = 5


def review_context(home: Home) -> dict[str, Any] | None:
    """Self-registered patients to review (P4); left out when there are none."""
    count, patients = selectors.patients_to_review(clinic=home.clinic, limit=REVIEW_ROWS)
    if not count:
        return None
    return {
        "count": count,
        "patients": patients,
        "more": count - len(patients),
        "list_url": f"{reverse('patients:index')}?status={selectors.PatientStatus.TO_REVIEW}",
        "patients_shown": patients,
    }


def week_figures(home: Home) -> list[Figure]:
    week, last = selectors.new_patients(
        clinic_id=home.clinic.pk,
        periods=[(home.week.start, home.week.end), (home.last_week.start, home.last_week.end)],
    )
    return [Figure("new_patients", _("New patients"), week, last, url=reverse("patients:index"))]


def log_shown(event: PatientsShown) -> None:
    """The home page named these patients: one access-log row each (LGPD / GDPR)."""
    if event.patients:
        services.access_log_record(
            request=event.request, patients=event.patients, channel=AccessChannel.PAGE, what="home"
        )


def register() -> None:
    home_panels.register(
        HomePanel(
            "to_review",
            order=40,
            template="patients/_home_review.html",
            context=review_context,
            area="side",
            roles=frozenset({Role.OWNER, Role.MANAGER, Role.RECEPTIONIST}),
            permission=Perm.MANAGE_PATIENTS,
        )
    )
    home_panels.register_figures(
        FigureSource("new_patients", order=20, figures=week_figures, roles=home_panels.MANAGERS)
    )
    home_panels.patients_shown.connect(log_shown)
