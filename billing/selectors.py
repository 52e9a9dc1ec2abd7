"""Billing's reads: the receivables list (B1) with its totals, a patient's
financial summary, payments with what they paid."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from billing.models import (
    MONEY_METHODS,
    ZERO,
    Allocation,
    Method,
    PatientAccount,
    Payment,
    Receivable,
    ReceivableStatus,
    Refund,
)
from scheduling.models import AppointmentLine

_MONEY = DecimalField(max_digits=14, decimal_places=2)

# The `status` filter: what is still owed (open or partly paid), what is
# settled, or everything (cancelled included).
STATUS_FILTERS = {
    "open": Q(status__in=[ReceivableStatus.OPEN, ReceivableStatus.PARTIAL]),
    "paid": Q(status=ReceivableStatus.PAID),
    "partial": Q(status=ReceivableStatus.PARTIAL),
    "cancelled": Q(status=ReceivableStatus.CANCELLED),
    "all": Q(),
}


@dataclass(frozen=True)
class ReceivableFilters:
    patient: int | None = None
    status: str = "all"
    start: dt.date | None = None
    end: dt.date | None = None
    service: int | None = None
    professional: int | None = None
    clinic: int | None = None
    patient_package: int | None = None
    kind: str | None = None  # "session" or "package"; None: both


def receivable_rows(filters: ReceivableFilters) -> QuerySet[Receivable]:
    rows = Receivable.objects.filter(STATUS_FILTERS.get(filters.status, Q()))
    if filters.patient:
        rows = rows.filter(patient_id=filters.patient)
    if filters.start:
        rows = rows.filter(due_date__gte=filters.start)
    if filters.end:
        rows = rows.filter(due_date__lte=filters.end)
    if filters.professional:
        rows = rows.filter(professional_id=filters.professional)
    if filters.clinic:
        rows = rows.filter(clinic_id=filters.clinic)
    if filters.patient_package:
        rows = rows.filter(patient_package_id=filters.patient_package)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if filters.service:
        lines = AppointmentLine.objects.filter(appointment_id=OuterRef("appointment_id"), service_id=filters.service)
        rows = rows.filter(Exists(lines))
    return rows


def receivable_list(filters: ReceivableFilters) -> QuerySet[Receivable]:
    """Receivables by due date, with what a row shows (patient, professional,
    session time, package number) in the same query."""
    return (
        receivable_rows(filters)
        .select_related("patient", "professional", "appointment", "patient_package", "clinic")
        .order_by("due_date", "pk")
    )


@dataclass(frozen=True)
class Totals:
    amount: Decimal
    paid: Decimal
    open: Decimal
    count: int


def receivable_totals(filters: ReceivableFilters) -> Totals:
    """The list's totals in one query; cancelled rows count for nothing."""
    live = ~Q(status=ReceivableStatus.CANCELLED)
    sums = receivable_rows(filters).aggregate(
        total_amount=Coalesce(Sum("amount", filter=live), Value(ZERO), output_field=_MONEY),
        total_paid=Coalesce(Sum("paid", filter=live), Value(ZERO), output_field=_MONEY),
        rows=Count("pk"),
    )
    amount, paid = sums["total_amount"], sums["total_paid"]
    return Totals(amount, paid, amount - paid, sums["rows"])


@dataclass(frozen=True)
class PatientSummary:
    open: Decimal
    paid: Decimal
    credit: Decimal
    overdue: Decimal


def patient_summary(patient_id: int, today: dt.date) -> PatientSummary:
    live = ~Q(status=ReceivableStatus.CANCELLED)
    sums = Receivable.objects.filter(patient_id=patient_id).aggregate(
        total_amount=Coalesce(Sum("amount", filter=live), Value(ZERO), output_field=_MONEY),
        total_paid=Coalesce(Sum("paid", filter=live), Value(ZERO), output_field=_MONEY),
        overdue_amount=Coalesce(
            Sum(Case(When(live & Q(due_date__lt=today), then=F("amount") - F("paid")), default=Value(ZERO))),
            Value(ZERO),
            output_field=_MONEY,
        ),
    )
    credit = PatientAccount.objects.filter(patient_id=patient_id).values_list("credit", flat=True).first() or ZERO
    amount, paid = sums["total_amount"], sums["total_paid"]
    return PatientSummary(amount - paid, paid, credit, sums["overdue_amount"])


def payment_list() -> QuerySet[Payment]:
    allocations = Allocation.objects.order_by("pk")
    return (
        Payment.objects.select_related("patient", "patient_package", "received_by", "clinic")
        .prefetch_related(
            Prefetch("allocations", queryset=allocations), Prefetch("refunds", queryset=Refund.objects.order_by("pk"))
        )
        .order_by("-received_at", "-pk")
    )


def payment_detail_allocations(payment: Payment) -> QuerySet[Allocation]:
    return Allocation.objects.filter(payment=payment).select_related("receivable").order_by("pk")


def is_money(payment: Payment) -> bool:
    return payment.method != Method.PACKAGE


