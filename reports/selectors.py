"""The general package report (R1): one row per package with seed 001's
columns, filtered, sorted and totalled in the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from packages.patient_packages.models import PackageUsage, PatientPackage, UsageState
from scheduling.models import Appointment

ZERO = Decimal("0.00")
_MONEY = DecimalField(max_digits=14, decimal_places=2)

# ?sort= values and what they order by (a leading "-" reverses).
SORTS = {
    "linked": ("created_at", "pk"),
    "patient": ("patient__full_name", "pk"),
    "number": ("number", "pk"),
    "status": ("status", "pk"),
    "total": ("amount_total", "pk"),
    "open": ("amount_open", "pk"),
    "sessions": ("sessions_total", "pk"),
    "used": ("sessions_used", "pk"),
    "remaining": ("remaining", "pk"),
    "last": ("last_session", "pk"),
}


@dataclass(frozen=True)
class PackageFilters:
    status: str = ""
    start: dt.date | None = None
    end: dt.date | None = None
    clinic: int | None = None
    professional: int | None = None
    patient: int | None = None
    template: int | None = None
    sort: str = "-linked"
    time_zone: str = "America/Sao_Paulo"


def package_report_rows(filters: PackageFilters) -> QuerySet[PatientPackage]:
    """Live packages matching the filters, each with `remaining` and
    `last_session` (the start of its last debited session), sorted."""
    rows = PatientPackage.objects.filter(deleted_at__isnull=True)
    if filters.status:
        rows = rows.filter(status=filters.status)
    tz = ZoneInfo(filters.time_zone)
    if filters.start:
        rows = rows.filter(created_at__gte=dt.datetime.combine(filters.start, dt.time.min, tzinfo=tz))
    if filters.end:
        rows = rows.filter(
            created_at__lt=dt.datetime.combine(filters.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        )
    if filters.clinic:
        rows = rows.filter(clinic_id=filters.clinic)
    if filters.patient:
        rows = rows.filter(patient_id=filters.patient)
    if filters.template:
        rows = rows.filter(template_id=filters.template)
    if filters.professional:
        sessions = Appointment.objects.filter(patient_package=OuterRef("pk"), professional_id=filters.professional)
        rows = rows.filter(Exists(sessions))
    last = (
        PackageUsage.objects.filter(package=OuterRef("pk"), state=UsageState.DEBITED)
        .order_by()
        .values("package")
        .annotate(last=Max("session_start"))
        .values("last")
    )
    rows = rows.annotate(
        remaining=F("sessions_total") - F("sessions_used"), last_session=Subquery(last)
    ).select_related("patient", "clinic", "template")
    key = filters.sort.lstrip("-")
    order = SORTS.get(key, SORTS["linked"])
    descending = filters.sort.startswith("-") if key in SORTS else True
    return rows.order_by(*(f"-{name}" if descending else name for name in order))


@dataclass(frozen=True)
class ReportTotals:
    packages: int
    amount_total: Decimal
    amount_open: Decimal
    sessions_total: int
    sessions_used: int
    sessions_remaining: int


def package_report_totals(filters: PackageFilters) -> ReportTotals:
    sums = (
        package_report_rows(filters)
        .order_by()
        .aggregate(
            packages=Count("pk"),
            total=Coalesce(Sum("amount_total"), Value(ZERO), output_field=_MONEY),
            open_value=Coalesce(Sum("amount_open"), Value(ZERO), output_field=_MONEY),
            sessions=Coalesce(Sum("sessions_total"), Value(0), output_field=IntegerField()),
            used=Coalesce(Sum("sessions_used"), Value(0), output_field=IntegerField()),
        )
    )
    return ReportTotals(
        sums["packages"], sums["total"], sums["open_value"], sums["sessions"], sums["used"],
        sums["sessions"] - sums["used"],
    )  # fmt: skip


def session_card_rows(package: PatientPackage) -> list[Appointment]:
    """Every appointment of the package, whatever its status (seed 000), in order."""
    return list(
        Appointment.objects.filter(patient_package=package).select_related("professional").order_by("start", "pk")
    )


@dataclass(frozen=True)
class SalesLine:
    name: str  # the template's name, or "" for direct packages
    packages: int
    value: Decimal


@dataclass(frozen=True)
class UsageLine:
    name: str
    sessions: int
    value: Decimal


@dataclass(frozen=True)
class SalesAndUsage:
    sold: list[SalesLine]
    used: list[UsageLine]
    running_out: Sequence[PatientPackage]  # each with `free` and `expires`

    @property
    def sold_packages(self) -> int:
        return sum(line.packages for line in self.sold)

    @property
    def sold_value(self) -> Decimal:
        return sum((line.value for line in self.sold), ZERO)

    @property
    def used_sessions(self) -> int:
        return sum(line.sessions for line in self.used)

    @property
    def used_value(self) -> Decimal:
        return sum((line.value for line in self.used), ZERO)


def sales_and_usage(
    *, clinic_id: int, start: dt.date, end: dt.date, time_zone: str, free_at_most: int = 2, expiring_days: int = 30
) -> SalesAndUsage:
    """Packages sold in the period with their value, sessions used (debited
    less credited back) with theirs, and the active packages a receptionist
    should call about: at most `free_at_most` sessions left to book, or
    expiring within `expiring_days`."""
    from django.db.models import DateTimeField, DurationField, ExpressionWrapper, Q

    from packages.patient_packages.models import EntryKind, LedgerEntry, PackageStatus

    tz = ZoneInfo(time_zone)
    since = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    sold = (
        PatientPackage.objects.filter(
            clinic_id=clinic_id, deleted_at__isnull=True, created_at__gte=since, created_at__lt=until
        )
        .values("template__name")
        .annotate(packages=Count("pk"), value=Sum("amount_total"))
        .order_by("-value", "template__name")
    )
    used = (
        LedgerEntry.objects.filter(
            package__clinic_id=clinic_id,
            kind__in=[EntryKind.DEBIT, EntryKind.CREDIT],
            created_at__gte=since,
            created_at__lt=until,
        )
        .values("package__template__name")
        .annotate(sessions=Sum("d_sessions_used"), value=Sum("d_amount_open"))
        .order_by("package__template__name")
    )
    now = dt.datetime.now(tz)
    expires = ExpressionWrapper(
        F("created_at") + ExpressionWrapper(F("validity_days") * dt.timedelta(days=1), output_field=DurationField()),
        output_field=DateTimeField(),
    )
    free = F("sessions_total") - F("sessions_used") - F("sessions_booked")
    running_out = list(
        PatientPackage.objects.filter(clinic_id=clinic_id, status=PackageStatus.ACTIVE, deleted_at__isnull=True)
        .annotate(free=free, expires=expires)
        .filter(
            Q(free__lte=free_at_most)
            | Q(validity_days__isnull=False, expires__lt=now + dt.timedelta(days=expiring_days))
        )
        .select_related("patient", "template")
        .order_by("free", "expires", "pk")[:500]
    )
    return SalesAndUsage(
        sold=[SalesLine(row["template__name"] or "", row["packages"], row["value"] or ZERO) for row in sold],
        used=[
            UsageLine(row["package__template__name"] or "", row["sessions"] or 0, -(row["value"] or ZERO))
            for row in used
        ],
        running_out=running_out,
    )
