"""Fixtures for patient packages and their ledger.

Two ways to move a package's sessions:

- `units` drives the ledger's consumption steps on their own, the way
  `scheduling.package_sessions` does (a transaction, the package and the
  session's unit locked), with opaque sessions (`session()`): the ledger
  needs no appointment, and these tests show it;
- `book_session` / `set_status` go through scheduling's entry points with a
  real appointment, as staff do.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from clinic.models import User
from clinic.tenancy import organization_scope
from packages.catalog.budget import AppointmentLine
from packages.catalog.models import Service
from packages.patient_packages import consumption, ledger
from packages.patient_packages.consumption import Session
from packages.patient_packages.locks import lock_live_usages, lock_packages
from packages.patient_packages.models import PackageUsage, PatientPackage
from patients.models import Patient
from scheduling import services
from scheduling.models import Appointment
from tests.packages.factories import ServiceFactory
from tests.patients.factories import PatientFactory

_minutes = itertools.count()
_sessions = itertools.count(10_000)


def _next_start() -> dt.datetime:
    return timezone.now().replace(second=0, microsecond=0) + dt.timedelta(hours=1 + next(_minutes))


def session(start: dt.datetime | None = None, lines: tuple[AppointmentLine, ...] = ()) -> Session:
    """An opaque session, as the ledger sees one: an id, a start, its lines."""
    return Session(next(_sessions), start or _next_start(), lines)


@dataclass
class Units:
    """The consumption steps, each in its own transaction with its locks, in
    the scope of one organization."""

    organization_id: int

    def _run(self, step: Callable[..., object], package: PatientPackage | None, s: Session, **kwargs: object):
        with organization_scope(self.organization_id), transaction.atomic():
            usage = PackageUsage.objects.filter(session=s.id, state__in=["reserved", "debited"]).first()
            target = package.pk if package is not None else (usage.package_id if usage else None)
            if target is None:
                return None
            locked = lock_packages([target])[target]
            usage = lock_live_usages([s.id]).get(s.id)
            return step(locked, usage, session=s, **kwargs)

    def reserve(self, package: PatientPackage, s: Session, actor: User | None = None) -> PackageUsage:
        return self._run(consumption.reserve, package, s, actor=actor)  # type: ignore[return-value]

    def debit(self, package: PatientPackage, s: Session, actor: User | None = None) -> PackageUsage:
        return self._run(consumption.debit, package, s, actor=actor)  # type: ignore[return-value]

    def credit(self, package: PatientPackage, s: Session, actor: User | None = None) -> PackageUsage | None:
        def step(locked, usage, **kwargs):
            return None if usage is None else consumption.credit(locked, usage, **kwargs)

        return self._run(step, package, s, actor=actor)  # type: ignore[return-value]

    def release(self, s: Session, actor: User | None = None) -> PackageUsage | None:
        def step(locked, usage, **kwargs):
            return None if usage is None else consumption.release(locked, usage, **kwargs)

        return self._run(step, None, s, actor=actor)  # type: ignore[return-value]


@pytest.fixture
def units(tenant_a) -> Units:
    return Units(tenant_a.organization.pk)


@pytest.fixture
def sessions() -> Callable[..., Session]:
    return session


def make_appointment(patient: Patient, start: dt.datetime | None = None) -> Appointment:
    """An appointment without package or lines, written directly (for the
    API's validation and isolation tests)."""
    start = start or _next_start()
    with scopes_disabled():
        return Appointment.objects.create(
            organization_id=patient.organization_id,
            clinic=patient.clinic,
            patient=patient,
            start=start,
            end=start + dt.timedelta(minutes=50),
        )


def _service(patient: Patient) -> Service:
    with scopes_disabled():
        found = Service.objects.filter(clinic=patient.clinic, code="LEDGER-SES").first()
    return found or ServiceFactory(clinic=patient.clinic, code="LEDGER-SES", name="Sessão", price=Decimal("100.00"))


def book_session(
    package: PatientPackage | None,
    *,
    patient: Patient | None = None,
    start: dt.datetime | None = None,
    status: str = "scheduled",
    actor: User | None = None,
) -> Appointment:
    """Book an appointment through scheduling, against `package` (or none)."""
    patient = patient or package.patient  # type: ignore[union-attr]
    with organization_scope(patient.organization_id):
        return services.appointment_book(
            clinic=patient.clinic,
            patient=patient,
            start=start or _next_start(),
            lines=[services.LineInput(_service(patient))],
            actor=actor,
            status=status,
            patient_package=package,
        ).appointment


def set_status(appointment: Appointment, status: str, actor: User | None = None) -> Appointment:
    with organization_scope(appointment.organization_id):
        return services.appointment_set_status(appointment=appointment, status=status, actor=actor)


@pytest.fixture
def patient(tenant_a) -> Patient:
    return PatientFactory(clinic=tenant_a.central, full_name="Maria Ledger")


@pytest.fixture
def foreign_patient_b(tenant_b) -> Patient:
    return PatientFactory(clinic=tenant_b.central, full_name="Bruno Outsider")


@pytest.fixture
def link(patient, alice) -> Callable[..., PatientPackage]:
    """Link a direct package (sessions, total) to `patient` as alice."""

    def _link(sessions: int = 4, total: str = "1000.00", **kwargs) -> PatientPackage:
        target = kwargs.pop("patient", patient)
        with organization_scope(target.organization_id):
            return ledger.package_link(
                patient=target,
                clinic=target.clinic,
                actor=alice if target.organization_id == alice.organization_id else None,
                sessions=sessions,
                total_price=Decimal(total),
                **kwargs,
            )

    return _link


@pytest.fixture
def catalog_monthly(tenant_a):
    """A monthly Pilates plan template of 8 sessions for 480.00."""
    from tests.packages.factories import make_template

    pilates = ServiceFactory(clinic=tenant_a.central, name="Pilates", price=Decimal("60.00"))
    return make_template(
        tenant_a.central, [(pilates, 8)], name="Pilates 2x", price=Decimal("480.00"), renewal="monthly"
    )
