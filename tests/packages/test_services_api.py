"""`/api/v1/services/` (S1)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from packages.catalog.models import Service
from tests.conftest import api_client
from tests.packages.factories import ServiceFactory


@pytest.mark.django_db
def test_service_fields_are_the_public_contract(alice, tenant_a, catalog) -> None:
    body = api_client(alice).get(f"/api/v1/services/{catalog.physio.pk}/").json()
    assert body == {
        "id": catalog.physio.pk,
        "name": "Physiotherapy session",
        "code": "FIS-SES",
        "price": "120.00",
        "duration_minutes": 50,
        "is_active": True,
        "is_shared": True,
        "clinic": tenant_a.central.pk,
        "is_own": True,
    }


@pytest.mark.django_db
def test_manager_creates_a_service_in_the_current_clinic(manuel, tenant_a) -> None:
    response = api_client(manuel).post(
        "/api/v1/services/",
        {"name": " Pilates class ", "code": "pil-01", "price": "85.5", "duration_minutes": 55, "is_shared": True},
    )
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("name", "code", "price", "duration_minutes", "is_shared", "is_active", "clinic")} == {
        "name": "Pilates class",
        "code": "PIL-01",
        "price": "85.50",
        "duration_minutes": 55,
        "is_shared": True,
        "is_active": True,
        "clinic": tenant_a.central.pk,
    }
    with scopes_disabled():
        service = Service.objects.get(pk=body["id"])
        assert (service.organization_id, service.price) == (tenant_a.organization.pk, Decimal("85.50"))
        assert [(h.history_type, h.history_user) for h in service.history.all()] == [("+", manuel)]


@pytest.mark.django_db
def test_service_is_created_in_the_clinic_named_by_the_header(alice, tenant_a) -> None:
    response = api_client(alice).post(
        "/api/v1/services/", {"name": "Kinesio", "price": "60.00"}, HTTP_X_CLINIC=str(tenant_a.branch.pk)
    )
    assert response.status_code == 201
    assert response.json()["clinic"] == tenant_a.branch.pk
    assert response.json()["code"] == ""
    assert response.json()["duration_minutes"] == 50


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"name": "X", "price": "-1.00"}, {"price": ["Ensure this value is greater than or equal to 0."]}),
        ({"name": "X", "price": "1.005"}, {"price": ["Ensure that there are no more than 2 decimal places."]}),
        ({"name": "X", "price": "NaN"}, {"price": ["A valid number is required."]}),
        ({"name": "", "price": "10.00"}, {"name": ["This field may not be blank."]}),
        (
            {"name": "X", "price": "10.00", "duration_minutes": 0},
            {"duration_minutes": ["Ensure this value is greater than or equal to 1."]},
        ),
    ],
)
def test_invalid_service_is_a_400_with_fields(alice, payload, fields) -> None:
    response = api_client(alice).post("/api/v1/services/", payload)
    assert response.status_code == 400
    assert response.json() == {"code": "validation_error", "detail": "Some fields are not valid.", "fields": fields}


@pytest.mark.django_db
def test_duplicate_name_or_code_in_the_clinic_is_refused(alice, catalog) -> None:
    client = api_client(alice)
    response = client.post("/api/v1/services/", {"name": "Physiotherapy session", "price": "1.00"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"non_field_errors": ["This clinic already has a service with this name."]}
    response = client.post("/api/v1/services/", {"name": "Other", "code": "fis-ses", "price": "1.00"})
    assert response.json()["fields"] == {"non_field_errors": ["This clinic already has a service with this code."]}


@pytest.mark.django_db
def test_a_code_in_capitals_keeps_its_length(alice, catalog) -> None:
    """As long as the schema allows (30), though "ß" in capitals is "SS"."""
    code = " straße-" + "ß" * 22 + " "
    client = api_client(alice)
    response = client.post("/api/v1/services/", {"name": "Massage", "code": code, "price": "1.00"}, format="json")
    assert (response.status_code, response.json()["code"]) == (201, "STRAßE-" + "ß" * 22)
    url = f"/api/v1/services/{response.json()['id']}/"
    assert client.patch(url, {"code": "ßa" * 15}, format="json").json()["code"] == "ßA" * 15


@pytest.mark.django_db
def test_the_same_code_may_exist_in_another_clinic(alice, tenant_a, catalog) -> None:
    response = api_client(alice).post(
        "/api/v1/services/",
        {"name": "Physio", "code": "FIS-SES", "price": "1.00"},
        HTTP_X_CLINIC=str(tenant_a.branch.pk),
    )
    assert response.status_code == 201


@pytest.mark.django_db
def test_patch_changes_only_what_it_names(alice, catalog) -> None:
    response = api_client(alice).patch(f"/api/v1/services/{catalog.home_visit.pk}/", {"price": "200.00"})
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["code"], body["price"], body["is_shared"]) == ("Home visit", "FIS-DOM", "200.00", False)


@pytest.mark.django_db
def test_patch_is_active_deactivates_and_reactivates(alice, catalog) -> None:
    client = api_client(alice)
    assert client.patch(f"/api/v1/services/{catalog.home_visit.pk}/", {"is_active": False}).json()["is_active"] is False
    assert client.patch(f"/api/v1/services/{catalog.home_visit.pk}/", {"is_active": True}).json()["is_active"] is True


@pytest.mark.django_db
def test_unsharing_a_service_that_shared_templates_use_is_refused(alice, catalog) -> None:
    response = api_client(alice).patch(f"/api/v1/services/{catalog.physio.pk}/", {"is_shared": False})
    assert (response.status_code, response.json()["code"]) == (400, "service_in_use")
    assert response.json()["fields"] == {
        "is_shared": ["Other clinics or shared package templates use this service: Physio 10."]
    }


@pytest.mark.django_db
def test_delete_an_unused_service(alice, tenant_a) -> None:
    service = ServiceFactory(clinic=tenant_a.central)
    assert api_client(alice).delete(f"/api/v1/services/{service.pk}/").status_code == 204
    with scopes_disabled():
        assert not Service.objects.filter(pk=service.pk).exists()


@pytest.mark.django_db
def test_delete_a_service_in_use_is_refused(alice, catalog) -> None:
    response = api_client(alice).delete(f"/api/v1/services/{catalog.home_visit.pk}/")
    assert response.status_code == 400
    assert response.json() == {
        "code": "service_in_use",
        "detail": "This service is used by package templates: deactivate it instead.",
        "fields": {},
    }


@pytest.mark.django_db
def test_service_list_filters(alice, tenant_a, catalog) -> None:
    client = api_client(alice)
    ServiceFactory(clinic=tenant_a.central, name="Old massage", code="OLD", is_active=False)

    def names(query: str) -> list[str]:
        body = client.get(f"/api/v1/services/{query}").json()
        return [row["name"] for row in body["results"]]

    assert names("") == ["Home visit", "Old massage", "Physiotherapy session"]
    assert names("?name=physio") == ["Physiotherapy session"]
    assert names("?name=fis-dom") == ["Home visit"]  # the code matches too
    assert names("?status=active") == ["Home visit", "Physiotherapy session"]
    assert names("?status=deactivated") == ["Old massage"]
    assert names("?status=all") == ["Home visit", "Old massage", "Physiotherapy session"]
    assert names("?shared=true") == ["Physiotherapy session"]
    assert names("?shared=false&status=active") == ["Home visit"]
    assert client.get("/api/v1/services/?status=bogus").status_code == 400


@pytest.mark.django_db
def test_service_list_is_paginated(alice, tenant_a) -> None:
    for n in range(5):
        ServiceFactory(clinic=tenant_a.central, name=f"S{n}")
    body = api_client(alice).get("/api/v1/services/?page_size=2").json()
    assert (body["count"], len(body["results"])) == (5, 2)
    assert body["next"].endswith("page=2&page_size=2")
