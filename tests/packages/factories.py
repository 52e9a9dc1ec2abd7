"""Factories of the catalog. Like every tenant factory they create inside
`scopes_disabled`, since fixtures set up several organizations at once."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import factory
from django_scopes import scopes_disabled

from clinic.models import Clinic
from packages.catalog.models import PackageTemplate, PackageTemplateItem, PackageTemplateServiceLimit, Service
from tests.factories import ClinicFactory, TenantFactory


class ServiceFactory(TenantFactory):
    class Meta:
        model = Service

    clinic = factory.SubFactory(ClinicFactory)
    organization = factory.SelfAttribute("clinic.organization")
    name = factory.Sequence(lambda n: f"Service {n}")
    code = factory.Sequence(lambda n: f"S{n:03d}")
    price = Decimal("100.00")
    duration_minutes = 50
    is_shared = False


class PackageTemplateFactory(TenantFactory):
    class Meta:
        model = PackageTemplate

    clinic = factory.SubFactory(ClinicFactory)
    organization = factory.SelfAttribute("clinic.organization")
    name = factory.Sequence(lambda n: f"Template {n}")
    price = Decimal("1000.00")


class PackageTemplateItemFactory(TenantFactory):
    class Meta:
        model = PackageTemplateItem

    template = factory.SubFactory(PackageTemplateFactory)
    organization = factory.SelfAttribute("template.organization")
    clinic = factory.SelfAttribute("template.clinic")
    service = factory.SubFactory(ServiceFactory, clinic=factory.SelfAttribute("..template.clinic"))
    quantity = 10


class ServiceLimitFactory(TenantFactory):
    class Meta:
        model = PackageTemplateServiceLimit

    template = factory.SubFactory(PackageTemplateFactory)
    organization = factory.SelfAttribute("template.organization")
    service = factory.SubFactory(ServiceFactory, clinic=factory.SelfAttribute("..template.clinic"))
    max_quantity = 10


def make_template(clinic: Clinic, items: Sequence[tuple[Service, int]], **fields: Any) -> PackageTemplate:
    """A template of `clinic` whose own items are `items` [(service, quantity)]."""
    template = PackageTemplateFactory(clinic=clinic, organization=clinic.organization, **fields)
    for service, quantity in items:
        PackageTemplateItemFactory(template=template, service=service, quantity=quantity)
    return template


def add_own_item(template: PackageTemplate, clinic: Clinic, service: Service, quantity: int) -> PackageTemplateItem:
    with scopes_disabled():
        return PackageTemplateItemFactory(template=template, clinic=clinic, service=service, quantity=quantity)
