"""The catalog pages: template list (S4), template form, services."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from packages.catalog.models import PackageTemplate, PackageTemplateServiceLimit, Service
from tests.conftest import login
from tests.packages.factories import ServiceFactory, make_template


def _names(response) -> list[str]:
    return [row.name for row in response.context["page"].object_list]


@pytest.mark.django_db
def test_template_list_filters_by_name_status_and_sharing(alice, tenant_a, catalog) -> None:
    make_template(tenant_a.central, [(catalog.physio, 4)], name="Physio 4 (old)", is_active=False, is_shared=True)
    client = login(alice)
    assert _names(client.get("/packages/")) == ["Home visits 5", "Physio 10"]  # active by default
    assert _names(client.get("/packages/?status=all")) == ["Home visits 5", "Physio 10", "Physio 4 (old)"]
    assert _names(client.get("/packages/?status=deactivated")) == ["Physio 4 (old)"]
    assert _names(client.get("/packages/?name=physio&status=all")) == ["Physio 10", "Physio 4 (old)"]
    assert _names(client.get("/packages/?name=  visits ")) == ["Home visits 5"]
    assert _names(client.get("/packages/?shared=true&status=all")) == ["Physio 10", "Physio 4 (old)"]
    assert _names(client.get("/packages/?shared=false")) == ["Home visits 5"]
    response = client.get("/packages/?name=nothing")
    assert _names(response) == []
    assert "Nothing matches these filters." in response.content.decode()


@pytest.mark.django_db
def test_an_unknown_filter_value_is_ignored(alice, catalog) -> None:
    response = login(alice).get("/packages/?status=bogus&shared=maybe")
    assert response.status_code == 200
    assert _names(response) == ["Home visits 5", "Physio 10"]


@pytest.mark.django_db
def test_template_list_shows_terms_of_each_row(alice, catalog) -> None:
    content = login(alice).get("/packages/").content.decode()
    assert "10&nbsp;\N{MULTIPLICATION SIGN}&nbsp;Physiotherapy session" in content
    assert "R$\xa01,000.00" in content  # total price
    assert "R$\xa0100.00" in content  # per session
    assert 'data-testid="new-template"' in content
    assert 'data-testid="tab-templates"' in content
    assert 'data-testid="tab-services"' in content


@pytest.mark.django_db
def test_template_list_is_paginated(alice, tenant_a, catalog) -> None:
    for n in range(55):
        make_template(tenant_a.central, [(catalog.physio, 1)], name=f"Bulk {n:02d}")
    client = login(alice)
    first = client.get("/packages/")
    assert len(first.context["page"].object_list) == 50
    second = client.get("/packages/?page=2")
    assert [t.name for t in second.context["page"].object_list][-2:] == ["Home visits 5", "Physio 10"]
    assert "51\N{EN DASH}57 of 57" in second.content.decode()


def _form_data(catalog, **changes) -> dict[str, str]:
    data = {
        "name": "Pilates 8",
        "price": "560.00",
        "sessions": "",
        "validity_days": "31",
        "renewal": "monthly",
        "posting": "per_procedure",
        "commission_kind": "fixed",
        "commission_value": "25.00",
        "trigger_service": "",
        "max_appointments": "8",
        "max_amount": "",
        "is_shared": "on",
        "items-TOTAL_FORMS": "2",
        "items-INITIAL_FORMS": "0",
        "items-0-service": str(catalog.physio.pk),
        "items-0-quantity": "8",
        "items-1-service": "",
        "items-1-quantity": "1",
        "limits-TOTAL_FORMS": "1",
        "limits-INITIAL_FORMS": "0",
        "limits-0-service": str(catalog.physio.pk),
        "limits-0-max_quantity": "8",
        "limits-0-max_amount": "",
    }
    data.update(changes)
    return data


@pytest.mark.django_db
def test_manager_creates_a_shared_template_on_the_page(manuel, tenant_a, catalog) -> None:
    client = login(manuel)
    assert client.get("/packages/templates/new/").status_code == 200
    response = client.post("/packages/templates/new/", _form_data(catalog))
    assert response.status_code == 302
    with scopes_disabled():
        template = PackageTemplate.objects.get(name="Pilates 8")
        limit = PackageTemplateServiceLimit.objects.get(template=template)
        items = list(template.items.values_list("service_id", "quantity", "clinic_id"))
    assert response["Location"] == f"/packages/templates/{template.pk}/"
    assert (template.clinic, template.price, template.renewal, template.is_shared) == (
        tenant_a.central,
        Decimal("560.00"),
        "monthly",
        True,
    )
    assert (template.commission_kind, template.commission_value, template.max_appointments) == (
        "fixed",
        Decimal("25.00"),
        8,
    )
    assert items == [(catalog.physio.pk, 8, tenant_a.central.pk)]
    assert (limit.service_id, limit.max_quantity, limit.max_amount) == (catalog.physio.pk, 8, None)
    detail = client.get(response["Location"])
    assert "Package template “Pilates 8” created." in detail.content.decode()
    assert detail.context["session_prices"] == {"regular": Decimal("70.00"), "last": Decimal("70.00"), "differs": False}


@pytest.mark.django_db
def test_amounts_are_typed_in_the_users_language(manuel, catalog) -> None:
    client = login(manuel)
    client.post("/i18n/setlang/", {"language": "pt-br"})
    response = client.post(
        "/packages/templates/new/", _form_data(catalog, price="1.000,50", **{"limits-TOTAL_FORMS": "0"})
    )
    assert response.status_code == 302
    with scopes_disabled():
        assert PackageTemplate.objects.get(name="Pilates 8").price == Decimal("1000.50")
    response = client.post(
        "/packages/templates/new/",
        _form_data(catalog, name="Pilates 2", price="99,9", **{"limits-TOTAL_FORMS": "0"}),
    )
    with scopes_disabled():
        assert PackageTemplate.objects.get(name="Pilates 2").price == Decimal("99.90")


@pytest.mark.django_db
def test_template_form_shows_service_errors_on_the_form(manuel, catalog) -> None:
    response = login(manuel).post(
        "/packages/templates/new/",
        _form_data(catalog, **{"items-0-service": str(catalog.home_visit.pk), "limits-TOTAL_FORMS": "0"}),
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "Share these services first, or do not share the template: Home visit." in content
    response = login(manuel).post(
        "/packages/templates/new/",
        _form_data(catalog, **{"items-0-service": "", "items-0-quantity": "1", "limits-TOTAL_FORMS": "0"}),
    )
    assert "Add at least one service to the template." in response.content.decode()
    with scopes_disabled():
        assert not PackageTemplate.objects.filter(name="Pilates 8").exists()


@pytest.mark.django_db
def test_template_form_refuses_a_service_the_clinic_does_not_see(mary, catalog) -> None:
    response = login(mary).post(
        "/packages/templates/new/",
        _form_data(
            catalog,
            is_shared="",
            **{"items-0-service": str(catalog.home_visit.pk), "limits-TOTAL_FORMS": "0"},
        ),
    )
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert "Home visit" not in response.content.decode()


@pytest.mark.django_db
def test_manager_edits_a_template_and_removes_an_item(alice, tenant_a, catalog) -> None:
    extra = ServiceFactory(clinic=tenant_a.central, name="Assessment", is_shared=True)
    client = login(alice)
    page = client.get(f"/packages/templates/{catalog.physio_10.pk}/edit/")
    assert page.status_code == 200
    assert page.context["editor"].form.initial["price"] == Decimal("1000.00")
    data = _form_data(
        catalog,
        name="Physio 10",
        price="1100.00",
        renewal="none",
        validity_days="",
        commission_kind="none",
        commission_value="",
        max_appointments="",
        **{
            "items-TOTAL_FORMS": "2",
            "items-INITIAL_FORMS": "1",
            "items-0-service": str(catalog.physio.pk),
            "items-0-quantity": "10",
            "items-0-DELETE": "on",
            "items-1-service": str(extra.pk),
            "items-1-quantity": "1",
            "limits-TOTAL_FORMS": "0",
        },
    )
    response = client.post(f"/packages/templates/{catalog.physio_10.pk}/edit/", data)
    assert response.status_code == 302
    with scopes_disabled():
        template = PackageTemplate.objects.get(pk=catalog.physio_10.pk)
        assert list(template.items.values_list("service__name", "quantity")) == [("Assessment", 1)]
    assert (template.price, template.validity_days, template.commission_kind) == (Decimal("1100.00"), None, "none")


@pytest.mark.django_db
def test_deactivate_and_reactivate_from_the_list(alice, catalog) -> None:
    client = login(alice)
    url = f"/packages/templates/{catalog.home_5.pk}/active/"
    response = client.post(url, {"is_active": "0", "next": "/packages/?name=home"})
    assert response["Location"] == "/packages/?name=home"
    with scopes_disabled():
        assert not PackageTemplate.objects.get(pk=catalog.home_5.pk).is_active
    assert "Package template “Home visits 5” deactivated." in client.get("/packages/").content.decode()
    client.post(url, {"is_active": "1", "next": "https://evil.example/"})
    with scopes_disabled():
        assert PackageTemplate.objects.get(pk=catalog.home_5.pk).is_active


@pytest.mark.django_db
def test_delete_a_template_on_its_page(alice, catalog) -> None:
    response = login(alice).post(f"/packages/templates/{catalog.home_5.pk}/delete/")
    assert response["Location"] == "/packages/"
    with scopes_disabled():
        assert not PackageTemplate.objects.filter(pk=catalog.home_5.pk).exists()


@pytest.mark.django_db
def test_detail_page_shows_the_terms(alice, catalog) -> None:
    response = login(alice).get(f"/packages/templates/{catalog.physio_10.pk}/")
    content = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="template-actions"' in content
    assert 'data-testid="read-only-notice"' not in content
    assert response.context["template"].sessions == 10
    assert "No budget limits" in content


@pytest.mark.django_db
def test_price_preview_follows_the_money_rules(manuel, catalog) -> None:
    client = login(manuel)
    data = _form_data(catalog, price="1000.00", **{"items-0-quantity": "3"})
    response = client.post("/packages/templates/preview/", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    preview = response.context["preview"]
    assert (preview["sessions"], preview["regular"], preview["last"], preview["differs"]) == (
        3,
        Decimal("333.33"),
        Decimal("333.34"),
        True,
    )
    assert "Last session: R$\xa0333.34 (absorbs the rounding)" in response.content.decode()


@pytest.mark.django_db
def test_price_preview_with_no_sessions_is_a_clear_message_never_nan(manuel, catalog) -> None:
    response = login(manuel).post(
        "/packages/templates/preview/", _form_data(catalog, **{"items-0-service": ""}), HTTP_HX_REQUEST="true"
    )
    content = response.content.decode()
    assert "The number of sessions must be at least 1" in content
    assert "NaN" not in content


@pytest.mark.django_db
def test_price_preview_of_an_existing_template_starts_from_its_values(alice, catalog) -> None:
    response = login(alice).get(f"/packages/templates/{catalog.physio_10.pk}/edit/")
    preview = response.context["preview"]
    assert (preview["sessions"], preview["regular"], preview["currency"]) == (10, Decimal("100.00"), "BRL")


# Services -------------------------------------------------------------------------


@pytest.mark.django_db
def test_service_list_filters(alice, tenant_a, catalog) -> None:
    ServiceFactory(clinic=tenant_a.central, name="Old massage", code="OLD", is_active=False)
    client = login(alice)
    assert _names(client.get("/packages/services/")) == ["Home visit", "Physiotherapy session"]
    assert _names(client.get("/packages/services/?status=deactivated")) == ["Old massage"]
    assert _names(client.get("/packages/services/?name=FIS-DOM")) == ["Home visit"]
    assert _names(client.get("/packages/services/?shared=true")) == ["Physiotherapy session"]


@pytest.mark.django_db
def test_manager_creates_and_edits_a_service_on_the_page(manuel, tenant_a) -> None:
    client = login(manuel)
    response = client.post(
        "/packages/services/new/",
        {"name": "Pilates class", "code": "pil", "price": "85.00", "duration_minutes": "55", "is_shared": "on"},
    )
    assert response["Location"] == "/packages/services/"
    with scopes_disabled():
        service = Service.objects.get(name="Pilates class")
    assert (service.code, service.price, service.clinic, service.is_shared) == (
        "PIL",
        Decimal("85.00"),
        tenant_a.central,
        True,
    )
    response = client.post(
        f"/packages/services/{service.pk}/",
        {"name": "Pilates class", "code": "PIL", "price": "90.00", "duration_minutes": "55"},
    )
    assert response.status_code == 302
    service.refresh_from_db()
    assert (service.price, service.is_shared) == (Decimal("90.00"), False)


@pytest.mark.django_db
def test_service_form_shows_errors(manuel, catalog) -> None:
    response = login(manuel).post(
        "/packages/services/new/", {"name": "Home visit", "code": "", "price": "-1", "duration_minutes": "0"}
    )
    assert response.status_code == 200
    # The name the clinic already uses shows on the same submit (issue 14), on its field.
    errors = response.context["form"].errors
    assert set(errors) == {"name", "price", "duration_minutes"}
    assert errors["name"] == ["This clinic already has a service with this name."]
    response = login(manuel).post(
        "/packages/services/new/", {"name": "Home visit", "code": "", "price": "1.00", "duration_minutes": "50"}
    )
    assert "This clinic already has a service with this name." in response.content.decode()


@pytest.mark.django_db
def test_service_deactivate_reactivate_and_delete(alice, tenant_a, catalog) -> None:
    client = login(alice)
    client.post(f"/packages/services/{catalog.home_visit.pk}/active/", {"is_active": "0"})
    with scopes_disabled():
        assert not Service.objects.get(pk=catalog.home_visit.pk).is_active
    client.post(f"/packages/services/{catalog.home_visit.pk}/active/", {"is_active": "1"})
    response = client.post(f"/packages/services/{catalog.home_visit.pk}/delete/")
    assert response["Location"] == f"/packages/services/{catalog.home_visit.pk}/"
    assert "This service is used by package templates" in client.get(response["Location"]).content.decode()
    unused = ServiceFactory(clinic=tenant_a.central, name="Unused")
    assert client.post(f"/packages/services/{unused.pk}/delete/")["Location"] == "/packages/services/"
    with scopes_disabled():
        assert Service.objects.filter(pk=catalog.home_visit.pk, is_active=True).exists()
        assert not Service.objects.filter(pk=unused.pk).exists()


@pytest.mark.django_db
def test_packages_index_is_the_template_list(alice, catalog) -> None:
    from django.urls import reverse

    assert reverse("packages:index") == "/packages/"
    response = login(alice).get(reverse("packages:index"))
    assert response.templates[0].name == "packages/template_list.html"
