"""Every list (pages, endpoints, the export) runs a fixed number of queries,
whatever the number of rows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import api_client, login
from tests.packages.factories import ServiceFactory, ServiceLimitFactory, add_own_item, make_template


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(path).status_code == 200
    return len(context.captured_queries)


def _grow(tenant_a, catalog, n: int = 30) -> None:
    for i in range(n):
        service = ServiceFactory(clinic=tenant_a.central, name=f"Service {i:02d}", is_shared=True)
        other = ServiceFactory(clinic=tenant_a.branch, name=f"Branch service {i:02d}")
        template = make_template(
            tenant_a.central,
            [(service, 5), (catalog.physio, 2)],
            name=f"Template {i:02d}",
            is_shared=True,
            trigger_service=service,
            max_amount=Decimal("500.00"),
        )
        ServiceLimitFactory(template=template, service=service, max_quantity=5)
        add_own_item(template, tenant_a.branch, other, 1)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["alice", "mary"])
def test_catalog_lists_query_count_does_not_grow(persona, request, tenant_a, catalog) -> None:
    user = request.getfixturevalue(persona)
    api, web = api_client(user), login(user)
    paths = {
        "api services": (api, "/api/v1/services/"),
        "api templates": (api, "/api/v1/package-templates/"),
        "page templates": (web, "/packages/?status=all"),
        "page services": (web, "/packages/services/?status=all"),
    }
    one = {name: _queries(client, path) for name, (client, path) in paths.items()}
    _grow(tenant_a, catalog)
    many = {name: _queries(client, path) for name, (client, path) in paths.items()}
    assert many == one


@pytest.mark.django_db
def test_export_query_count_does_not_grow(alice, tenant_a, catalog) -> None:
    client = login(alice)
    one = _queries(client, "/packages/templates/export.xlsx?status=all")
    _grow(tenant_a, catalog)
    assert _queries(client, "/packages/templates/export.xlsx?status=all") == one


@pytest.mark.django_db
def test_template_detail_query_count_does_not_grow_with_items(mary, tenant_a, catalog) -> None:
    client = login(mary)
    one = _queries(client, f"/packages/templates/{catalog.physio_10.pk}/")
    for i in range(15):
        service = ServiceFactory(clinic=tenant_a.central, name=f"Extra {i}", is_shared=True)
        make_template(tenant_a.central, [(service, 1)], name=f"Other {i}")
        add_own_item(catalog.physio_10, tenant_a.branch, ServiceFactory(clinic=tenant_a.branch), 1)
    assert _queries(client, f"/packages/templates/{catalog.physio_10.pk}/") == one
