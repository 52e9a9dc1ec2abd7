"""Central sharing (T3), from each side: the central clinic, a clinic, a sibling
clinic under each organization setting, and another organization."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from clinic.models import CatalogSharing, Role
from packages.catalog.models import PackageTemplate, PackageTemplateItem, Service
from tests.conftest import api_client, login, make_member
from tests.packages.factories import ServiceFactory, add_own_item, make_template

SHARED_READ_ONLY = {
    "code": "shared_read_only",
    "detail": "This item is shared by another clinic: only that clinic can change it.",
    "fields": {},
}


def _set_sharing(tenant, value: str) -> None:
    tenant.organization.catalog_sharing = value
    tenant.organization.save()


def _names(client, path: str, **headers) -> list[str]:
    body = client.get(path, **headers).json()
    return [row["name"] for row in body["results"]]


@pytest.fixture
def north(tenant_a, sibling, catalog):
    """The sibling clinic's manager, a shared and a private service, a shared template."""
    sam = make_member(tenant_a, "sam", Role.MANAGER, sibling)
    yoga = ServiceFactory(clinic=sibling, name="North yoga", code="YOGA", is_shared=True)
    ServiceFactory(clinic=sibling, name="North private", code="NP")
    make_template(sibling, [(yoga, 8)], name="Yoga 8", is_shared=True, price=Decimal("400.00"))
    return sam


# What each clinic sees ----------------------------------------------------------


@pytest.mark.django_db
def test_central_sees_its_own_services_and_templates(alice, catalog) -> None:
    client = api_client(alice)
    assert _names(client, "/api/v1/services/") == ["Home visit", "Physiotherapy session"]
    assert _names(client, "/api/v1/package-templates/") == ["Home visits 5", "Physio 10"]


@pytest.mark.django_db
def test_a_clinic_sees_its_own_and_centrals_shared_items_only(mary, catalog) -> None:
    client = api_client(mary)
    assert _names(client, "/api/v1/services/") == ["Kinesio taping", "Physiotherapy session"]
    assert _names(client, "/api/v1/package-templates/") == ["Kinesio 4", "Physio 10"]
    # Central's private service and template do not exist for the branch.
    assert client.get(f"/api/v1/services/{catalog.home_visit.pk}/").status_code == 404
    assert client.get(f"/api/v1/package-templates/{catalog.home_5.pk}/").status_code == 404


