"""Reads of appointments: the calendar feed, a patient's sessions and the
packages a booking can use (their budgets: `packages.patient_packages.budgets`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from clinic.db import rows
from clinic.models import Clinic, Professional
from clinic.selectors import professionals_for_clinic
from packages.patient_packages.models import PackageStatus, PatientPackage
from scheduling.models import Appointment, AppointmentLine, AppointmentStatus, BuiltinStatus, EvolutionNote


def appointment_lines(appointment: Appointment) -> list[AppointmentLine]:
    """The appointment's lines in their order, as `appointment.lines.all()`
    reads them, with a statement written once (`clinic.db.rows`): the API
    answers every status change with them."""
    found = rows.equal(AppointmentLine, "appointment", appointment.pk)
    return list(appointment.lines.all()) if found is None else found


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


def calendar_professionals(
    *, clinic: Clinic, start: dt.datetime, end: dt.datetime, professional_id: int | None = None
) -> tuple[list[Professional], bool]:
    """The columns of the calendar's day view for [start, end): the clinic's
    active professionals, and an inactive one who still has appointments
    then (else they would not show), with their working hours; and whether
    an appointment then has no professional (a column of its own). Three
    queries, however many professionals and appointments."""
    booked = set(
        Appointment.objects.filter(clinic_id=clinic.pk, start__lt=end, end__gt=start)
        .order_by()
        .values_list("professional_id", flat=True)
        .distinct()
    )
    wanted = Q(is_active=True) | Q(pk__in=[pk for pk in booked if pk is not None])
    professionals = professionals_for_clinic(clinic, active_only=False).filter(wanted)
    if professional_id is not None:
        professionals = professionals.filter(pk=professional_id)
    return list(professionals), professional_id is None and None in booked


def packages_for_booking(
    *, patient_id: int, service_ids: list[int], with_exhausted: bool = False
) -> list[PatientPackage]:
    """The patient's active packages whose items cover the services (A5, X5):
    the one expiring first, then the narrowest match (fewest items), first.
    `with_exhausted` keeps those with no session left to book (the booking
    modal lists them, disabled, so that the receptionist sees why)."""
    packages = (
        PatientPackage.objects.filter(patient_id=patient_id, status=PackageStatus.ACTIVE, deleted_at__isnull=True)
        .select_related("clinic")
        .order_by("created_at", "pk")
    )
    offered = []
    for package in packages:
        covered = {item["service"] for item in package.terms.get("items", [])}
        if package.sessions_available < 1 and not with_exhausted:
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


# The home page's reads (issue 14): each a fixed number of queries.


def notes_to_write(
    *, clinic_id: int, professional_id: int, since: dt.datetime, until: dt.datetime, limit: int = 6
) -> tuple[int, list[Appointment]]:
    """The professional's attended sessions in [since, until) that have no
    evolution note yet (A8): how many, and the latest `limit` of them, in two
    queries."""
    notes = EvolutionNote.objects.filter(appointment_id=OuterRef("pk"))
    rows = Appointment.objects.filter(
        clinic_id=clinic_id,
        professional_id=professional_id,
        status=BuiltinStatus.ATTENDED,
        start__gte=since,
        start__lt=until,
    ).exclude(Exists(notes))
    return rows.count(), list(rows.select_related("patient").order_by("-start", "-pk")[:limit])


@dataclass(frozen=True)
class SessionOutcomes:
    """What became of a period's sessions."""

    attended: int
    cancelled: int
    absent: int  # missed, or a justified absence

    @property
    def cancelled_or_absent(self) -> int:
        return self.cancelled + self.absent


ABSENT_STATUSES = (BuiltinStatus.MISSED, BuiltinStatus.JUSTIFIED_ABSENCE)


def session_outcomes(*, clinic_id: int, periods: Sequence[tuple[dt.datetime, dt.datetime]]) -> list[SessionOutcomes]:
    """Per period [start, end), the clinic's sessions that started in it and
    were attended, cancelled or missed (justified or not): one query for
    all the periods."""
    if not periods:
        return []
    counts: dict[str, Any] = {}
    for index, (start, end) in enumerate(periods):
        when = Q(start__gte=start, start__lt=end)
        counts[f"attended_{index}"] = Count("pk", filter=when & Q(status=BuiltinStatus.ATTENDED))
        counts[f"cancelled_{index}"] = Count("pk", filter=when & Q(status=BuiltinStatus.CANCELLED))
        counts[f"absent_{index}"] = Count("pk", filter=when & Q(status__in=ABSENT_STATUSES))
    earliest, latest = min(start for start, _end in periods), max(end for _start, end in periods)
    row = Appointment.objects.filter(clinic_id=clinic_id, start__gte=earliest, start__lt=latest).aggregate(**counts)
    return [
        SessionOutcomes(row[f"attended_{index}"], row[f"cancelled_{index}"], row[f"absent_{index}"])
        for index in range(len(periods))
    ]


def next_appointment(
    *, clinic_id: int, after: dt.datetime, professional_id: int | None = None, skip_statuses: Sequence[str] = ()
) -> Appointment | None:
    """The clinic's (or the professional's) first session from `after` on
    that still takes place (`skip_statuses`: the releasing ones)."""
    rows = Appointment.objects.filter(clinic_id=clinic_id, start__gte=after).exclude(status__in=skip_statuses)
    if professional_id is not None:
        rows = rows.filter(professional_id=professional_id)
    return rows.select_related("patient").order_by("start", "pk").first()
