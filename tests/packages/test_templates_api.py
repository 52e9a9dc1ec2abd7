"""`/api/v1/package-templates/` (S2, S3, S5)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from packages.catalog.models import PackageTemplate, PackageTemplateItem
from tests.conftest import api_client
from tests.packages.factories import ServiceFactory, make_template


def _payload(catalog, **changes):
    payload = {
        "name": "Physio + assessment",
        "items": [{"service": catalog.physio.pk, "quantity": 6}, {"service": catalog.home_visit.pk, "quantity": 1}],
        "price": "1000.00",
        "renewal": "none",
        "posting": "total",
        "validity_days": 90,
        "commission_kind": "percent",
        "commission_value": "30.00",
        "trigger_service": catalog.home_visit.pk,
        "limits": {
            "max_appointments": 7,
            "max_amount": "1200.00",
            "services": [{"service": catalog.home_visit.pk, "max_quantity": 1, "max_amount": None}],
        },
    }
    payload.update(changes)
    return payload


@pytest.mark.django_db
def test_create_a_template_with_items_limits_and_trigger(manuel, tenant_a, catalog) -> None:
    response = api_client(manuel).post("/api/v1/package-templates/", _payload(catalog))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body == {
        "id": body["id"],
        "name": "Physio + assessment",
        "clinic": tenant_a.central.pk,
        "is_own": True,
        "items": [
            {"service": catalog.physio.pk, "quantity": 6, "clinic": tenant_a.central.pk, "is_own": True},
            {"service": catalog.home_visit.pk, "quantity": 1, "clinic": tenant_a.central.pk, "is_own": True},
        ],
        "sessions": 7,
        "sessions_from_items": True,
        "price": "1000.00",
        "price_per_session": "142.85",
        "last_session_price": "142.90",
        "renewal": "none",
        "posting": "total",
        "validity_days": 90,
        "commission_kind": "percent",
        "commission_value": "30.00",
        "trigger_service": catalog.home_visit.pk,
        "limits": {
            "max_appointments": 7,
            "max_amount": "1200.00",
            "services": [{"service": catalog.home_visit.pk, "max_quantity": 1, "max_amount": None}],
        },
        "is_active": True,
        "is_shared": False,
    }
    with scopes_disabled():
        template = PackageTemplate.objects.get(pk=body["id"])
        assert template.organization_id == tenant_a.organization.pk
        assert [(h.history_type, h.history_user) for h in template.history.all()] == [("+", manuel)]


@pytest.mark.django_db
def test_minimal_template_gets_the_defaults(alice, catalog) -> None:
    response = api_client(alice).post(
        "/api/v1/package-templates/",
        {"name": "Three", "items": [{"service": catalog.physio.pk, "quantity": 3}], "price": "1000.00"},
    )
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("sessions", "price_per_session", "last_session_price", "renewal", "posting")} == {
        "sessions": 3,
        "price_per_session": "333.33",
        "last_session_price": "333.34",
        "renewal": "none",
        "posting": "per_procedure",
    }
    assert (body["commission_kind"], body["commission_value"], body["trigger_service"]) == ("none", "0.00", None)
    assert body["limits"] == {"max_appointments": None, "max_amount": None, "services": []}
    assert (body["validity_days"], body["is_shared"], body["is_active"]) == (None, False, True)


@pytest.mark.django_db
def test_fixed_sessions_override_the_sum_of_items(alice, catalog) -> None:
    response = api_client(alice).post("/api/v1/package-templates/", _payload(catalog, sessions=4))
    body = response.json()
    assert (body["sessions"], body["sessions_from_items"], body["price_per_session"]) == (4, False, "250.00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"items": []}, {"items": {"non_field_errors": ["This list may not be empty."]}}),
        ({"sessions": 0}, {"sessions": ["Ensure this value is greater than or equal to 1."]}),
        ({"price": "-1.00"}, {"price": ["Ensure this value is greater than or equal to 0."]}),
        ({"renewal": "yearly"}, {"renewal": ['"yearly" is not a valid choice.']}),
        ({"posting": "later"}, {"posting": ['"later" is not a valid choice.']}),
        ({"validity_days": 0}, {"validity_days": ["Ensure this value is greater than or equal to 1."]}),
        (
            {"items": [{"service": 1, "quantity": 0}]},
            {"items": {"0": {"quantity": ["Ensure this value is greater than or equal to 1."]}}},
        ),
    ],
)
def test_invalid_template_shapes_are_400(alice, catalog, changes, fields) -> None:
    if changes.get("items"):
        changes["items"][0]["service"] = catalog.physio.pk
    response = api_client(alice).post("/api/v1/package-templates/", _payload(catalog, **changes))
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert response.json()["fields"] == fields


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        (
            {"items": [{"service": "physio", "quantity": 2}, {"service": "physio", "quantity": 3}]},
            {"items": ["“Physiotherapy session” is listed twice: add up the quantities."]},
        ),
        (
            {"commission_value": "120.00"},
            {"non_field_errors": ["A percent commission is between 0 and 100; no commission has no value."]},
        ),
        (
            {"limits": {"services": [{"service": "physio", "max_quantity": None, "max_amount": None}]}},
            {"limits": ["Set a maximum quantity, a maximum amount, or both for “Physiotherapy session”."]},
        ),
        (
            {"items": [{"service": "physio", "quantity": 2}], "trigger_service": None},
            {"limits": ["“Home visit” has a limit but is not in the template."]},
        ),
        (
            {"is_shared": True},
            {"is_shared": ["Share these services first, or do not share the template: Home visit."]},
        ),
    ],
)
def test_business_rules_are_400_with_fields(alice, catalog, changes, fields) -> None:
    for item in changes.get("items", []):
        item["service"] = catalog.physio.pk
    for limit in changes.get("limits", {}).get("services", []):
        limit["service"] = catalog.physio.pk
    response = api_client(alice).post("/api/v1/package-templates/", _payload(catalog, **changes))
    assert response.status_code == 400
    assert response.json() == {"code": "validation_error", "detail": "Some fields are not valid.", "fields": fields}
    with scopes_disabled():
        assert not PackageTemplate.objects.filter(name="Physio + assessment").exists()


@pytest.mark.django_db
def test_deactivated_service_cannot_join_a_template(alice, tenant_a, catalog) -> None:
    old = ServiceFactory(clinic=tenant_a.central, name="Old", is_active=False)
    response = api_client(alice).post(
        "/api/v1/package-templates/", _payload(catalog, items=[{"service": old.pk, "quantity": 1}], limits={})
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"items": ["The service “Old” is deactivated."]}


@pytest.mark.django_db
def test_two_active_templates_of_a_clinic_cannot_share_a_trigger(alice, catalog) -> None:
    client = api_client(alice)
    assert client.post("/api/v1/package-templates/", _payload(catalog)).status_code == 201
    response = client.post("/api/v1/package-templates/", _payload(catalog, name="Second"))
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "trigger_service": ["The template “Physio + assessment” already starts with this service."]
    }


@pytest.mark.django_db
def test_duplicate_template_name_in_the_clinic(alice, catalog) -> None:
    response = api_client(alice).post("/api/v1/package-templates/", _payload(catalog, name="Physio 10"))
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "non_field_errors": ["This clinic already has a package template with this name."]
    }


@pytest.mark.django_db
def test_patch_keeps_what_it_does_not_name(alice, catalog) -> None:
    client = api_client(alice)
    created = client.post("/api/v1/package-templates/", _payload(catalog)).json()
    response = client.patch(f"/api/v1/package-templates/{created['id']}/", {"price": "700.00", "validity_days": None})
    assert response.status_code == 200
    body = response.json()
    assert (body["price"], body["validity_days"], body["price_per_session"]) == ("700.00", None, "100.00")
    assert body["items"] == created["items"]
    assert body["limits"] == created["limits"]
    assert body["trigger_service"] == created["trigger_service"]


@pytest.mark.django_db
def test_patch_items_replaces_them_row_by_row(alice, tenant_a, catalog) -> None:
    client = api_client(alice)
    template_id = catalog.physio_10.pk
    with scopes_disabled():
        physio_row = PackageTemplateItem.objects.get(template_id=template_id)
    extra = ServiceFactory(clinic=tenant_a.central, name="Assessment", is_shared=True)
    response = client.patch(
        f"/api/v1/package-templates/{template_id}/",
        {"items": [{"service": catalog.physio.pk, "quantity": 8}, {"service": extra.pk, "quantity": 2}]},
    )
    assert response.status_code == 200
    assert [(i["service"], i["quantity"]) for i in response.json()["items"]] == [(catalog.physio.pk, 8), (extra.pk, 2)]
    with scopes_disabled():
        physio_row.refresh_from_db()  # the same row, changed: its history shows 10 → 8
        assert [h.quantity for h in physio_row.history.order_by("history_date")] == [10, 8]
    response = client.patch(
        f"/api/v1/package-templates/{template_id}/", {"items": [{"service": extra.pk, "quantity": 2}]}
    )
    assert [i["service"] for i in response.json()["items"]] == [extra.pk]
    with scopes_disabled():
        assert not PackageTemplateItem.objects.filter(pk=physio_row.pk).exists()


@pytest.mark.django_db
def test_patch_limits_replaces_the_limits_as_a_whole(alice, catalog) -> None:
    client = api_client(alice)
    created = client.post("/api/v1/package-templates/", _payload(catalog)).json()
    response = client.patch(f"/api/v1/package-templates/{created['id']}/", {"limits": {"max_appointments": 5}})
    assert response.json()["limits"] == {"max_appointments": 5, "max_amount": None, "services": []}


@pytest.mark.django_db
def test_deactivate_and_reactivate_through_patch(alice, catalog) -> None:
    client = api_client(alice)
    url = f"/api/v1/package-templates/{catalog.physio_10.pk}/"
    assert client.patch(url, {"is_active": False}).json()["is_active"] is False
    assert client.get("/api/v1/package-templates/?status=active").json()["count"] == 1
    assert client.patch(url, {"is_active": True}).json()["is_active"] is True


@pytest.mark.django_db
def test_delete_a_template(alice, catalog) -> None:
    assert api_client(alice).delete(f"/api/v1/package-templates/{catalog.home_5.pk}/").status_code == 204
    with scopes_disabled():
        assert not PackageTemplate.objects.filter(pk=catalog.home_5.pk).exists()
        assert not PackageTemplateItem.objects.filter(template_id=catalog.home_5.pk).exists()


@pytest.mark.django_db
def test_template_list_filters(alice, tenant_a, catalog) -> None:
    make_template(tenant_a.central, [(catalog.physio, 4)], name="Physio 4 (old)", is_active=False, is_shared=True)
    client = api_client(alice)

    def names(query: str) -> list[str]:
        return [row["name"] for row in client.get(f"/api/v1/package-templates/{query}").json()["results"]]

    assert names("") == ["Home visits 5", "Physio 10", "Physio 4 (old)"]
    assert names("?name=PHYSIO") == ["Physio 10", "Physio 4 (old)"]
    assert names("?status=active") == ["Home visits 5", "Physio 10"]
    assert names("?status=deactivated") == ["Physio 4 (old)"]
    assert names("?shared=true&status=active") == ["Physio 10"]
    assert names("?shared=false") == ["Home visits 5"]
    assert names("?name=zzz") == []


@pytest.mark.django_db
def test_template_list_is_paginated(alice, tenant_a, catalog) -> None:
    for n in range(4):
        make_template(tenant_a.central, [(catalog.physio, 1)], name=f"T{n}")
    body = api_client(alice).get("/api/v1/package-templates/?page_size=3").json()
    assert (body["count"], len(body["results"])) == (6, 3)


@pytest.mark.django_db
def test_money_is_a_string_with_two_places(alice, catalog) -> None:
    body = api_client(alice).get(f"/api/v1/package-templates/{catalog.physio_10.pk}/").json()
    assert (body["price"], body["price_per_session"], body["commission_value"]) == ("1000.00", "100.00", "0.00")
    assert Decimal(body["price"]) == Decimal("1000.00")