@pytest.mark.django_db
def test_shared_items_are_marked_shared_and_not_own(mary, tenant_a, catalog) -> None:
    client = api_client(mary)
    service = client.get(f"/api/v1/services/{catalog.physio.pk}/").json()
    assert (service["is_shared"], service["is_own"], service["clinic"]) == (True, False, tenant_a.central.pk)
    template = client.get(f"/api/v1/package-templates/{catalog.physio_10.pk}/").json()
    assert (template["is_shared"], template["is_own"], template["clinic"]) == (True, False, tenant_a.central.pk)
    assert template["items"] == [
        {"service": catalog.physio.pk, "quantity": 10, "clinic": tenant_a.central.pk, "is_own": False}
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("sharing", [CatalogSharing.CENTRAL_ONLY, CatalogSharing.ALL_CLINICS])
def test_central_never_sees_a_clinics_private_items(alice, tenant_a, catalog, sharing) -> None:
    _set_sharing(tenant_a, sharing)
    client = api_client(alice)
    assert client.get(f"/api/v1/services/{catalog.kinesio.pk}/").status_code == 404
    assert client.get(f"/api/v1/package-templates/{catalog.kinesio_4.pk}/").status_code == 404


@pytest.mark.django_db
def test_sibling_shared_items_are_invisible_when_only_central_shares(mary, alice, tenant_a, north) -> None:
    assert _names(api_client(mary), "/api/v1/services/") == ["Kinesio taping", "Physiotherapy session"]
    assert _names(api_client(mary), "/api/v1/package-templates/") == ["Kinesio 4", "Physio 10"]
    # Central does not see a sibling's shared items either: it shares, it does not receive.
    assert "North yoga" not in _names(api_client(alice), "/api/v1/services/")


@pytest.mark.django_db
def test_sibling_shared_items_are_visible_read_only_when_clinics_share_among_themselves(
    mary, alice, tenant_a, north
) -> None:
    _set_sharing(tenant_a, CatalogSharing.ALL_CLINICS)
    client = api_client(mary)
    assert _names(client, "/api/v1/services/") == ["Kinesio taping", "North yoga", "Physiotherapy session"]
    assert _names(client, "/api/v1/package-templates/") == ["Kinesio 4", "Physio 10", "Yoga 8"]
    assert "North private" not in _names(client, "/api/v1/services/?status=all")
    assert _names(api_client(alice), "/api/v1/package-templates/") == ["Home visits 5", "Physio 10", "Yoga 8"]
    with scopes_disabled():
        yoga = Service.objects.get(name="North yoga")
        yoga_8 = PackageTemplate.objects.get(name="Yoga 8")
    response = client.patch(f"/api/v1/services/{yoga.pk}/", {"price": "1.00"})
    assert (response.status_code, response.json()) == (403, SHARED_READ_ONLY)
    response = client.patch(f"/api/v1/package-templates/{yoga_8.pk}/", {"price": "1.00"})
    assert (response.status_code, response.json()) == (403, SHARED_READ_ONLY)


@pytest.mark.django_db
@pytest.mark.parametrize("sharing", [CatalogSharing.CENTRAL_ONLY, CatalogSharing.ALL_CLINICS])
def test_another_organizations_shared_items_are_never_visible(alice, mary, charlie, catalog, tenant_a, sharing) -> None:
    _set_sharing(tenant_a, sharing)
    for client in (api_client(alice), api_client(mary)):
        assert "Beta massage" not in _names(client, "/api/v1/services/?status=all")
        assert "Beta 3" not in _names(client, "/api/v1/package-templates/?status=all")
        assert client.get(f"/api/v1/services/{catalog.beta_service.pk}/").status_code == 404
        assert client.get(f"/api/v1/package-templates/{catalog.beta_template.pk}/").status_code == 404
    # ...and the other way round.
    assert _names(api_client(charlie), "/api/v1/services/") == ["Beta massage"]
    assert _names(api_client(charlie), "/api/v1/package-templates/") == ["Beta 3"]


# Shared items are read-only for other clinics ---------------------------------------


@pytest.mark.django_db
def test_a_clinic_cannot_edit_deactivate_or_delete_a_shared_service(mary, catalog) -> None:
    client = api_client(mary)
    url = f"/api/v1/services/{catalog.physio.pk}/"
    for response in (
        client.patch(url, {"price": "1.00"}),
        client.put(url, {"name": "Mine now", "price": "1.00"}),
        client.patch(url, {"is_active": False}),
        client.delete(url),
    ):
        assert (response.status_code, response.json()) == (403, SHARED_READ_ONLY)
    with scopes_disabled():
        catalog.physio.refresh_from_db()
    assert (catalog.physio.name, catalog.physio.price, catalog.physio.is_active) == (
        "Physiotherapy session",
        Decimal("120.00"),
        True,
    )


@pytest.mark.django_db
def test_a_clinic_cannot_edit_deactivate_or_delete_a_shared_template(mary, catalog) -> None:
    client = api_client(mary)
    url = f"/api/v1/package-templates/{catalog.physio_10.pk}/"
    for response in (
        client.patch(url, {"price": "1.00"}),
        client.patch(url, {"is_active": False}),
        client.delete(url),
    ):
        assert (response.status_code, response.json()) == (403, SHARED_READ_ONLY)
    with scopes_disabled():
        catalog.physio_10.refresh_from_db()
        assert PackageTemplate.objects.filter(
            pk=catalog.physio_10.pk, price=Decimal("1000.00"), is_active=True
        ).exists()


@pytest.mark.django_db
def test_the_same_person_edits_it_from_the_central_clinic(alice, tenant_a, catalog) -> None:
    client = api_client(alice)
    url = f"/api/v1/package-templates/{catalog.physio_10.pk}/"
    response = client.patch(url, {"price": "900.00"}, HTTP_X_CLINIC=str(tenant_a.branch.pk))
    assert response.status_code == 403
    response = client.patch(url, {"price": "900.00"}, HTTP_X_CLINIC=str(tenant_a.central.pk))
    assert response.status_code == 200
    assert response.json()["price"] == "900.00"


@pytest.mark.django_db
def test_a_clinic_uses_a_shared_service_in_its_own_template(mary, tenant_a, catalog) -> None:
    response = api_client(mary).post(
        "/api/v1/package-templates/",
        {"name": "Branch physio 5", "items": [{"service": catalog.physio.pk, "quantity": 5}], "price": "550.00"},
    )
    assert response.status_code == 201
    assert response.json()["clinic"] == tenant_a.branch.pk


@pytest.mark.django_db
def test_a_clinic_cannot_use_a_service_it_does_not_see(mary, catalog) -> None:
    client = api_client(mary)
    for foreign in (catalog.home_visit.pk, catalog.beta_service.pk, 999999):
        response = client.post(
            "/api/v1/package-templates/",
            {"name": "Sneaky", "items": [{"service": foreign, "quantity": 1}], "price": "1.00"},
        )
        assert response.status_code == 400
        assert response.json()["fields"] == {
            "items": {"0": {"service": [f'Invalid pk "{foreign}" - object does not exist.']}}
        }
        assert "Home visit" not in response.content.decode()
        assert "Beta" not in response.content.decode()


# A clinic's own services in a shared template ----------------------------------------


@pytest.mark.django_db
def test_a_clinic_adds_its_own_services_to_a_shared_template(mary, alice, rita, tenant_a, catalog) -> None:
    client = api_client(mary)
    url = f"/api/v1/package-templates/{catalog.physio_10.pk}/own-items/"
    response = client.put(url, {"items": [{"service": catalog.kinesio.pk, "quantity": 2}]})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["items"] == [
        {"service": catalog.physio.pk, "quantity": 10, "clinic": tenant_a.central.pk, "is_own": False},
        {"service": catalog.kinesio.pk, "quantity": 2, "clinic": tenant_a.branch.pk, "is_own": True},
    ]
    assert (body["sessions"], body["price"], body["price_per_session"]) == (12, "1000.00", "83.33")
    # The branch's receptionist sees them too (same clinic)...
    assert len(api_client(rita).get(f"/api/v1/package-templates/{catalog.physio_10.pk}/").json()["items"]) == 2
    # ...the central clinic does not: the template itself is unchanged.
    central = api_client(alice).get(f"/api/v1/package-templates/{catalog.physio_10.pk}/").json()
    assert [(i["service"], i["quantity"]) for i in central["items"]] == [(catalog.physio.pk, 10)]
    assert central["sessions"] == 10
    # Replacing with an empty list removes them.
    assert client.put(url, {"items": []}).json()["sessions"] == 10


@pytest.mark.django_db
@pytest.mark.parametrize("sharing", [CatalogSharing.CENTRAL_ONLY, CatalogSharing.ALL_CLINICS])
def test_own_services_are_visible_only_to_the_clinic_that_added_them(
    mary, north, tenant_a, sibling, catalog, sharing
) -> None:
    _set_sharing(tenant_a, sharing)
    add_own_item(catalog.physio_10, tenant_a.branch, catalog.kinesio, 2)
    body = api_client(north).get(f"/api/v1/package-templates/{catalog.physio_10.pk}/").json()
    assert [(i["service"], i["clinic"]) for i in body["items"]] == [(catalog.physio.pk, tenant_a.central.pk)]


@pytest.mark.django_db
def test_own_services_cannot_repeat_a_shared_item(mary, catalog) -> None:
    response = api_client(mary).put(
        f"/api/v1/package-templates/{catalog.physio_10.pk}/own-items/",
        {"items": [{"service": catalog.physio.pk, "quantity": 2}]},
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"items": ["Already in the shared template: Physiotherapy session."]}


@pytest.mark.django_db
def test_own_services_need_a_template_the_clinic_sees(mary, catalog) -> None:
    client = api_client(mary)
    payload = {"items": [{"service": catalog.kinesio.pk, "quantity": 1}]}
    assert client.put(f"/api/v1/package-templates/{catalog.home_5.pk}/own-items/", payload).status_code == 404
    assert client.put(f"/api/v1/package-templates/{catalog.beta_template.pk}/own-items/", payload).status_code == 404


@pytest.mark.django_db
def test_own_items_from_the_owning_clinic_are_the_templates_items(alice, catalog) -> None:
    response = api_client(alice).put(
        f"/api/v1/package-templates/{catalog.physio_10.pk}/own-items/",
        {"items": [{"service": catalog.physio.pk, "quantity": 12}]},
    )
    assert response.status_code == 200
    assert (response.json()["items"][0]["quantity"], response.json()["sessions"]) == (12, 12)


@pytest.mark.django_db
def test_sharing_a_template_needs_its_services_shared(alice, catalog) -> None:
    response = api_client(alice).patch(f"/api/v1/package-templates/{catalog.home_5.pk}/", {"is_shared": True})
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "is_shared": ["Share these services first, or do not share the template: Home visit."]
    }


