from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from clinic.models import Clinic
from tests.conftest import api_client, login
from tests.factories import ClinicFactory


@pytest.mark.django_db
def test_api_clinics_fields(alice, tenant_a) -> None:
    body = api_client(alice).get(f"/api/v1/clinics/{tenant_a.central.pk}/").json()
    assert body == {
        "id": tenant_a.central.pk,
        "name": "Alpha Central",
        "is_central": True,
        "time_zone": "America/Sao_Paulo",
        "currency": "BRL",
        "country": "BR",
        "language": "pt-br",
        "is_active": True,
        "pix_key": "",
        "pix_city": "",
        "legal_name": "",
        "tax_id": "",
        "address": "",
        "phone": "",
        "reminder_hours": 24,
        "reminder_channels": ["sms"],
        "cancellation_hours": 24,
        "online_booking": False,
        "online_notice_hours": 12,
        "online_days_ahead": 30,
        "online_slot_minutes": 30,
        "online_buffer_minutes": 0,
        "online_max_upcoming": 4,
        "portal_url": f"http://127.0.0.1:8000/c/{tenant_a.central.portal_token}/",
    }


@pytest.mark.django_db
def test_owner_creates_and_renames_a_clinic_through_the_api(alice, tenant_a) -> None:
    client = api_client(alice)
    response = client.post("/api/v1/clinics/", {"name": "Moema", "time_zone": "America/Sao_Paulo", "currency": "brl"})
    assert response.status_code == 201
    created = response.json()
    assert (created["name"], created["currency"], created["is_central"]) == ("Moema", "BRL", False)
    response = client.patch(f"/api/v1/clinics/{created['id']}/", {"name": "Moema II"})
    assert response.status_code == 200
    with scopes_disabled():
        clinic = Clinic.objects.get(pk=created["id"])
    assert (clinic.name, clinic.organization_id) == ("Moema II", tenant_a.organization.pk)
    # The history records who changed it, through the API's token too.
    with scopes_disabled():
        assert [(h.history_type, h.history_user) for h in clinic.history.order_by("history_date")] == [
            ("+", alice),
            ("~", alice),
        ]


@pytest.mark.django_db
def test_duplicate_clinic_name_is_a_clear_400(alice) -> None:
    response = api_client(alice).post("/api/v1/clinics/", {"name": "Alpha Branch"})
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "non_field_errors": ["Another clinic of this organization already has this name."]
    }


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["bob", "paula"])
def test_receptionist_and_professional_read_but_cannot_write_clinics(persona, request, tenant_a) -> None:
    client = api_client(request.getfixturevalue(persona))
    assert client.get("/api/v1/clinics/").status_code == 200
    assert client.post("/api/v1/clinics/", {"name": "X"}).status_code == 403
    assert client.patch(f"/api/v1/clinics/{tenant_a.central.pk}/", {"name": "X"}).status_code == 403
    with scopes_disabled():
        assert Clinic.objects.get(pk=tenant_a.central.pk).name == "Alpha Central"


@pytest.mark.django_db
def test_clinic_list_is_paginated(alice, tenant_a) -> None:
    for n in range(3):
        ClinicFactory(organization=tenant_a.organization, name=f"Extra {n}")
    body = api_client(alice).get("/api/v1/clinics/?page_size=2").json()
    assert body["count"] == 5
    assert len(body["results"]) == 2
    assert body["next"].endswith("page=2&page_size=2")


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(path).status_code == 200
    return len(context.captured_queries)


@pytest.mark.django_db
def test_clinic_list_query_count_does_not_grow(alice, tenant_a) -> None:
    api, web = api_client(alice), login(alice)
    api_one, web_one = _queries(api, "/api/v1/clinics/"), _queries(web, "/settings/")
    for n in range(40):
        ClinicFactory(organization=tenant_a.organization, name=f"Extra {n}")
    assert _queries(api, "/api/v1/clinics/") == api_one
    assert _queries(web, "/settings/") == web_one


