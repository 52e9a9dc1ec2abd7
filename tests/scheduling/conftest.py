from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.factories import ProfessionalFactory, RoomFactory
from tests.ledger.conftest import catalog_monthly, foreign_patient_b, link, patient  # noqa: F401  (shared fixtures)
from tests.packages.factories import ServiceFactory
from tests.patients.conftest import joao, physio  # noqa: F401  (shared fixtures)

SP = ZoneInfo("America/Sao_Paulo")


def at(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026) -> dt.datetime:
    """A time in São Paulo (the test clinics' zone)."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=SP)


@pytest.fixture
def therapist(tenant_a):
    return ProfessionalFactory(clinic=tenant_a.central, organization=tenant_a.organization, name="Renata Costa")


@pytest.fixture
def room_1(tenant_a):
    return RoomFactory(clinic=tenant_a.central, organization=tenant_a.organization, name="Sala 1")


@pytest.fixture
def physio_service(tenant_a):
    return ServiceFactory(
        clinic=tenant_a.central, name="Fisioterapia", price=Decimal("120.00"), duration_minutes=50, is_shared=True
    )


@pytest.fixture
def assessment(tenant_a):
    return ServiceFactory(clinic=tenant_a.central, name="Avaliação", price=Decimal("200.00"), duration_minutes=60)