@pytest.mark.django_db
def test_unsharing_a_service_another_clinic_uses_is_refused(alice, mary, tenant_a, catalog) -> None:
    api_client(mary).post(
        "/api/v1/package-templates/",
        {"name": "Branch physio 5", "items": [{"service": catalog.physio.pk, "quantity": 5}], "price": "550.00"},
    )
    response = api_client(alice).patch(f"/api/v1/services/{catalog.physio.pk}/", {"is_shared": False})
    assert response.json()["fields"] == {
        "is_shared": ["Other clinics or shared package templates use this service: Branch physio 5, Physio 10."]
    }


@pytest.mark.django_db
def test_unsharing_a_template_keeps_other_clinics_items_but_hides_the_template(mary, alice, tenant_a, catalog) -> None:
    add_own_item(catalog.physio_10, tenant_a.branch, catalog.kinesio, 2)
    assert (
        api_client(alice).patch(f"/api/v1/package-templates/{catalog.physio_10.pk}/", {"is_shared": False}).status_code
        == 200
    )
    assert api_client(mary).get(f"/api/v1/package-templates/{catalog.physio_10.pk}/").status_code == 404
    with scopes_disabled():
        assert PackageTemplateItem.objects.filter(template=catalog.physio_10, clinic=tenant_a.branch).count() == 1