@pytest.mark.django_db
def test_owner_creates_a_clinic_in_settings(alice) -> None:
    client = login(alice)
    response = client.post(
        "/settings/clinics/new/",
        {
            "name": "Pinheiros",
            "time_zone": "America/Sao_Paulo",
            "currency": "BRL",
            "country": "BR",
            "language": "pt-br",
            "reminder_hours": "24",
            "cancellation_hours": "24",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        assert Clinic.objects.filter(name="Pinheiros", organization=alice.organization).exists()
    assert "Clinic “Pinheiros” created." in client.get("/settings/").content.decode()


@pytest.mark.django_db
def test_clinic_form_shows_service_errors_on_the_form(alice) -> None:
    response = login(alice).post(
        "/settings/clinics/new/",
        {
            "name": "Alpha Branch",
            "time_zone": "America/Sao_Paulo",
            "currency": "BRL",
            "country": "BR",
            "language": "pt-br",
            "is_central": "on",
        },
    )
    assert response.status_code == 200
    assert "The organization already has a central clinic." in response.content.decode()
    with scopes_disabled():
        assert Clinic.objects.filter(organization=alice.organization).count() == 2


@pytest.mark.django_db
def test_owner_edits_a_clinic_in_settings(alice, tenant_a) -> None:
    client = login(alice)
    response = client.post(
        f"/settings/clinics/{tenant_a.branch.pk}/",
        {
            "name": "Alpha Branch",
            "time_zone": "Europe/Berlin",
            "currency": "EUR",
            "country": "de",
            "language": "de",
            "is_active": "on",
            "reminder_hours": "24",
            "cancellation_hours": "24",
        },
    )
    assert response.status_code == 302
    tenant_a.branch.refresh_from_db()
    assert (tenant_a.branch.time_zone, tenant_a.branch.currency, tenant_a.branch.country, tenant_a.branch.language) == (
        "Europe/Berlin",
        "EUR",
        "DE",
        "de",
    )


@pytest.mark.django_db
def test_receptionist_cannot_open_clinic_forms(bob, tenant_a) -> None:
    client = login(bob)
    assert client.get("/settings/clinics/new/").status_code == 403
    assert client.get(f"/settings/clinics/{tenant_a.central.pk}/").status_code == 403
    assert "New clinic" not in client.get("/settings/").content.decode()


@pytest.mark.django_db
def test_clinic_switcher_changes_the_current_clinic(alice, tenant_a) -> None:
    client = login(alice)
    assert client.get("/").context["current_clinic"] == tenant_a.central
    response = client.post("/clinic/switch/", {"clinic": tenant_a.branch.pk, "next": "/settings/"})
    assert response.status_code == 302
    assert response["Location"] == "/settings/"
    assert client.get("/").context["current_clinic"] == tenant_a.branch


@pytest.mark.django_db
def test_clinic_switcher_refuses_a_clinic_the_user_does_not_belong_to(bob, tenant_a, tenant_b) -> None:
    client = login(bob)
    assert client.post("/clinic/switch/", {"clinic": tenant_a.branch.pk}).status_code == 404
    assert client.post("/clinic/switch/", {"clinic": tenant_b.central.pk}).status_code == 404
    assert client.get("/").context["current_clinic"] == tenant_a.central


@pytest.mark.django_db
def test_clinic_switcher_ignores_an_unsafe_next(alice, tenant_a) -> None:
    response = login(alice).post("/clinic/switch/", {"clinic": tenant_a.branch.pk, "next": "https://evil.example/"})
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_api_works_in_the_clinic_named_by_the_header(alice, tenant_a) -> None:
    client = api_client(alice)
    response = client.get("/api/v1/clinics/", HTTP_X_CLINIC=str(tenant_a.branch.pk))
    assert response.status_code == 200
    assert response.wsgi_request.clinic == tenant_a.branch


@pytest.mark.django_db
def test_the_clinic_s_tax_id_and_phone_are_checked_and_written_the_country_s_way(alice, tenant_a) -> None:
    client = api_client(alice)
    url = f"/api/v1/clinics/{tenant_a.branch.pk}/"
    bad = client.patch(url, {"tax_id": "11.222.333/0001-80", "phone": "123"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"tax_id", "phone"}  # every error at once
    assert "not a valid CNPJ or CPF" in bad.json()["fields"]["tax_id"][0]
    good = client.patch(url, {"tax_id": "11222333000181", "phone": "(11) 3123-4567", "legal_name": "Alpha Ltda.",
                              "address": "Rua Augusta 1200"}, format="json")  # fmt: skip
    assert good.status_code == 200
    assert (good.json()["tax_id"], good.json()["phone"]) == ("11.222.333/0001-81", "+551131234567")
    solo = client.patch(url, {"tax_id": "529.982.247-25"}, format="json")  # one professional's CPF
    assert solo.json()["tax_id"] == "529.982.247-25"
    # Elsewhere the country's own ids are checked (Spain: NIF), or kept as typed.
    spain = client.patch(url, {"country": "ES", "tax_id": "B12345678", "phone": "+34 912 345 678"}, format="json")
    assert spain.status_code == 400
    assert list(spain.json()["fields"]) == ["tax_id"]
    us = client.patch(url, {"country": "US", "tax_id": "12-3456789", "phone": "+1 212 555 0100"}, format="json")
    assert (us.status_code, us.json()["tax_id"]) == (200, "12-3456789")


@pytest.mark.django_db
def test_the_clinic_form_shows_contact_errors_with_the_others(alice, tenant_a) -> None:
    response = login(alice).post(
        f"/settings/clinics/{tenant_a.branch.pk}/",
        {"name": "Alpha Branch", "time_zone": "America/Sao_Paulo", "currency": "BRL", "country": "BR",
         "language": "pt-br", "is_active": "on", "tax_id": "123", "phone": "abc", "pix_key": "not a key",
         "reminder_hours": "24", "cancellation_hours": "24"},
    )  # fmt: skip
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"tax_id", "phone", "pix_key"} <= set(errors)
    tenant_a.branch.refresh_from_db()
    assert tenant_a.branch.tax_id == ""
