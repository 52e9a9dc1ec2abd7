"""On the demo's data: every foreign key between tenant tables joins two
rows of the same organization (what distributing the tables by
`organization_id` needs, docs/scaling.md). The schema walk is
tests/clinic/test_tenant_constraints.py; this checks what the services wrote."""

from __future__ import annotations

from django.db import connection
from django_scopes import scopes_disabled

from clinic import rls
from tests.api.conftest import Demo


def test_every_tenant_foreign_key_joins_rows_of_one_organization(demo: Demo, db) -> None:
    tenant = set(rls.tenant_models())
    crossing, checked = {}, 0
    quote = connection.ops.quote_name
    with scopes_disabled(), connection.cursor() as cursor:
        for model in tenant:
            for field in model._meta.fields:
                target = field.related_model if field.is_relation else None
                if target not in tenant or field.name == "organization":
                    continue
                query = (
                    f"SELECT count(*), count(*) FILTER (WHERE a.organization_id <> b.organization_id) "  # noqa: S608
                    f"FROM {quote(model._meta.db_table)} a JOIN {quote(target._meta.db_table)} b "
                    f"ON a.{quote(field.column)} = b.{quote(target._meta.pk.column)}"
                )
                cursor.execute(query)
                rows, mismatched = cursor.fetchone()
                checked += rows > 0
                if mismatched:
                    crossing[f"{model._meta.label}.{field.name}"] = mismatched
    assert crossing == {}
    assert checked > 50  # the demo's rows exercise most of the keys
