"""Row-level security: PostgreSQL itself refuses another tenant's rows.

django-scopes makes an unscoped ORM query an error; these policies are the
second wall, for what the ORM does not see: raw SQL, a report's hand-written
query, a bug in a manager. Every tenant table (every model with an
`organization` foreign key, the users table excepted: a user is looked up by
username before any organization is known) gets

    ENABLE and FORCE ROW LEVEL SECURITY (FORCE: its owner is subject too)
    POLICY tenant_isolation: organization_id is among the ids in the
    connection's `clinic.organization` setting, or the setting is `*`

and `clinic.db.base.DatabaseWrapper` keeps that setting equal to the
current django-scopes scope. A role with BYPASSRLS, or a superuser, is not
subject to the policies: migrations may run as one (and `migrate` runs with
the scope disabled, `*`, for any other role).

The policies are (re)installed after every `migrate` (`post_migrate`), so a
table added later is covered without a migration of its own; SQLite has no
row-level security, and nothing is installed there.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import connections, models

from clinic.db.base import ALL, SETTING

POLICY = "tenant_isolation"
# CASE, not OR: PostgreSQL may evaluate both sides of an OR, and "*" is no bigint.
CONDITION = (
    f"CASE current_setting('{SETTING}', true) WHEN '{ALL}' THEN true ELSE organization_id = ANY ("
    f"string_to_array(NULLIF(current_setting('{SETTING}', true), ''), ',')::bigint[]) END"
)
EXEMPT = {"clinic.User"}


def tenant_models() -> list[type[models.Model]]:
    from clinic.models import Organization

    found = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed or meta.label in EXEMPT:
            continue
        field = next((f for f in meta.concrete_fields if f.name == "organization"), None)
        if field is not None and field.is_relation and field.related_model is Organization:
            found.append(model)
    return found


def tenant_tables() -> list[str]:
    return sorted(model._meta.db_table for model in tenant_models())


def install(using: str = "default", **kwargs: Any) -> None:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for table in tenant_tables():
            if table not in existing:
                continue
            name = connection.ops.quote_name(table)
            cursor.execute(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY")
            cursor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {name}")
            cursor.execute(f"CREATE POLICY {POLICY} ON {name} USING ({CONDITION}) WITH CHECK ({CONDITION})")
