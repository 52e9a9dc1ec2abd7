"""Catalog fixtures: more personas of organization A, and a small catalog.

mary is a manager at A's branch, rita a receptionist there; manuel a manager at
A's central. `catalog` holds, for A, a shared and a private service of the
central clinic, a private service of the branch, a shared and a private
template of the central clinic and the branch's own template; and for B (the
outsider) a shared service and template that A must never see.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from clinic.models import Clinic, Role, User
from packages.catalog.models import PackageTemplate, Service
from tests.conftest import Tenant, make_member
from tests.factories import ClinicFactory
from tests.packages.factories import ServiceFactory, make_template


@pytest.fixture
def mary(tenant_a: Tenant) -> User:
    return make_member(tenant_a, "mary", Role.MANAGER, tenant_a.branch)


@pytest.fixture
def rita(tenant_a: Tenant) -> User:
    return make_member(tenant_a, "rita", Role.RECEPTIONIST, tenant_a.branch)


@pytest.fixture
def manuel(tenant_a: Tenant) -> User:
    return make_member(tenant_a, "manuel", Role.MANAGER, tenant_a.central)


@pytest.fixture
def sibling(tenant_a: Tenant) -> Clinic:
    """A third clinic of organization A, a sibling of the branch."""
    return ClinicFactory(organization=tenant_a.organization, name="Alpha North")


@dataclass
class Catalog:
    physio: Service  # central, shared
    home_visit: Service  # central, private
    kinesio: Service  # branch, private
    physio_10: PackageTemplate  # central, shared: 10 x physio, 1000.00
    home_5: PackageTemplate  # central, private: 5 x home visit
    kinesio_4: PackageTemplate  # branch, private: 4 x kinesio
    beta_service: Service  # organization B, shared
    beta_template: PackageTemplate  # organization B, shared


@pytest.fixture
def catalog(tenant_a: Tenant, tenant_b: Tenant) -> Catalog:
    physio = ServiceFactory(
        clinic=tenant_a.central, name="Physiotherapy session", code="FIS-SES", price=Decimal("120.00"), is_shared=True
    )
    home_visit = ServiceFactory(clinic=tenant_a.central, name="Home visit", code="FIS-DOM", price=Decimal("190.00"))
    kinesio = ServiceFactory(clinic=tenant_a.branch, name="Kinesio taping", code="KIN", price=Decimal("60.00"))
    beta_service = ServiceFactory(
        clinic=tenant_b.central, name="Beta massage", code="B-MAS", price=Decimal("99.00"), is_shared=True
    )
    return Catalog(
        physio=physio,
        home_visit=home_visit,
        kinesio=kinesio,
        physio_10=make_template(tenant_a.central, [(physio, 10)], name="Physio 10", is_shared=True),
        home_5=make_template(tenant_a.central, [(home_visit, 5)], name="Home visits 5", price=Decimal("900.00")),
        kinesio_4=make_template(tenant_a.branch, [(kinesio, 4)], name="Kinesio 4", price=Decimal("200.00")),
        beta_service=beta_service,
        beta_template=make_template(tenant_b.central, [(beta_service, 3)], name="Beta 3", is_shared=True),
    )
