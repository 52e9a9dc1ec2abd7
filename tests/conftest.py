"""Shared fixtures and personas.

alice owns the central clinic of organization A, bob is a receptionist there,
paula a professional; charlie is the owner of organization B, an outsider
whose data must never show to the others and the other way round.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from clinic import tokens
from clinic.models import Clinic, Organization, Role, User
from clinic.tenancy import organization_scope
from tests.factories import PASSWORD, ClinicFactory, MembershipFactory, OrganizationFactory, UserFactory


@dataclass
class Tenant:
    organization: Organization
    central: Clinic
    branch: Clinic


def make_tenant(name: str) -> Tenant:
    organization = OrganizationFactory(name=name)
    central = ClinicFactory(organization=organization, name=f"{name} Central", is_central=True)
    branch = ClinicFactory(organization=organization, name=f"{name} Branch")
    return Tenant(organization, central, branch)


def make_member(tenant: Tenant, username: str, role: Role, *clinics: Clinic) -> User:
    user = UserFactory(username=username, organization=tenant.organization)
    for clinic in clinics or (tenant.central,):
        MembershipFactory(user=user, clinic=clinic, role=role)
    return user


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    # Redis outlives a test: throttles and lockouts must not leak between tests.
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    # LocaleMiddleware leaves the last request's language active in the
    # thread; every test starts from the default.
    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def tenant_a(db: None) -> Tenant:
    return make_tenant("Alpha")


@pytest.fixture
def tenant_b(db: None) -> Tenant:
    return make_tenant("Beta")


@pytest.fixture
def alice(tenant_a: Tenant) -> User:
    return make_member(tenant_a, "alice", Role.OWNER, tenant_a.central, tenant_a.branch)


@pytest.fixture
def bob(tenant_a: Tenant) -> User:
    return make_member(tenant_a, "bob", Role.RECEPTIONIST)


@pytest.fixture
def paula(tenant_a: Tenant) -> User:
    return make_member(tenant_a, "paula", Role.PROFESSIONAL)


@pytest.fixture
def charlie(tenant_b: Tenant) -> User:
    return make_member(tenant_b, "charlie", Role.OWNER, tenant_b.central, tenant_b.branch)


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_client(user: User) -> APIClient:
    client = APIClient()
    _token, key = tokens.token_issue(user=user, name="tests")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def in_scope_of():
    """Run ORM code in a test body inside one organization's scope."""
    return organization_scope


@pytest.fixture
def password() -> str:
    return PASSWORD