@dataclass(frozen=True)
class CashLine:
    method: str
    label: str
    received: Decimal
    refunded: Decimal
    payments: int

    @property
    def net(self) -> Decimal:
        return self.received - self.refunded


def cash_summary(*, clinic_id: int, day: dt.date, time_zone: str) -> list[CashLine]:
    """What the clinic received and gave back on `day` (its own time zone),
    per method, for the evening closing. Sessions paid from a package are
    listed as such: no money changed hands."""
    tz = ZoneInfo(time_zone)
    since = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    until = since + dt.timedelta(days=1)
    received = dict(
        (method, (total, count))
        for method, total, count in Payment.objects.filter(
            clinic_id=clinic_id, received_at__gte=since, received_at__lt=until
        )
        .values("method")
        .annotate(total=Sum("amount"), count=Count("pk"))
        .values_list("method", "total", "count")
    )
    refunded = dict(
        Refund.objects.filter(payment__clinic_id=clinic_id, created_at__gte=since, created_at__lt=until)
        .values("payment__method")
        .annotate(total=Sum("amount"))
        .values_list("payment__method", "total")
    )
    return [
        CashLine(
            method.value,
            str(method.label),
            received.get(method, (ZERO, 0))[0],
            refunded.get(method, ZERO),
            received.get(method, (ZERO, 0))[1],
        )
        for method in Method
    ]


# The home page's reads (issue 14): each a fixed number of queries.


@dataclass(frozen=True)
class Unpaid:
    """What is still owed on the clinic's receivables due today and before
    today (overdue), and the first rows to take payment for."""

    today_count: int
    today_open: Decimal
    overdue_count: int
    overdue_open: Decimal
    rows: Sequence[Receivable]

    @property
    def count(self) -> int:
        return self.today_count + self.overdue_count


def unpaid_due(*, clinic_id: int, today: dt.date, limit: int = 8) -> Unpaid:
    """Open and partly paid receivables of the clinic due today or overdue,
    in two queries: the sums, and the rows (today's first, by session time;
    then the overdue ones, the most recent first)."""
    rows = Receivable.objects.filter(STATUS_FILTERS["open"], clinic_id=clinic_id, due_date__lte=today)
    due_today, overdue = Q(due_date=today), Q(due_date__lt=today)
    owed = F("amount") - F("paid")
    sums = rows.aggregate(
        today_count=Count("pk", filter=due_today),
        today_open=Coalesce(Sum(owed, filter=due_today), Value(ZERO), output_field=_MONEY),
        overdue_count=Count("pk", filter=overdue),
        overdue_open=Coalesce(Sum(owed, filter=overdue), Value(ZERO), output_field=_MONEY),
    )
    # Today's by session time (a package's installment after them), then
    # the overdue ones, the most recent first.
    session_today = Case(When(due_today, then=F("appointment__start")), default=None, output_field=DateTimeField())
    listed = list(
        rows.select_related("patient", "appointment", "patient_package")
        .annotate(overdue=Case(When(overdue, then=Value(1)), default=Value(0)), session_today=session_today)
        .order_by("overdue", F("session_today").asc(nulls_last=True), "-due_date", "pk")[:limit]
    )
    return Unpaid(sums["today_count"], sums["today_open"], sums["overdue_count"], sums["overdue_open"], listed)


@dataclass(frozen=True)
class Received:
    """Money received in a period, less what was refunded of it."""

    received: Decimal
    refunded: Decimal

    @property
    def net(self) -> Decimal:
        return self.received - self.refunded


def money_received(*, clinic_id: int, periods: Sequence[tuple[dt.datetime, dt.datetime]]) -> list[Received]:
    """Per period [start, end), the money (cash, card, Pix, transfer) the
    clinic received and gave back; sessions paid from a package moved no
    money. Two queries for all the periods."""
    if not periods:
        return []
    earliest, latest = min(start for start, _end in periods), max(end for _start, end in periods)
    received_sums = {
        f"p{index}": Coalesce(
            Sum("amount", filter=Q(received_at__gte=start, received_at__lt=end)), Value(ZERO), output_field=_MONEY
        )
        for index, (start, end) in enumerate(periods)
    }
    refunded_sums = {
        f"p{index}": Coalesce(
            Sum("amount", filter=Q(created_at__gte=start, created_at__lt=end)), Value(ZERO), output_field=_MONEY
        )
        for index, (start, end) in enumerate(periods)
    }
    received = Payment.objects.filter(
        clinic_id=clinic_id, method__in=MONEY_METHODS, received_at__gte=earliest, received_at__lt=latest
    ).aggregate(**received_sums)
    refunded = Refund.objects.filter(
        payment__clinic_id=clinic_id, payment__method__in=MONEY_METHODS, created_at__gte=earliest, created_at__lt=latest
    ).aggregate(**refunded_sums)
    return [Received(received[f"p{index}"], refunded[f"p{index}"]) for index in range(len(periods))]
