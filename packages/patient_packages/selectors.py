"""Reads of patient packages: lists, a package's ledger, its balances."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from packages.catalog.budget import Budget
from packages.catalog.models import Renewal
from packages.patient_packages import budgets
from packages.patient_packages.models import EntryKind, LedgerEntry, PackageStatus, PatientPackage


def patient_packages(*, patient: Any | None = None, include_deleted: bool = False) -> QuerySet[PatientPackage]:
    """Patient packages, newest first, with what their list rows show."""
    queryset = PatientPackage.objects.select_related("patient", "clinic", "template")
    if patient is not None:
        queryset = queryset.filter(patient=patient)
    if not include_deleted:
        queryset = queryset.filter(deleted_at__isnull=True)
    return queryset.order_by("-created_at", "-pk")


def package_entries(package: PatientPackage) -> QuerySet[LedgerEntry]:
    """The package's ledger in order, oldest first."""
    return LedgerEntry.objects.filter(package=package).select_related("actor").order_by("seq")


def patient_package_rows(*, patient: Any) -> QuerySet[PatientPackage]:
    """The patient's packages for their list page, each with `was_debited`:
    whether a session was ever debited, which decides between offering
    "delete" and "deactivate" (K4). One query whatever the number of rows."""

    debits = LedgerEntry.objects.filter(package=OuterRef("pk"), kind=EntryKind.DEBIT)
    return patient_packages(patient=patient).select_related("room").annotate(was_debited=Exists(debits))


# The home page's reads (issue 14): each a fixed number of queries.


@dataclass(frozen=True)
class RunningOut:
    """An active package the patient should hear about: few sessions left to
    book, or its validity ending (or ended: nothing expires it yet, X1)."""

    package: PatientPackage
    free: int
    expires: dt.date | None
    low: bool  # few sessions free to book (a monthly plan never: it renews)


# "About to run out": at most this many sessions free to book...
RUNNING_OUT_FREE = 1
# ... or valid for at most this many more days.
RUNNING_OUT_DAYS = 14
# The limits of a package without any (as they are copied onto it).
EMPTY_LIMITS = Budget().as_dict()


def package_expiry(package: PatientPackage, time_zone: str) -> dt.date | None:
    """The last day of the package's validity, counted from the day it was
    linked in the clinic's time zone (as booking orders packages, X5)."""
    if not package.validity_days:
        return None
    linked = timezone.localtime(package.created_at, ZoneInfo(time_zone)).date()
    return linked + dt.timedelta(days=package.validity_days)


def packages_running_out(
    *, clinic_id: int, today: dt.date, time_zone: str, limit: int = 8
) -> tuple[int, list[RunningOut]]:
    """The clinic's active packages with at most `RUNNING_OUT_FREE` sessions
    free to book (budget limits included; a monthly plan renews, so only its
    validity counts) or whose validity ends within `RUNNING_OUT_DAYS`: how
    many, and the first `limit`, fewest free first, then the soonest to
    expire. At most three queries: the candidates, then their balances."""
    horizon = today + dt.timedelta(days=RUNNING_OUT_DAYS)
    # The candidates: few sessions available, a validity, or budget limits
    # that may hold "free to book" below what is available; the exact rule
    # is applied to them below (a validity's end is a date in the clinic's
    # time zone, which SQL cannot add up the same way on every database).
    limited = Q(terms__has_key="limits") & ~Q(terms__limits=EMPTY_LIMITS)
    candidates = list(
        PatientPackage.objects.filter(clinic_id=clinic_id, status=PackageStatus.ACTIVE, deleted_at__isnull=True)
        .annotate(available=F("sessions_total") - F("sessions_used") - F("sessions_booked"))
        .filter(Q(available__lte=RUNNING_OUT_FREE) | Q(validity_days__isnull=False) | limited)
        .select_related("patient", "clinic")
        .order_by("pk")
    )
    balances = budgets.balances(candidates)
    found = []
    for package in candidates:
        free_to_book, expires = balances[package.pk].free, package_expiry(package, time_zone)
        low = free_to_book <= RUNNING_OUT_FREE and package.renewal != Renewal.MONTHLY
        if low or (expires is not None and expires <= horizon):
            found.append(RunningOut(package, free_to_book, expires, low))
    found.sort(key=lambda row: (not row.low, row.free, row.expires or dt.date.max, row.package.pk))
    return len(found), found[:limit]


@dataclass(frozen=True)
class Sold:
    packages: int
    value: Decimal


def packages_sold(*, clinic_id: int, periods: Sequence[tuple[dt.datetime, dt.datetime]]) -> list[Sold]:
    """Per period [start, end), the packages the clinic linked (sold) and
    their value, deleted ones left out: one query for all the periods."""
    if not periods:
        return []
    sums: dict[str, Any] = {}
    for index, (start, end) in enumerate(periods):
        when = Q(created_at__gte=start, created_at__lt=end)
        sums[f"count_{index}"] = Count("pk", filter=when)
        sums[f"value_{index}"] = Coalesce(
            Sum("amount_total", filter=when), Value(Decimal("0.00")), output_field=DecimalField(max_digits=14,
                                                                                                 decimal_places=2)
        )  # fmt: skip
    earliest, latest = min(start for start, _end in periods), max(end for _start, end in periods)
    row = PatientPackage.objects.filter(
        clinic_id=clinic_id, deleted_at__isnull=True, created_at__gte=earliest, created_at__lt=latest
    ).aggregate(**sums)
    return [Sold(row[f"count_{index}"], row[f"value_{index}"]) for index in range(len(periods))]
