"""Who may manage the catalog (T4): by role, with the organization's setting."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from packages.catalog.models import PackageTemplate, Service
from tests.conftest import api_client, login


def _template_payload(catalog) -> dict:
    return {"name": "New one", "items": [{"service": catalog.physio.pk, "quantity": 2}], "price": "200.00"}


def _write_statuses(client, catalog) -> dict[str, int]:
    return {
        "create service": client.post("/api/v1/services/", {"name": "New", "price": "1.00"}).status_code,
        "edit service": client.patch(f"/api/v1/services/{catalog.home_visit.pk}/", {"price": "1.00"}).status_code,
        "create template": client.post("/api/v1/package-templates/", _template_payload(catalog)).status_code,
        "edit template": client.patch(f"/api/v1/package-templates/{catalog.home_5.pk}/", {"price": "1.00"}).status_code,
        "deactivate": client.patch(f"/api/v1/package-templates/{catalog.home_5.pk}/", {"is_active": False}).status_code,
        "delete": client.delete(f"/api/v1/package-templates/{catalog.home_5.pk}/").status_code,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["bob", "paula"])
def test_receptionists_and_professionals_read_the_catalog_but_cannot_write(persona, request, catalog) -> None:
    client = api_client(request.getfixturevalue(persona))
    assert client.get("/api/v1/services/").json()["count"] == 2
    assert client.get(f"/api/v1/package-templates/{catalog.home_5.pk}/").status_code == 200
    assert set(_write_statuses(client, catalog).values()) == {403}
    response = client.post("/api/v1/services/", {"name": "New", "price": "1.00"})
    assert response.json() == {
        "code": "permission_denied",
        "detail": "Your role does not allow this action.",
        "fields": {},
    }
    with scopes_disabled():
        assert not Service.objects.filter(name="New").exists()
        assert PackageTemplate.objects.get(pk=catalog.home_5.pk).is_active


@pytest.mark.django_db
def test_branch_receptionist_cannot_add_own_items(rita, catalog) -> None:
    response = api_client(rita).put(
        f"/api/v1/package-templates/{catalog.physio_10.pk}/own-items/",
        {"items": [{"service": catalog.kinesio.pk, "quantity": 1}]},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["alice", "manuel"])
def test_owners_and_managers_manage_the_catalog_by_default(persona, request, catalog) -> None:
    statuses = _write_statuses(api_client(request.getfixturevalue(persona)), catalog)
    assert statuses == {
        "create service": 201,
        "edit service": 200,
        "create template": 201,
        "edit template": 200,
        "deactivate": 200,
        "delete": 204,
    }


@pytest.mark.django_db
def test_the_organization_can_keep_the_catalog_to_owners(alice, manuel, tenant_a, catalog) -> None:
    tenant_a.organization.permission_overrides = {"manage_catalog": ["owner"]}
    tenant_a.organization.save()
    assert set(_write_statuses(api_client(manuel), catalog).values()) == {403}
    assert api_client(alice).post("/api/v1/services/", {"name": "Owner's", "price": "1.00"}).status_code == 201


@pytest.mark.django_db
def test_the_organization_can_let_receptionists_manage_the_catalog(bob, tenant_a, catalog) -> None:
    tenant_a.organization.permission_overrides = {"manage_catalog": ["owner", "manager", "receptionist"]}
    tenant_a.organization.save()
    assert api_client(bob).post("/api/v1/package-templates/", _template_payload(catalog)).status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["bob", "paula"])
def test_pages_hide_write_buttons_and_refuse_writes_for_read_only_roles(persona, request, catalog) -> None:
    client = login(request.getfixturevalue(persona))
    templates = client.get("/packages/").content.decode()
    services = client.get("/packages/services/").content.decode()
    detail = client.get(f"/packages/templates/{catalog.home_5.pk}/").content.decode()
    for content in (templates, services, detail):
        assert 'data-testid="new-template"' not in content
        assert 'data-testid="new-service"' not in content
        assert 'data-testid="edit-template"' not in content
        assert 'data-testid="deactivate-template"' not in content
        assert 'data-testid="export-templates"' not in content
    assert 'data-testid="view-template"' in templates
    assert 'data-testid="own-items-form"' not in detail
    for path in (
        "/packages/templates/new/",
        f"/packages/templates/{catalog.home_5.pk}/edit/",
        "/packages/services/new/",
    ):
        assert client.get(path).status_code == 403
    assert client.post(f"/packages/templates/{catalog.home_5.pk}/active/", {"is_active": "0"}).status_code == 403
    assert client.post(f"/packages/services/{catalog.home_visit.pk}/", {"name": "x"}).status_code == 403
    assert client.get("/packages/templates/export.xlsx").status_code == 403
    # The service page is there, read-only.
    service_page = client.get(f"/packages/services/{catalog.home_visit.pk}/")
    assert service_page.status_code == 200
    assert 'data-testid="service-form"' not in service_page.content.decode()


@pytest.mark.django_db
def test_manager_pages_show_the_write_buttons(manuel, catalog) -> None:
    content = login(manuel).get("/packages/").content.decode()
    assert 'data-testid="new-template"' in content
    assert 'data-testid="export-templates"' in content
    assert f"/packages/templates/{catalog.home_5.pk}/edit/" in content
