"""The demo calendar: a custom status, and weekly recurring series over four
weeks around today, with attended, missed and justified sessions in the past
(on top of the package appointments of `scheduling.demo_packages`)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from clinic.models import Clinic, Organization, Professional, User
from packages.catalog.models import PackageTemplate, Service
from patients.models import Patient
from scheduling import services
from scheduling.models import AppointmentSeries, AppointmentStatus
from scheduling.recurrence import Recurrence, appointment_book_series

# A custom status (K8) as clinics use it: a no-show that still uses the session.
CHARGED_ABSENCE = "charged_absence"

# (patient first name, weekday 0=Mon, hour, professional index, past statuses oldest first)
SERIES = [
    ("Bernardo", 0, 8, 0, ["attended", "missed"]),
    ("Camila", 1, 10, 1, ["attended", "attended"]),
    ("Gabriel", 2, 16, 0, ["justified_absence", "attended"]),
    ("Heitor", 3, 11, 2, ["attended", "missed"]),
    ("Larissa", 4, 15, 1, ["attended", "attended"]),
]


def seed_statuses(organization: Organization) -> None:
    """The demo's custom status, once (the built-ins came with the organization)."""
    if not AppointmentStatus.objects.filter(code=CHARGED_ABSENCE).exists():
        services.appointment_status_save(
            organization=organization,
            code=CHARGED_ABSENCE,
            name="Falta cobrada",
            color="#b45309",
            debits=True,
        )


def seed_calendar(organization: Organization, clinics: dict[str, Clinic]) -> None:
    """Adds the series once (a second run finds them and does nothing)."""
    if AppointmentSeries.objects.exists():
        return
    clinic = next(c for c in clinics.values() if c.is_central)
    tz = ZoneInfo(clinic.time_zone)
    professionals = list(Professional.objects.filter(clinic=clinic, is_active=True).order_by("pk"))
    # A plain session, not a template's trigger (that would link a package).
    triggers = PackageTemplate.objects.exclude(trigger_service=None).values("trigger_service")
    service = Service.objects.filter(clinic=clinic, is_active=True).exclude(pk__in=triggers).order_by("pk").first()
    actor = User.objects.filter(organization=organization, username="reception").first()
    if not professionals or service is None:
        return
    today = timezone.localdate(timezone=tz)
    monday = today - dt.timedelta(days=today.weekday() + 14)  # two weeks back
    now = timezone.now()
    for first_name, weekday, hour, professional_index, past_statuses in SERIES:
        patient = (
            Patient.objects.filter(clinic=clinic, full_name__startswith=first_name, is_active=True)
            .order_by("pk")
            .first()
        )
        if patient is None:
            continue
        first = dt.datetime.combine(monday + dt.timedelta(days=weekday), dt.time(hour), tzinfo=tz)
        bookings = appointment_book_series(
            rule=Recurrence(first=first, count=4),
            clinic=clinic,
            patient=patient,
            lines=[services.LineInput(service)],
            actor=actor,
            professional=professionals[professional_index % len(professionals)],
            skip_conflicts=True,
        )
        past = [b.appointment for b in bookings if b.appointment.end < now]
        for appointment, status in zip(past, past_statuses, strict=False):
            services.appointment_set_status(appointment=appointment, status=status, actor=actor)
