"""PostgreSQL refuses another tenant's rows on its own (clinic/rls.py): raw
SQL on every tenant table, inside another organization's scope (what the
tenancy middleware opens for its request), as a role the policies apply to
(the suite's `postgres` is a superuser, which they do not)."""

from __future__ import annotations

import os

import pytest
from django.db import ProgrammingError, connection, transaction
from django_scopes import scopes_disabled

from clinic import rls, services
from clinic.tenancy import organization_scope
from tests.api.conftest import Demo

ROLE = f"rls_probe_{os.getpid()}"


def become_plain_role(*grants: str) -> None:
    """The rest of the test's transaction runs as a role without BYPASSRLS,
    allowed to read every table (and `grants`)."""
    role = ROLE
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        cursor.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
        for grant in grants:
            cursor.execute(f"GRANT {grant} TO {role}")
        cursor.execute(f"SET LOCAL ROLE {role}")
    # The test's transaction rolls back: the role and the grants with it.


def _counts(organization_id: int) -> dict[str, tuple[int, int]]:
    """Per tenant table: (rows of `organization_id`, rows in all) visible now."""
    counts = {}
    with connection.cursor() as cursor:
        for table in rls.tenant_tables():
            name = connection.ops.quote_name(table)
            query = f"SELECT count(*) FILTER (WHERE organization_id = %s), count(*) FROM {name}"  # noqa: S608
            cursor.execute(query, [organization_id])
            counts[table] = cursor.fetchone()
    return counts


def test_raw_sql_in_another_organizations_request_sees_none_of_the_demo(demo: Demo, db) -> None:
    other = _other_organization()
    become_plain_role()
    with scopes_disabled():
        everything = _counts(demo.organization.pk)
    populated = [table for table, (demo_rows, _all) in everything.items() if demo_rows]
    # The demo fills most tenant tables, so the check below means something.
    assert len(populated) >= len(everything) * 2 // 3, sorted(set(everything) - set(populated))

    with organization_scope(other):
        inside_other = _counts(demo.organization.pk)
    assert {table: demo_rows for table, (demo_rows, _all) in inside_other.items() if demo_rows} == {}
    # ... while the other organization's own rows are there.
    assert inside_other["clinic_clinic"][1] == 1

    with organization_scope(demo.organization):
        assert _counts(demo.organization.pk) == {table: (rows, rows) for table, (rows, _all) in everything.items()}


def test_raw_sql_with_no_scope_sees_no_tenant_row(demo: Demo, db) -> None:
    become_plain_role()
    assert {table: counts for table, counts in _counts(demo.organization.pk).items() if counts[1]} == {}


def _other_organization():
    with scopes_disabled():
        organization, _clinic, _owner = services.organization_create(
            name="Outra Clínica", owner_username="outra", owner_password="x-long-enough-9", clinic_name="Outra"
        )
    return organization


def test_a_write_into_another_organization_is_refused(demo: Demo, db) -> None:
    other = _other_organization()
    become_plain_role("UPDATE ON clinic_clinic")
    with organization_scope(other), connection.cursor() as cursor:
        cursor.execute("UPDATE clinic_clinic SET phone = phone WHERE organization_id = %s", [demo.organization.pk])
        assert cursor.rowcount == 0  # the demo's clinics are not there to update
        moved = "UPDATE clinic_clinic SET organization_id = %s WHERE organization_id = %s"
        with pytest.raises(ProgrammingError, match="row-level security"):
            _in_savepoint(cursor, moved, [demo.organization.pk, other.pk])


def _in_savepoint(cursor, sql: str, params: list[int]) -> None:
    with transaction.atomic():
        cursor.execute(sql, params)
