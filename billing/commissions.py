"""Professionals' commissions (B5): every session debited from a package
with a commission earns its professional the package's commission (a percent
of the session's value in the package, or a fixed amount); a session
credited back reverses it, in the period it is credited back. The figures
come from the package ledger's debit and credit entries, so they agree with
the packages' balances by construction.

Sessions without a package earn nothing here: services carry no commission
of their own (the catalog's commission lives on package templates)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Q

from clinic import money
from clinic.models import Clinic, Professional
from packages.catalog.models import CommissionKind
from packages.patient_packages.models import EntryKind, LedgerEntry
from scheduling.models import Appointment

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class CommissionLine:
    when: dt.datetime  # the debit or the credit
    session: int  # the appointment's id (kept in the ledger after a deletion)
    session_start: dt.datetime | None
    patient: str
    package: str  # its number
    value: Decimal  # the session's value in the package (negative: credited back)
    commission: Decimal  # negative for a reversal
    reversal: bool


@dataclass
class ProfessionalCommissions:
    professional_id: int | None
    name: str
    lines: list[CommissionLine] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.commission for line in self.lines), ZERO)

    @property
    def sessions(self) -> int:
        return sum(-1 if line.reversal else 1 for line in self.lines)


def commission_report(
    *, clinic: Clinic, start: dt.date, end: dt.date, professional: int | None = None
) -> list[ProfessionalCommissions]:
    """Per professional (by name), the commissions of the clinic's packages
    debited or credited back between `start` and `end` (the clinic's days)."""
    tz = ZoneInfo(clinic.time_zone)
    since = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    entries = list(
        LedgerEntry.objects.filter(
            Q(kind=EntryKind.DEBIT) | Q(kind=EntryKind.CREDIT),
            package__clinic=clinic,
            created_at__gte=since,
            created_at__lt=until,
        )
        .exclude(package__commission_kind=CommissionKind.NONE)
        .select_related("package", "package__patient")
        .order_by("created_at", "pk")
    )
    appointments = {
        a.pk: a
        for a in Appointment.objects.filter(pk__in={e.session for e in entries if e.session}).only(
            "pk", "professional_id", "start"
        )
    }
    names = dict(Professional.objects.filter(clinic=clinic).values_list("pk", "name"))
    report: dict[int | None, ProfessionalCommissions] = {}
    for entry in entries:
        appointment = appointments.get(entry.session) if entry.session else None
        who = appointment.professional_id if appointment else None
        if professional is not None and who != professional:
            continue
        package = entry.package
        value = -entry.d_amount_open  # a debit lowers the open value by the session's value
        earned = money.commission(package.commission_kind, package.commission_value, abs(value))
        reversal = entry.kind == EntryKind.CREDIT
        line = CommissionLine(
            when=entry.created_at, session=entry.session or 0,
            session_start=appointment.start if appointment else None, patient=package.patient.full_name,
            package=package.number, value=value, commission=-earned if reversal else earned, reversal=reversal,
        )  # fmt: skip
        if who not in report:
            report[who] = ProfessionalCommissions(who, names.get(who, "") if who else "")
        report[who].lines.append(line)
    return sorted(report.values(), key=lambda row: (row.professional_id is None, row.name))
