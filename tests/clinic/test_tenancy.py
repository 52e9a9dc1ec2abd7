from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models
from django_scopes import ScopeError, scopes_disabled
from rest_framework import mixins

from clinic.api.base import TenantViewSet
from clinic.models import Clinic, Membership, Organization, User
from tests.conftest import api_client, login

# Models that reach an organization but are deliberately not scoped, each with
# the reason. Adding to this list needs a reviewer's agreement.
UNSCOPED_ON_PURPOSE = {
    # Authentication finds the user before any tenant is known; people are
    # listed through Membership, which is scoped, and the admin filters users.
    User: "authentication",
}


def _reaches_organization(model: type[models.Model], depth: int = 0) -> bool:
    if model is Organization:
        return False
    for field in model._meta.get_fields():
        if not (field.many_to_one or field.one_to_one) or not field.concrete:
            continue
        target = field.related_model
        if target is Organization:
            return True
        # Rows reached only through a user (tokens, admin log entries, who made
        # a change) are the user's, not the tenant's.
        if target in UNSCOPED_ON_PURPOSE or target is None or target is model or depth >= 2:
            continue
        if _reaches_organization(target, depth + 1):
            return True
    return False


def _is_scoped(manager: models.Manager) -> bool:
    return hasattr(manager, "with_scopes_disabled")


def test_every_model_that_belongs_to_an_organization_has_a_scoped_manager() -> None:
    offenders = []
    checked = 0
    for model in apps.get_models(include_auto_created=False):
        if model in UNSCOPED_ON_PURPOSE or not _reaches_organization(model):
            continue
        checked += 1
        if not _is_scoped(model._default_manager):
            offenders.append(model._meta.label)
    assert offenders == []
    # The walk must see the tenant models (and their history tables), or it checks nothing.
    assert checked >= 4


def test_the_walk_detects_a_model_without_a_scoped_manager() -> None:
    # Membership's history table is a tenant model: its default manager is scoped...
    historical = Membership.history.model
    assert _reaches_organization(historical)
    assert _is_scoped(historical._default_manager)
    # ...and a plain manager on the same model would be reported.
    assert not _is_scoped(models.Manager())


@pytest.mark.django_db
def test_unscoped_query_raises(alice: User) -> None:
    with pytest.raises(ScopeError):
        list(Clinic.objects.all())
    with pytest.raises(ScopeError):
        Clinic.objects.filter(name="x").exists()
    with pytest.raises(ScopeError):
        list(Clinic.history.all())


@pytest.mark.django_db
def test_scope_shows_only_its_organization(in_scope_of, tenant_a, tenant_b) -> None:
    with in_scope_of(tenant_a.organization):
        names = set(Clinic.objects.values_list("name", flat=True))
        history_names = set(Clinic.history.values_list("name", flat=True))
    assert names == {"Alpha Central", "Alpha Branch"}
    assert history_names == {"Alpha Central", "Alpha Branch"}


def test_organization_scope_refuses_none(in_scope_of) -> None:
    # django-scopes reads a None value as "no filter": never let it through.
    with pytest.raises(ValueError, match="integer id"), in_scope_of(None):
        pass


@pytest.mark.django_db
def test_api_clinic_of_another_organization_is_404(alice, charlie, tenant_b) -> None:
    client = api_client(alice)
    response = client.get(f"/api/v1/clinics/{tenant_b.central.pk}/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found.", "fields": {}}
    assert client.patch(f"/api/v1/clinics/{tenant_b.central.pk}/", {"name": "x"}).status_code == 404
    with scopes_disabled():
        assert Clinic.objects.get(pk=tenant_b.central.pk).name == "Beta Central"


@pytest.mark.django_db
def test_api_missing_clinic_is_404_like_a_foreign_one(alice) -> None:
    response = api_client(alice).get("/api/v1/clinics/999999/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_api_list_never_shows_another_organization(alice, charlie, tenant_a, tenant_b) -> None:
    body = api_client(alice).get("/api/v1/clinics/").json()
    assert [c["name"] for c in body["results"]] == ["Alpha Central", "Alpha Branch"]
    body = api_client(charlie).get("/api/v1/clinics/").json()
    assert [c["name"] for c in body["results"]] == ["Beta Central", "Beta Branch"]


@pytest.mark.django_db
def test_page_clinic_of_another_organization_is_404(alice, charlie, tenant_b) -> None:
    response = login(alice).get(f"/settings/clinics/{tenant_b.central.pk}/")
    assert response.status_code == 404
    assert b"Beta" not in response.content


@pytest.mark.django_db
def test_settings_page_lists_only_own_organization(alice, charlie) -> None:
    content = login(alice).get("/settings/").content.decode()
    assert "Alpha Central" in content
    assert "Beta" not in content
    assert "charlie" not in content


@pytest.mark.django_db
def test_x_clinic_header_of_another_organization_is_404(alice, tenant_b) -> None:
    response = api_client(alice).get("/api/v1/clinics/", HTTP_X_CLINIC=str(tenant_b.central.pk))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_user_without_organization_sees_no_tenant_data(tenant_a) -> None:
    operator = User.objects.create_user("operator", password="x-long-password-1")
    response = api_client(operator).get("/api/v1/clinics/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_viewset_cannot_override_the_scoped_queryset() -> None:
    with pytest.raises(TypeError, match="get_base_queryset"):

        class Leaky(mixins.ListModelMixin, TenantViewSet):
            def get_queryset(self):
                return Clinic.objects.with_scopes_disabled().all()

    with pytest.raises(TypeError, match="get_object"):

        class Leaky2(TenantViewSet):
            def get_object(self):
                return None


@pytest.mark.django_db
def test_viewset_refuses_a_model_that_is_not_a_tenant_model(alice, rf) -> None:
    class Users(mixins.ListModelMixin, TenantViewSet):
        def get_base_queryset(self):
            return User.objects.all()

    view = Users()
    view.request = rf.get("/")
    with pytest.raises(TypeError, match="not a tenant model"):
        view.get_queryset()


@pytest.mark.django_db
def test_admin_runs_inside_the_organization_scope(alice, charlie, tenant_b) -> None:
    alice.is_staff = alice.is_superuser = True
    alice.save()
    client = login(alice)
    content = client.get("/admin/clinic/clinic/").content.decode()
    assert "Alpha Central" in content
    assert "Beta" not in content
    assert client.get(f"/admin/clinic/clinic/{tenant_b.central.pk}/change/").status_code == 302  # "doesn't exist"
    users = client.get("/admin/clinic/user/").content.decode()
    assert "alice" in users
    assert "charlie" not in users
