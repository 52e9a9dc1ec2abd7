"""Fixtures for patient packages and their ledger."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from clinic.tenancy import organization_scope
from packages import ledger
from packages.models import PatientPackage
from patients.models import Patient
from scheduling.models import Appointment
from tests.patients.factories import PatientFactory

_minutes = itertools.count()


def make_appointment(patient: Patient, start: dt.datetime | None = None) -> Appointment:
    if start is None:
        start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(hours=1 + next(_minutes))
    with scopes_disabled():
        return Appointment.objects.create(
            organization_id=patient.organization_id,
            clinic=patient.clinic,
            patient=patient,
            start=start,
            end=start + dt.timedelta(minutes=50),
        )


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
def appointment(patient) -> Callable[..., Appointment]:
    return lambda start=None: make_appointment(patient, start)


@pytest.fixture
def catalog_monthly(tenant_a):
    """A monthly Pilates plan template of 8 sessions for 480.00."""
    from tests.packages.factories import ServiceFactory, make_template

    pilates = ServiceFactory(clinic=tenant_a.central, name="Pilates", price=Decimal("60.00"))
    return make_template(
        tenant_a.central, [(pilates, 8)], name="Pilates 2x", price=Decimal("480.00"), renewal="monthly"
    )
