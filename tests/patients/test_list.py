from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import api_client, login
from tests.patients.factories import PatientFactory


def _names(response) -> list[str]:
    return [p.full_name for p in response.context["page"].object_list]


@pytest.fixture
def people(tenant_a, physio):
    today = timezone.localdate()
    return {
        "joao": PatientFactory(
            clinic=tenant_a.central, full_name="João Conceição", mobile="+5511987654321", document="123.456.789-09",
            document_normalized="12345678909", professionals=[physio],
        ),
        "mae": PatientFactory(clinic=tenant_a.central, full_name="Márcia Ávila", professionals=[physio]),
        "kid": PatientFactory(
            clinic=tenant_a.central, full_name="Enzo Pequeno", birth_date=today - dt.timedelta(days=9 * 365),
            professionals=[physio],
        ),
        "kid_ok": PatientFactory(
            clinic=tenant_a.central, full_name="Lia Guardada", birth_date=today - dt.timedelta(days=9 * 365),
            guardian_name="Rosa Guardada", professionals=[physio],
        ),
        "old": PatientFactory(clinic=tenant_a.central, full_name="Arquivado Antigo", is_active=False),
        "new": PatientFactory(
            clinic=tenant_a.central, full_name="Auto Cadastro", self_registered=True, needs_review=True
        ),
        "branch": PatientFactory(clinic=tenant_a.branch, full_name="Filial Paciente"),
    }  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("Joao", ["João Conceição"]),
        ("joão conceicao", ["João Conceição"]),
        ("CONCEI", ["João Conceição"]),
        ("marcia avila", ["Márcia Ávila"]),
        ("123.456", ["João Conceição"]),
        ("12345678909", ["João Conceição"]),
        ("98765-4321", ["João Conceição"]),
        ("nobody", []),
    ],
)
def test_search_ignores_accents_and_finds_documents_and_phones(bob, people, term, expected) -> None:
    assert _names(login(bob).get("/patients/", {"q": term})) == expected


@pytest.mark.django_db
def test_status_filters(bob, people) -> None:
    client = login(bob)
    assert _names(client.get("/patients/")) == [
        "Auto Cadastro",
        "Enzo Pequeno",
        "João Conceição",
        "Lia Guardada",
        "Márcia Ávila",
    ]
    assert _names(client.get("/patients/", {"status": "archived"})) == ["Arquivado Antigo"]
    assert _names(client.get("/patients/", {"status": "to_review"})) == ["Auto Cadastro"]
    assert _names(client.get("/patients/", {"status": "minor_without_guardian"})) == ["Enzo Pequeno"]
    assert "Filial Paciente" in _names(client.get("/patients/", {"status": "all", "clinic": "all"}))


@pytest.mark.django_db
def test_minor_without_guardian_is_flagged_in_the_list_and_the_file(bob, people) -> None:
    client = login(bob)
    listing = client.get("/patients/").content.decode()
    assert listing.count("Minor without guardian") == 1
    assert "Minor without guardian" in client.get(f"/patients/{people['kid'].pk}/").content.decode()
    assert "Minor without guardian" not in client.get(f"/patients/{people['kid_ok'].pk}/").content.decode()


@pytest.mark.django_db
def test_htmx_search_returns_only_the_table(bob, people) -> None:
    response = login(bob).get("/patients/", {"q": "joao"}, HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert "<nav" not in content.split("<table")[0]
    assert 'data-testid="patient-table"' in content
    assert "João Conceição" in content


@pytest.mark.django_db
def test_api_search_and_filters(bob, people) -> None:
    client = api_client(bob)
    body = client.get("/api/v1/patients/", {"search": "joao"}).json()
    assert [p["full_name"] for p in body["results"]] == ["João Conceição"]
    body = client.get("/api/v1/patients/", {"status": "minor_without_guardian"}).json()
    assert [p["full_name"] for p in body["results"]] == ["Enzo Pequeno"]
    body = client.get("/api/v1/patients/", {"status": "archived"}).json()
    assert [p["full_name"] for p in body["results"]] == ["Arquivado Antigo"]


@pytest.mark.django_db
def test_list_is_paginated(bob, tenant_a, physio) -> None:
    for n in range(30):
        PatientFactory(clinic=tenant_a.central, full_name=f"Paciente {n:02d}", professionals=[physio])
    client = login(bob)
    first = client.get("/patients/")
    assert len(first.context["page"].object_list) == 25
    assert "1–25 of 30" in first.content.decode()  # noqa: RUF001
    assert _names(client.get("/patients/", {"page": 2})) == [f"Paciente {n:02d}" for n in range(25, 30)]


def _count(client, path: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(path).status_code == 200
    return len(context.captured_queries)


@pytest.mark.django_db
def test_list_query_count_does_not_grow(bob, tenant_a, physio, psychologist) -> None:
    PatientFactory(clinic=tenant_a.central, full_name="Único", professionals=[physio])
    web, api = login(bob), api_client(bob)
    one = (_count(web, "/patients/"), _count(api, "/api/v1/patients/"))
    for n in range(49):
        PatientFactory(clinic=tenant_a.central, full_name=f"Paciente {n}", professionals=[physio, psychologist])
    assert (_count(web, "/patients/"), _count(api, "/api/v1/patients/")) == one
