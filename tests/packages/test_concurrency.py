"""Races on real Postgres: simultaneous writes end in one clear outcome, never a 500."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django_scopes import scopes_disabled

from clinic.errors import ApplicationError
from clinic.tenancy import organization_scope
from packages.catalog import services
from packages.catalog.models import PackageTemplate, PackageTemplateItem
from tests.conftest import make_tenant
from tests.packages.factories import ServiceFactory


def _race(*calls) -> list[object]:
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except ApplicationError as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_templates_with_the_same_name_at_once_one_wins_the_other_gets_a_clear_error() -> None:
    tenant = make_tenant("Race")
    physio = ServiceFactory(clinic=tenant.central, name="Physio", is_shared=True)

    def create():
        with organization_scope(tenant.organization):
            data = services.TemplateInput(
                name="Physio 10",
                price=Decimal("1000.00"),
                items=(services.TemplateItemInput(service=physio, quantity=10),),
            )
            return services.package_template_create(clinic=tenant.central, data=data)

    results = _race(create, create)
    created = [r for r in results if isinstance(r, PackageTemplate)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert (len(created), len(refused)) == (1, 1)
    assert refused[0].code == "validation_error"
    with scopes_disabled():
        assert PackageTemplate.objects.filter(name="Physio 10").count() == 1
        assert PackageTemplateItem.objects.filter(template__name="Physio 10").count() == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_own_items_edits_of_one_clinic_are_serialised() -> None:
    tenant = make_tenant("Race")
    physio = ServiceFactory(clinic=tenant.central, name="Physio", is_shared=True)
    tape = ServiceFactory(clinic=tenant.branch, name="Tape")
    massage = ServiceFactory(clinic=tenant.branch, name="Massage")
    with organization_scope(tenant.organization):
        template = services.package_template_create(
            clinic=tenant.central,
            data=services.TemplateInput(
                name="Physio 10",
                price=Decimal("1000.00"),
                items=(services.TemplateItemInput(service=physio, quantity=10),),
                is_shared=True,
            ),
        )

    def own(service):
        def call():
            with organization_scope(tenant.organization):
                return services.package_template_set_own_items(
                    template=template,
                    clinic=tenant.branch,
                    items=(services.TemplateItemInput(service=service, quantity=2),),
                )

        return call

    results = _race(own(tape), own(massage))
    assert all(isinstance(r, PackageTemplate) for r in results)
    with scopes_disabled():
        # The template lock serialises them: the last one wins, whole.
        own_items = list(PackageTemplateItem.objects.filter(template=template, clinic=tenant.branch))
    assert len(own_items) == 1
    assert own_items[0].service_id in {tape.pk, massage.pk}
