"""Another organization's catalog answers 404 on every endpoint and page, and
leaks nothing (T2)."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from packages.catalog.models import PackageTemplate, PackageTemplateItem, Service
from tests.conftest import api_client, login

NOT_FOUND = {"code": "not_found", "detail": "Not found.", "fields": {}}


def _unchanged(catalog) -> None:
    with scopes_disabled():
        service = Service.objects.get(pk=catalog.beta_service.pk)
        template = PackageTemplate.objects.get(pk=catalog.beta_template.pk)
        assert (service.name, service.is_active, str(service.price)) == ("Beta massage", True, "99.00")
        assert (template.name, template.is_active, str(template.price)) == ("Beta 3", True, "1000.00")
        assert PackageTemplateItem.objects.filter(template=template).count() == 1


@pytest.mark.django_db
def test_every_service_endpoint_answers_404_for_another_organizations_service(alice, catalog) -> None:
    client = api_client(alice)
    url = f"/api/v1/services/{catalog.beta_service.pk}/"
    for response in (
        client.get(url),
        client.patch(url, {"price": "1.00"}),
        client.put(url, {"name": "x", "price": "1.00"}),
        client.delete(url),
    ):
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
    _unchanged(catalog)


@pytest.mark.django_db
def test_every_template_endpoint_answers_404_for_another_organizations_template(alice, catalog) -> None:
    client = api_client(alice)
    url = f"/api/v1/package-templates/{catalog.beta_template.pk}/"
    for response in (
        client.get(url),
        client.patch(url, {"price": "1.00"}),
        client.put(url, {"name": "x", "items": [{"service": catalog.physio.pk, "quantity": 1}], "price": "1.00"}),
        client.delete(url),
        client.put(url + "own-items/", {"items": [{"service": catalog.physio.pk, "quantity": 1}]}),
    ):
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
    _unchanged(catalog)


@pytest.mark.django_db
def test_lists_never_show_another_organization(alice, charlie, catalog) -> None:
    for path in ("/api/v1/services/?status=all", "/api/v1/package-templates/?status=all"):
        content = api_client(alice).get(path).content.decode()
        assert "Beta" not in content
        assert "Physio" not in api_client(charlie).get(path).content.decode()


@pytest.mark.django_db
def test_a_foreign_service_id_inside_a_payload_is_a_validation_error_that_leaks_nothing(alice, catalog) -> None:
    client = api_client(alice)
    foreign = catalog.beta_service.pk
    payloads = [
        {"name": "x", "items": [{"service": foreign, "quantity": 1}], "price": "1.00"},
        {
            "name": "x",
            "items": [{"service": catalog.physio.pk, "quantity": 1}],
            "price": "1.00",
            "trigger_service": foreign,
        },
        {
            "name": "x",
            "items": [{"service": catalog.physio.pk, "quantity": 1}],
            "price": "1.00",
            "limits": {"services": [{"service": foreign, "max_quantity": 1}]},
        },
    ]
    for payload in payloads:
        response = client.post("/api/v1/package-templates/", payload)
        assert response.status_code == 400
        assert f'Invalid pk \\"{foreign}\\" - object does not exist.' in response.content.decode()
        assert "Beta" not in response.content.decode()
    response = client.put(
        f"/api/v1/package-templates/{catalog.physio_10.pk}/own-items/",
        {"items": [{"service": foreign, "quantity": 1}]},
    )
    assert response.status_code == 400
    assert "Beta" not in response.content.decode()
    with scopes_disabled():
        assert not PackageTemplate.objects.filter(name="x").exists()


@pytest.mark.django_db
def test_every_page_answers_404_for_another_organizations_catalog(alice, catalog) -> None:
    client = login(alice)
    template, service = catalog.beta_template.pk, catalog.beta_service.pk
    pages = [
        ("get", f"/packages/templates/{template}/"),
        ("get", f"/packages/templates/{template}/edit/"),
        ("post", f"/packages/templates/{template}/edit/"),
        ("post", f"/packages/templates/{template}/own-items/"),
        ("post", f"/packages/templates/{template}/active/"),
        ("post", f"/packages/templates/{template}/delete/"),
        ("get", f"/packages/services/{service}/"),
        ("post", f"/packages/services/{service}/"),
        ("post", f"/packages/services/{service}/active/"),
        ("post", f"/packages/services/{service}/delete/"),
    ]
    for method, path in pages:
        response = getattr(client, method)(path, {"is_active": "0", "name": "x"})
        assert response.status_code == 404, path
        assert b"Beta" not in response.content, path
    response = client.post("/packages/templates/preview/", {"template": str(template)})
    assert response.status_code == 404
    _unchanged(catalog)


@pytest.mark.django_db
def test_list_pages_and_export_never_show_another_organization(alice, catalog) -> None:
    client = login(alice)
    for path in ("/packages/?status=all", "/packages/services/?status=all"):
        response = client.get(path)
        assert response.status_code == 200
        assert b"Beta" not in response.content
    from io import BytesIO

    from openpyxl import load_workbook

    workbook = load_workbook(BytesIO(client.get("/packages/templates/export.xlsx?status=all").content))
    values = [cell.value for row in workbook.active.iter_rows() for cell in row]
    assert "Beta 3" not in values
    assert "Physio 10" in values


@pytest.mark.django_db
def test_pages_of_a_clinic_a_sibling_keeps_private_are_404_too(mary, catalog) -> None:
    client = login(mary)
    assert client.get(f"/packages/templates/{catalog.home_5.pk}/").status_code == 404
    assert client.get(f"/packages/services/{catalog.home_visit.pk}/").status_code == 404
    assert b"Home visit" not in client.get("/packages/services/?status=all").content


@pytest.mark.django_db
def test_create_forms_refuse_another_organizations_service_without_leaking_it(alice, catalog) -> None:
    client = login(alice)
    foreign = str(catalog.beta_service.pk)
    response = client.post(
        "/packages/templates/new/",
        {
            "name": "Sneaky",
            "price": "100.00",
            "renewal": "none",
            "posting": "per_procedure",
            "commission_kind": "none",
            "trigger_service": foreign,
            "items-TOTAL_FORMS": "1",
            "items-INITIAL_FORMS": "0",
            "items-0-service": foreign,
            "items-0-quantity": "2",
            "limits-TOTAL_FORMS": "1",
            "limits-INITIAL_FORMS": "0",
            "limits-0-service": foreign,
            "limits-0-max_quantity": "1",
        },
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert content.count("Select a valid choice.") == 3
    assert "Beta" not in content
    response = client.post(
        "/packages/templates/preview/",
        {"price": "100.00", "items-TOTAL_FORMS": "1", "items-INITIAL_FORMS": "0", "items-0-service": foreign},
    )
    assert response.status_code == 200
    assert "Beta" not in response.content.decode()
    with scopes_disabled():
        assert not PackageTemplate.objects.filter(name="Sneaky").exists()
