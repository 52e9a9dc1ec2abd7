"""Patients' document numbers (issue 14): a CPF is checked with python-stdnum
in a Brazilian clinic and stored formatted; other countries' numbers are kept
as typed. Phone fields explain themselves without "E.164"."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from clinic.models import Clinic
from patients.models import Patient
from tests.conftest import api_client, login


def _patient(organization, name: str) -> Patient | None:
    with scopes_disabled():
        return Patient.objects.filter(organization=organization, full_name=name).first()


@pytest.fixture
def german_clinic(tenant_a) -> Clinic:
    clinic = tenant_a.central
    with scopes_disabled():
        Clinic.objects.filter(pk=clinic.pk).update(country="DE", time_zone="Europe/Berlin", currency="EUR")
        clinic.refresh_from_db()
    return clinic


@pytest.mark.django_db
def test_invalid_cpf_is_refused_in_a_brazilian_clinic(bob, physio, tenant_a) -> None:
    response = login(bob).post(
        "/patients/new/", {"full_name": "Ana", "professionals": [physio.pk], "document": "123.456.789-00"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"document": ["“123.456.789-00” is not a valid CPF."]}
    assert _patient(tenant_a.organization, "Ana") is None


@pytest.mark.django_db
def test_invalid_guardian_cpf_is_refused_and_the_api_says_the_same(bob, physio, tenant_a) -> None:
    body = api_client(bob).post(
        "/api/v1/patients/",
        {"full_name": "Ana", "professionals": [physio.pk], "guardian": {"name": "Rui", "document": "111.222.333-44"}},
        format="json",
    )
    assert body.status_code == 400
    assert body.json()["fields"] == {"guardian_document": ["“111.222.333-44” is not a valid CPF."]}


@pytest.mark.django_db
def test_valid_cpf_is_stored_formatted_and_found_by_its_digits(bob, physio, tenant_a) -> None:
    response = login(bob).post(
        "/patients/new/",
        {"full_name": "Ana", "professionals": [physio.pk], "document": "52998224725",
         "guardian_name": "Rui", "guardian_document": "529 982 247 25"},
    )  # fmt: skip
    assert response.status_code == 302
    ana = _patient(tenant_a.organization, "Ana")
    assert (ana.document, ana.document_normalized, ana.guardian_document) == (
        "529.982.247-25", "52998224725", "529.982.247-25"
    )  # fmt: skip
    page = login(bob).get(f"/patients/{ana.pk}/").content.decode()
    assert "529.982.247-25" in page
    assert "Ana" in login(bob).get("/patients/?q=529982").content.decode()


@pytest.mark.django_db
def test_a_german_clinic_keeps_any_document_number(bob, physio, german_clinic, tenant_a) -> None:
    response = login(bob).post(
        "/patients/new/", {"full_name": "Anna", "professionals": [physio.pk], "document": "123.456.789-00"}
    )
    assert response.status_code == 302
    anna = _patient(tenant_a.organization, "Anna")
    assert anna.document == "123.456.789-00"
    # No CPF hint on a German clinic's form either.
    assert "CPF" not in login(bob).get("/patients/new/").content.decode()


@pytest.mark.django_db
def test_the_brazilian_form_explains_document_and_phone_without_jargon(bob, physio, joao) -> None:
    for url in ("/patients/new/", f"/patients/{joao.pk}/edit/"):
        content = login(bob).get(url).content.decode()
        assert "E.164" not in content
        assert "CPF, e.g. 123.456.789-09." in content
        assert "With the area code, e.g. (11) 96123-4567. Include the country code for numbers abroad." in content
    # The stored number is shown as people write it, not as stored.
    edit = login(bob).get(f"/patients/{joao.pk}/edit/").content.decode()
    assert 'value="+55 11 98765-4321"' in edit


@pytest.mark.django_db
def test_the_german_form_gives_a_german_phone_example(bob, physio, german_clinic) -> None:
    content = login(bob).get("/patients/new/").content.decode()
    assert "With the area code, e.g. 01512 3456789. Include the country code for numbers abroad." in content
    assert "E.164" not in content
