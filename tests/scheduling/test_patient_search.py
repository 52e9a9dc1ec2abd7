"""The booking modal's patient picker: the search view behind it
(`scheduling:patient-search`), and the modal keeping the chosen patient in its
hidden `patient` input across a preselection and a validation error."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scopes_disabled

from patients.models import AccessChannel, AccessLog, Patient
from scheduling.models import Appointment
from tests.conftest import login
from tests.patients.factories import PatientFactory
from tests.scheduling.test_pages import booking_data

pytestmark = pytest.mark.django_db

SEARCH = reverse("scheduling:patient-search")


def client_for(user) -> Client:
    client = login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def found(client: Client, term: str) -> list[int]:
    """The ids of the patients the picker offers for `term`, in order."""
    response = client.get(SEARCH, {"q": term})
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'data-patient-id="(\d+)"', response.content.decode())]


def make_patient(**fields) -> Patient:
    patient = PatientFactory(**fields)
    assert isinstance(patient, Patient)
    return patient


@pytest.fixture
def joao_b(tenant_b) -> Patient:
    """Another organization's namesake, with the same document and phone."""
    return make_patient(
        clinic=tenant_b.central,
        full_name="João Conceição",
        mobile="+5511987654321",
        document="123.456.789-09",
        document_normalized="12345678909",
    )


def test_search_finds_by_name_without_accents_document_and_phone(bob, joao, tenant_a) -> None:
    PatientFactory(clinic=tenant_a.central, full_name="Maria Souza", mobile="+5511911112222")
    client = client_for(bob)
    assert found(client, "joao conc") == [joao.pk]
    assert found(client, "CONCEIÇÃO") == [joao.pk]
    assert found(client, "123.456") == [joao.pk]
    assert found(client, "12345678909") == [joao.pk]
    assert found(client, "98765-4321") == [joao.pk]
    assert found(client, "nobody") == []


def test_search_shows_what_tells_namesakes_apart(bob, joao, tenant_a) -> None:
    branch_joao = make_patient(clinic=tenant_a.branch, full_name="João Conceição", birth_date=dt.date(2001, 2, 3))
    client = client_for(bob)
    assert found(client, "joao") == [joao.pk, branch_joao.pk]  # by name, then by id
    html = client.get(SEARCH, {"q": "joao"}).content.decode()
    assert html.count('<button type="button"') == 2
    assert "05/17/1980" in html
    assert "123.456.789-09" in html
    assert "+55 11 98765-4321" in html
    assert "02/03/2001" in html
    # A patient of another clinic of the organization says which.
    assert html.count("Alpha Branch") == 1


def test_search_lists_neither_another_organizations_nor_archived_patients(bob, charlie, joao, joao_b, tenant_a) -> None:
    PatientFactory(clinic=tenant_a.central, full_name="João Arquivado", is_active=False)
    client = client_for(bob)
    assert found(client, "joao") == [joao.pk]
    assert found(client, "12345678909") == [joao.pk]
    assert found(client, "987654321") == [joao.pk]
    assert found(client_for(charlie), "joao") == [joao_b.pk]


def test_search_needs_two_characters_and_lists_at_most_ten(bob, tenant_a) -> None:
    patients = [make_patient(clinic=tenant_a.central, full_name=f"Paciente {n:02d}") for n in range(12)]
    client = client_for(bob)
    assert found(client, "p") == []
    assert "No patient matches" not in client.get(SEARCH, {"q": "p"}).content.decode()
    assert found(client, "paciente") == [patient.pk for patient in patients[:10]]
    assert "Only the first 10 matches are shown" in client.get(SEARCH, {"q": "paciente"}).content.decode()
    assert "No patient matches “zz”." in client.get(SEARCH, {"q": "zz"}).content.decode()


def test_search_records_the_listed_patients_in_the_access_log(bob, joao, tenant_a) -> None:
    PatientFactory(clinic=tenant_a.central, full_name="Maria Souza")
    found(client_for(bob), "joao")
    with scopes_disabled():
        rows = list(AccessLog.objects.values_list("patient_id", "user_id", "channel", "what"))
    assert rows == [(joao.pk, bob.pk, AccessChannel.PAGE, "booking search")]


def _count(client: Client, term: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(SEARCH, {"q": term}).status_code == 200
    return len(context.captured_queries)


def test_search_query_count_does_not_grow(bob, tenant_a, tenant_b) -> None:
    PatientFactory(clinic=tenant_a.central, full_name="Paciente 00")
    PatientFactory(clinic=tenant_b.central, full_name="Paciente Outsider")
    client = client_for(bob)
    one = _count(client, "paciente")
    for n in range(1, 30):
        PatientFactory(clinic=tenant_a.branch if n % 2 else tenant_a.central, full_name=f"Paciente {n:02d}")
    assert _count(client, "paciente") == one


def test_search_needs_the_booking_permission(bob, joao, tenant_a) -> None:
    tenant_a.organization.permission_overrides = {"book_appointments": ["owner"]}
    tenant_a.organization.save()
    client = client_for(bob)
    assert client.get(SEARCH, {"q": "joao"}).status_code == 403
    assert client.get(reverse("scheduling:book")).status_code == 403
    with scopes_disabled():
        assert not AccessLog.objects.exists()
    assert Client().get(SEARCH, {"q": "joao"}).status_code == 302


# The modal keeps the chosen patient ----------------------------------------------------------------


def hidden_patient(html: str) -> str:
    match = re.search(r'<input type="hidden" name="patient"(?: value="(\d*)")? id="id_patient">', html)
    assert match, "the modal has the hidden patient input"
    return match.group(1) or ""


def chosen_name(html: str) -> str:
    match = re.search(r'data-testid="patient-chosen"[^>]*>([^<]*)</output>', html)
    assert match
    return match.group(1)


def test_modal_shows_the_preselected_patient(bob, joao) -> None:
    html = client_for(bob).get(reverse("scheduling:book"), {"patient": joao.pk}).content.decode()
    assert hidden_patient(html) == str(joao.pk)
    assert chosen_name(html) == "João Conceição"


def test_modal_drops_a_preselected_patient_it_cannot_book(bob, tenant_a, joao_b) -> None:
    archived = make_patient(clinic=tenant_a.central, full_name="Ana Arquivada", is_active=False)
    client = client_for(bob)
    for patient in (archived, joao_b):
        html = client.get(reverse("scheduling:book"), {"patient": patient.pk}).content.decode()
        assert hidden_patient(html) == ""
        assert chosen_name(html) == ""
        assert patient.full_name not in html


def test_modal_keeps_the_chosen_patient_after_a_validation_error(bob, joao, physio_service) -> None:
    data = booking_data(joao, physio_service, start="")
    response = client_for(bob).post(reverse("scheduling:book"), data)
    assert "HX-Trigger" not in response.headers
    html = response.content.decode()
    assert "This field is required." in html
    assert hidden_patient(html) == str(joao.pk)
    assert chosen_name(html) == "João Conceição"


@pytest.mark.parametrize("which", ["foreign", "archived"])
def test_booking_refuses_a_patient_id_it_cannot_book(which, bob, tenant_a, joao_b, physio_service) -> None:
    patient = joao_b if which == "foreign" else make_patient(clinic=tenant_a.central, is_active=False)
    response = client_for(bob).post(reverse("scheduling:book"), booking_data(patient, physio_service))
    assert "HX-Trigger" not in response.headers
    html = response.content.decode()
    assert re.search(r'<div class="invalid-feedback d-block">Select a valid choice\.', html)
    assert chosen_name(html) == ""
    with scopes_disabled():
        assert not Appointment.objects.exists()
