"""The catalog's forms show every error on the first submit (issue 14): a
name the clinic already uses shows with the fields' own errors."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from packages.catalog.models import PackageTemplate
from tests.conftest import login
from tests.packages.test_pages import _form_data


@pytest.mark.django_db
def test_template_form_shows_a_taken_name_with_the_fields_errors(manuel, catalog, tenant_a) -> None:
    taken = catalog.physio_10.name
    response = login(manuel).post("/packages/templates/new/", _form_data(catalog, name=taken, price="abc"))
    assert response.status_code == 200
    errors = response.context["editor"].form.errors
    assert errors["name"] == ["This clinic already has a package template with this name."]
    assert set(errors) == {"name", "price"}
    content = response.content.decode()
    assert "This clinic already has a package template with this name." in content
    with scopes_disabled():
        assert PackageTemplate.objects.filter(clinic=tenant_a.central, name=taken).count() == 1


@pytest.mark.django_db
def test_editing_a_template_does_not_clash_with_its_own_name(alice, catalog) -> None:
    template = catalog.physio_10
    response = login(alice).post(
        f"/packages/templates/{template.pk}/edit/", _form_data(catalog, name=template.name, price="abc")
    )
    assert set(response.context["editor"].form.errors) == {"price"}
