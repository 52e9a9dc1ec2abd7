"""Reads of appointments: the calendar feed, a patient's sessions and the
packages a booking can use (their budgets: `packages.patient_packages.budgets`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch, QuerySet

from packages.patient_packages.models import PackageStatus, PatientPackage
from scheduling.models import Appointment, AppointmentLine, AppointmentStatus, BuiltinStatus, EvolutionNote


def appointment_list(
    *,
    clinic_id: int | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    professional_id: int | None = None,
    room_id: int | None = None,
    patient_id: int | None = None,
    status: str | None = None,
) -> QuerySet[Appointment]:
    """Appointments overlapping [start, end), with what a calendar shows."""
    queryset = Appointment.objects.select_related(
        "patient", "professional", "room", "patient_package"
    ).prefetch_related(Prefetch("lines", queryset=AppointmentLine.objects.select_related("service")))
    filters: dict[str, Any] = {}
    if clinic_id is not None:
        filters["clinic_id"] = clinic_id
    if start is not None:
        filters["end__gt"] = start
    if end is not None:
        filters["start__lt"] = end
    for name, value in (("professional_id", professional_id), ("room_id", room_id), ("patient_id", patient_id)):
        if value is not None:
            filters[name] = value
    if status:
        filters["status"] = status
    return queryset.filter(**filters).order_by("start", "pk")


def packages_for_booking(*, patient_id: int, service_ids: list[int]) -> list[PatientPackage]:
    """The patient's active packages whose items cover the services (A5, X5):
    the one expiring first, then the narrowest match (fewest items), first."""
    packages = (
        PatientPackage.objects.filter(patient_id=patient_id, status=PackageStatus.ACTIVE, deleted_at__isnull=True)
        .select_related("clinic")
        .order_by("created_at", "pk")
    )
    offered = []
    for package in packages:
        covered = {item["service"] for item in package.terms.get("items", [])}
        if package.sessions_available < 1:
            continue
        if covered and not set(service_ids) <= covered:
            continue
        offered.append(package)

    def order(package: PatientPackage) -> tuple[Any, ...]:
        expires = package.created_at + dt.timedelta(days=package.validity_days) if package.validity_days else None
        items = package.terms.get("items", [])
        return (expires is None, expires or package.created_at, len(items) or 999, package.pk)

    return sorted(offered, key=order)


def next_and_past_sessions(
    patient_id: int, now: dt.datetime, limit: int = 5
) -> tuple[list[Appointment], list[Appointment]]:
    base = Appointment.objects.filter(patient_id=patient_id).select_related("professional")
    upcoming = list(base.filter(start__gte=now).exclude(status="cancelled").order_by("start")[:limit])
    past = list(base.filter(start__lt=now).order_by("-start")[:limit])
    return upcoming, past


# The calendar pages' reads (issue #6).


def appointment_statuses(*, active_only: bool = False) -> QuerySet[AppointmentStatus]:
    """The organization's statuses in the order of the legend and the buttons."""
    queryset = AppointmentStatus.objects.order_by("position", "name", "pk")
    return queryset.filter(is_active=True) if active_only else queryset


def appointment_for_clinic(*, clinic_id: int, appointment_id: int) -> Appointment | None:
    """One appointment of the clinic with what the modal shows (None when it
    is missing, another clinic's or another organization's)."""
    return appointment_list(clinic_id=clinic_id).select_related("clinic").filter(pk=appointment_id).first()


def evolution_notes(appointment: Appointment) -> QuerySet[EvolutionNote]:
    return EvolutionNote.objects.filter(appointment=appointment).select_related("author").order_by("created_at", "pk")


def status_labels() -> dict[str, str]:
    """Status code -> name in the reader's language (built-ins are translated,
    custom statuses show the name the organization gave them)."""
    labels = {code: str(label) for code, label in BuiltinStatus.choices}
    labels.update((status.code, status.display_name) for status in AppointmentStatus.objects.all())
    return labels
