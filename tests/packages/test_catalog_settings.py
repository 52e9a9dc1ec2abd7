"""Settings > Catalog sharing and permissions (T3, T4)."""

from __future__ import annotations

import pytest

from clinic.models import Organization
from tests.conftest import api_client, login


@pytest.mark.django_db
def test_owner_sees_the_current_settings(alice) -> None:
    response = login(alice).get("/settings/catalog/")
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial == {"catalog_sharing": "central_only", "catalog_roles": ["manager", "owner"]}
    content = response.content.decode()
    assert 'data-testid="save-catalog-settings"' in content
    assert 'data-testid="settings-catalog"' in content  # the settings navigation links it


@pytest.mark.django_db
def test_owner_changes_sharing_and_catalog_roles(alice, manuel, tenant_a, catalog) -> None:
    client = login(alice)
    response = client.post("/settings/catalog/", {"catalog_sharing": "all_clinics", "catalog_roles": ["receptionist"]})
    assert response.status_code == 302
    organization = Organization.objects.get(pk=tenant_a.organization.pk)
    assert organization.catalog_sharing == "all_clinics"
    # Owners always keep the permission; the manager lost it.
    assert organization.permission_overrides == {"manage_catalog": ["owner", "receptionist"]}
    assert api_client(manuel).post("/api/v1/services/", {"name": "X", "price": "1.00"}).status_code == 403
    assert "Catalog settings saved." in client.get("/settings/catalog/").content.decode()
    assert organization.history.first().history_user == alice


@pytest.mark.django_db
def test_other_overrides_are_kept(alice, tenant_a) -> None:
    tenant_a.organization.permission_overrides = {"export_reports": ["owner"]}
    tenant_a.organization.save()
    login(alice).post("/settings/catalog/", {"catalog_sharing": "central_only", "catalog_roles": ["manager"]})
    organization = Organization.objects.get(pk=tenant_a.organization.pk)
    assert organization.permission_overrides == {
        "export_reports": ["owner"],
        "manage_catalog": ["owner", "manager"],
    }


@pytest.mark.django_db
def test_invalid_choice_is_shown_on_the_form(alice, tenant_a) -> None:
    response = login(alice).post("/settings/catalog/", {"catalog_sharing": "everyone", "catalog_roles": ["god"]})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"catalog_sharing", "catalog_roles"}
    assert Organization.objects.get(pk=tenant_a.organization.pk).catalog_sharing == "central_only"


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["manuel", "bob"])
def test_only_owners_change_the_settings(persona, request, tenant_a) -> None:
    client = login(request.getfixturevalue(persona))
    page = client.get("/settings/catalog/")
    assert page.status_code == 200
    assert 'data-testid="save-catalog-settings"' not in page.content.decode()
    response = client.post("/settings/catalog/", {"catalog_sharing": "all_clinics", "catalog_roles": []})
    assert response.status_code == 403
    assert Organization.objects.get(pk=tenant_a.organization.pk).catalog_sharing == "central_only"


@pytest.mark.django_db
def test_settings_page_shows_only_the_callers_organization(alice, charlie, tenant_b) -> None:
    tenant_b.organization.catalog_sharing = "all_clinics"
    tenant_b.organization.save()
    login(charlie).post("/settings/catalog/", {"catalog_sharing": "all_clinics", "catalog_roles": ["professional"]})
    response = login(alice).get("/settings/catalog/")
    assert response.context["form"].initial["catalog_sharing"] == "central_only"
    assert b"Beta" not in response.content
