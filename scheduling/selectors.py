"""Reads of appointments: the calendar feed, a patient's sessions, the
packages a booking can use and how much of their budgets is used."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, DecimalField, F, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from packages import money
from packages.budget import AppointmentLine as BudgetLine
from packages.budget import Budget, BudgetCheck, BudgetUsage, ServiceUsage, budget_check
from packages.models import PackageStatus, PackageUsage, PatientPackage, Renewal, Service, UsageState
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


# Budgets (S3) ------------------------------------------------------------------------

MONEY = DecimalField(max_digits=14, decimal_places=2)


def budget_window(package: PatientPackage, when: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
    """The stretch of time whose appointments count against the package's limits.

    A monthly plan's limits are per cycle: "8 appointments" means 8 in each
    month it renews for, so only the appointments of the calendar month of
    `when` (in the package's clinic's time zone) count. Any other package's
    limits are for its whole life (None).
    """
    if package.renewal != Renewal.MONTHLY:
        return None
    tz = ZoneInfo(package.clinic.time_zone)
    first = timezone.localtime(when, tz).date().replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return dt.datetime.combine(first, dt.time.min, tzinfo=tz), dt.datetime.combine(following, dt.time.min, tzinfo=tz)


def budget_usages(
    packages: Iterable[PatientPackage], *, when: dt.datetime, exclude: Appointment | None = None
) -> dict[int, BudgetUsage]:
    """What each package's live appointments (booked or attended) use of its
    budget, in the window of `when` (see `budget_window`), summed by the
    database in two queries however many packages. `exclude` is an
    appointment being edited: it is left out, to be counted with its new
    lines. Packages without limits are not read: nothing counts against them."""
    packages = list(packages)
    usages = {package.pk: BudgetUsage() for package in packages}
    windows = {package.pk: budget_window(package, when) for package in packages if _has_limits(package)}
    if not windows:
        return usages
    in_window = Q(package_id__in=[package_id for package_id, window in windows.items() if window is None])
    for package_id, window in windows.items():
        if window is not None:
            in_window |= Q(package_id=package_id, appointment__start__gte=window[0], appointment__start__lt=window[1])
    live = PackageUsage.objects.filter(in_window, state__in=[UsageState.RESERVED, UsageState.DEBITED])
    if exclude is not None:
        live = live.exclude(appointment_id=exclude.pk)
    appointments = dict(
        live.values("package_id").annotate(count=Count("appointment_id")).values_list("package_id", "count")
    )
    per_service: dict[int, dict[int, ServiceUsage]] = defaultdict(dict)
    line_totals = (
        live.filter(appointment__lines__isnull=False)
        .values("package_id", "appointment__lines__service_id")
        .annotate(
            quantity=Sum("appointment__lines__quantity"),
            amount=Sum(F("appointment__lines__quantity") * F("appointment__lines__price"), output_field=MONEY),
        )
        .values_list("package_id", "appointment__lines__service_id", "quantity", "amount")
    )
    for package_id, service_id, quantity, amount in line_totals:
        per_service[package_id][service_id] = ServiceUsage(quantity, money.money(amount))
    for package_id, count in appointments.items():
        services = per_service[package_id]
        amount = sum((usage.amount for usage in services.values()), money.ZERO)
        usages[package_id] = BudgetUsage(appointments=count, amount=amount, services=services)
    return usages


def budgets_used(packages: Iterable[PatientPackage], *, when: dt.datetime) -> dict[int, BudgetCheck]:
    """Each package's budget as its booked and attended sessions use it so far
    (this month's, for a monthly plan): the bar of a package list."""
    packages = list(packages)
    usages = budget_usages(packages, when=when)
    return {
        package.pk: package_budget_check(package, [], when=when, usage=usages[package.pk], appointments=0)
        for package in packages
    }


def _has_limits(package: PatientPackage) -> bool:
    return not Budget.from_dict(package.terms.get("limits") or {}).is_empty


def package_budget_check(
    package: PatientPackage,
    lines: Sequence[tuple[Service, int, Decimal]],
    *,
    when: dt.datetime,
    appointment: Appointment | None = None,
    usage: BudgetUsage | None = None,
    appointments: int = 1,
) -> BudgetCheck:
    """Would an appointment at `when` with these lines fit the package's budget?
    `appointment` is the one being edited: its current lines are left out of
    what is used, so it counts once, with its new lines. With no lines and
    `appointments=0` it is the bar of what is already used."""
    if usage is None:
        usage = budget_usages([package], when=when, exclude=appointment)[package.pk]
    return budget_check(
        Budget.from_dict(package.terms.get("limits") or {}),
        used=usage,
        lines=[BudgetLine(service_id=s.pk, quantity=q, unit_price=p) for s, q, p in lines],
        appointments=appointments,
    )