# Pages -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_page_marks_shared_templates_and_hides_their_buttons(mary, catalog) -> None:
    response = login(mary).get("/packages/")
    content = response.content.decode()
    assert [t.name for t in response.context["page"].object_list] == ["Kinesio 4", "Physio 10"]
    assert "Shared by Alpha Central" in content
    assert f"/packages/templates/{catalog.kinesio_4.pk}/edit/" in content
    assert f"/packages/templates/{catalog.physio_10.pk}/edit/" not in content
    assert f"/packages/templates/{catalog.physio_10.pk}/active/" not in content
    assert "Home visits 5" not in content


@pytest.mark.django_db
def test_detail_page_of_a_shared_template_is_read_only_with_own_items_form(mary, tenant_a, catalog) -> None:
    add_own_item(catalog.physio_10, tenant_a.branch, catalog.kinesio, 2)
    response = login(mary).get(f"/packages/templates/{catalog.physio_10.pk}/")
    content = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="read-only-notice"' in content
    assert 'data-testid="template-actions"' not in content
    assert 'data-testid="own-items-form"' in content
    assert [i.service.name for i in response.context["shared_items"]] == ["Physiotherapy session"]
    assert [i.service.name for i in response.context["added_items"]] == ["Kinesio taping"]
    assert response.context["template"].sessions == 12


@pytest.mark.django_db
def test_shared_template_pages_refuse_writes_from_another_clinic(mary, catalog) -> None:
    client = login(mary)
    pk = catalog.physio_10.pk
    assert client.get(f"/packages/templates/{pk}/edit/").status_code == 302  # to the read-only page
    assert client.post(f"/packages/templates/{pk}/edit/", {"name": "x"}).status_code == 403
    assert client.post(f"/packages/templates/{pk}/active/", {"is_active": "0"}).status_code == 403
    assert client.post(f"/packages/templates/{pk}/delete/").status_code == 403
    assert client.post(f"/packages/services/{catalog.physio.pk}/", {"name": "x"}).status_code == 403
    assert client.post(f"/packages/services/{catalog.physio.pk}/active/", {"is_active": "0"}).status_code == 403
    assert client.post(f"/packages/services/{catalog.physio.pk}/delete/").status_code == 403
    with scopes_disabled():
        assert PackageTemplate.objects.get(pk=pk).is_active
        assert Service.objects.get(pk=catalog.physio.pk).is_active


@pytest.mark.django_db
def test_shared_service_page_is_read_only(mary, catalog) -> None:
    response = login(mary).get(f"/packages/services/{catalog.physio.pk}/")
    content = response.content.decode()
    assert 'data-testid="read-only-notice"' in content
    assert 'data-testid="service-form"' not in content
    assert "Shared by Alpha Central" in content


@pytest.mark.django_db
def test_a_clinic_saves_its_own_services_on_the_shared_template_page(mary, tenant_a, catalog) -> None:
    client = login(mary)
    response = client.post(
        f"/packages/templates/{catalog.physio_10.pk}/own-items/",
        {
            "items-TOTAL_FORMS": "1",
            "items-INITIAL_FORMS": "0",
            "items-0-service": str(catalog.kinesio.pk),
            "items-0-quantity": "2",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        assert list(
            PackageTemplateItem.objects.filter(template=catalog.physio_10).values_list("clinic_id", "quantity")
        ) == [(tenant_a.central.pk, 10), (tenant_a.branch.pk, 2)]
    assert "Your clinic&#x27;s services in “Physio 10” saved." in client.get(response["Location"]).content.decode()


@pytest.mark.django_db
def test_own_services_page_shows_errors_on_the_form(mary, catalog) -> None:
    response = login(mary).post(
        f"/packages/templates/{catalog.physio_10.pk}/own-items/",
        {
            "items-TOTAL_FORMS": "1",
            "items-INITIAL_FORMS": "0",
            "items-0-service": str(catalog.physio.pk),
            "items-0-quantity": "2",
        },
    )
    assert response.status_code == 200
    assert "Already in the shared template: Physiotherapy session." in response.content.decode()
