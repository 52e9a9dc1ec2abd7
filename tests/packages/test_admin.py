"""The catalog in the admin: scoped, read-only, actions through the services."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from packages.catalog.models import PackageTemplate
from tests.conftest import login


@pytest.fixture
def staff_alice(alice):
    alice.is_staff = alice.is_superuser = True
    alice.save()
    return alice


@pytest.mark.django_db
def test_admin_lists_only_the_organizations_catalog(staff_alice, catalog) -> None:
    client = login(staff_alice)
    content = client.get("/admin/catalog/packagetemplate/").content.decode()
    assert "Physio 10" in content
    assert "Beta 3" not in content
    assert "Beta massage" not in client.get("/admin/catalog/service/").content.decode()
    assert client.get(f"/admin/catalog/packagetemplate/{catalog.beta_template.pk}/change/").status_code == 302
    page = client.get(f"/admin/catalog/packagetemplate/{catalog.physio_10.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()  # read-only
    assert client.get("/admin/catalog/service/add/").status_code == 403


@pytest.mark.django_db
def test_admin_action_deactivates_through_the_service(staff_alice, catalog) -> None:
    response = login(staff_alice).post(
        "/admin/catalog/packagetemplate/",
        {"action": "deactivate", "_selected_action": [str(catalog.physio_10.pk), str(catalog.kinesio_4.pk)]},
    )
    assert response.status_code == 302
    with scopes_disabled():
        assert not PackageTemplate.objects.get(pk=catalog.physio_10.pk).is_active
        assert not PackageTemplate.objects.get(pk=catalog.kinesio_4.pk).is_active
        assert PackageTemplate.objects.get(pk=catalog.beta_template.pk).is_active
