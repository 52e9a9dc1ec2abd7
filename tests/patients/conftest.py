from __future__ import annotations

import datetime as dt

import pytest
from django_scopes import scopes_disabled

from clinic.models import Professional
from patients.models import Patient
from tests.patients.factories import PatientFactory


def make_professional(clinic, name: str) -> Professional:
    with scopes_disabled():
        return Professional.objects.create(organization=clinic.organization, clinic=clinic, name=name)


@pytest.fixture
def physio(tenant_a) -> Professional:
    return make_professional(tenant_a.central, "Marcos Pereira")


@pytest.fixture
def psychologist(tenant_a) -> Professional:
    return make_professional(tenant_a.central, "Camila Rocha")


@pytest.fixture
def foreign_professional(tenant_b) -> Professional:
    return make_professional(tenant_b.central, "Outsider Professional")


@pytest.fixture
def joao(tenant_a, physio) -> Patient:
    return PatientFactory(
        clinic=tenant_a.central,
        full_name="João Conceição",
        birth_date=dt.date(1980, 5, 17),
        mobile="+5511987654321",
        document="123.456.789-09",
        document_normalized="12345678909",
        professionals=[physio],
    )


@pytest.fixture
def foreign_patient(tenant_b, foreign_professional) -> Patient:
    return PatientFactory(
        clinic=tenant_b.central,
        full_name="Beatriz Estrangeira",
        document="999.888.777-66",
        document_normalized="99988877766",
        professionals=[foreign_professional],
    )
