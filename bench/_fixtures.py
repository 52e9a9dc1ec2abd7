"""A tenant to book in, and appointments booked against patient packages
through the service layer: what `ledger_debits.py` and `book_attend.py` share.

Importing it sets Django up (through `_harness`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal

import _harness  # noqa: F401  (first: sets Django up)
from django.utils import timezone

from clinic import resources, services
from clinic.models import Clinic, Organization, Professional, User
from clinic.tenancy import organization_scope
from packages.catalog.models import Service
from packages.catalog.services import service_create
from packages.patient_packages import ledger
from packages.patient_packages.models import PatientPackage
from patients import services as patient_services
from patients.models import Patient
from scheduling import services as scheduling
from scheduling.models import Appointment

SLOT_MINUTES = 30


@dataclass
class Tenant:
    """An organization with its central clinic (and built-in statuses), its
    owner (the actor of every write), one professional and one 30-minute
    service. `next_slot` is the professional's next free slot: every booking
    takes the following one, so none collides with another."""

    organization: Organization
    clinic: Clinic
    owner: User
    professional: Professional
    service: Service
    next_slot: dt.datetime
    patients: int = 0


def tenant_create(name: str = "Benchmark clinic", *, first_slot: dt.datetime | None = None) -> Tenant:
    """The tenant, booking from `first_slot` on (default: tomorrow at midnight,
    so that every booking is in the future, whatever the run's length)."""
    organization, clinic, owner = services.organization_create(
        name=name,
        owner_username="bench-owner",
        owner_password=secrets.token_urlsafe(16),
        clinic_name="Benchmark central",
    )
    with organization_scope(organization):
        professional = resources.professional_create(clinic=clinic, name="Marcos Pereira")
        service = service_create(
            clinic=clinic, name="Sessão de fisioterapia", code="FIS-SES", price=Decimal("100.00"),
            duration_minutes=SLOT_MINUTES,
        )  # fmt: skip
    if first_slot is None:
        first_slot = (timezone.now() + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return Tenant(organization, clinic, owner, professional, service, first_slot)


def patient_with_package(tenant: Tenant, *, sessions: int) -> tuple[Patient, PatientPackage]:
    """A new patient holding a new `sessions`-session package (100.00 a session),
    linked through `ledger.package_link`. Call inside the tenant's scope."""
    tenant.patients += 1
    patient = patient_services.patient_create(
        clinic=tenant.clinic,
        fields={"full_name": f"Paciente de Benchmark {tenant.patients:05d}"},
        professionals=[tenant.professional],
    )
    package = ledger.package_link(
        patient=patient, clinic=tenant.clinic, actor=tenant.owner, sessions=sessions,
        total_price=Decimal(sessions * 100),
    )  # fmt: skip
    return patient, package


def book(tenant: Tenant, patient: Patient, package: PatientPackage) -> Appointment:
    """`scheduling.services.appointment_book` of the tenant's service with its
    professional at the next free slot, reserving a session of `package`.
    Call inside the tenant's scope."""
    start = tenant.next_slot
    tenant.next_slot += dt.timedelta(minutes=SLOT_MINUTES)
    booking = scheduling.appointment_book(
        clinic=tenant.clinic,
        patient=patient,
        professional=tenant.professional,
        start=start,
        lines=[scheduling.LineInput(tenant.service)],
        actor=tenant.owner,
        patient_package=package,
    )
    return booking.appointment


def attend(tenant: Tenant, appointment: Appointment) -> Appointment:
    """`scheduling.services.appointment_set_status(status="attended")`: debits
    the appointment's package session. Call inside the tenant's scope."""
    return scheduling.appointment_set_status(appointment=appointment, status="attended", actor=tenant.owner)
