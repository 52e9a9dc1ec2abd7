"""Row-level security behind PgBouncer's transaction pooling
(`DATABASE_POOL_MODE=transaction`, clinic/db/base.py): a real PgBouncer with
one server connection for all its clients, so each transaction of one
client may run on the connection another client used just before; the
clients log in as a role the policies apply to."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import suppress

import pytest
from django.db import connection, connections, transaction

from clinic.db.base import DatabaseWrapper
from clinic.models import Clinic, Organization
from clinic.tenancy import organization_scope
from tests.factories import ClinicFactory
from tests.services import PgBouncer, wait_until

ROLE = f"pooled_{os.getpid()}"
_aliases = itertools.count()

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def organizations() -> tuple[Organization, Organization]:
    first, second = ClinicFactory(), ClinicFactory()
    return first.organization, second.organization


@pytest.fixture
def bouncer(organizations) -> Iterator[PgBouncer]:
    database = connection.settings_dict
    server = PgBouncer(host=database["HOST"] or "127.0.0.1", port=int(database["PORT"] or 5432),
                       database=database["NAME"], user=ROLE)  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {ROLE} LOGIN")
        cursor.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {ROLE}")
    try:
        yield server.start()
    finally:
        server.stop()
        wait_until(lambda: not _sessions_of(ROLE), what="the pool's server connections to close")
        with connection.cursor() as cursor:
            cursor.execute(f"DROP OWNED BY {ROLE}")
            cursor.execute(f"DROP ROLE {ROLE}")


def _sessions_of(role: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s", [role])
        return int(cursor.fetchone()[0])


def client(bouncer: PgBouncer, pool_mode: str) -> Iterator[DatabaseWrapper]:
    """A Django connection through the pool (a database alias of its own)."""
    alias = f"pooled_{next(_aliases)}"
    database = DatabaseWrapper({
        **connection.settings_dict, "HOST": "127.0.0.1", "PORT": str(bouncer.port), "NAME": "clinic",
        "USER": ROLE, "PASSWORD": "", "CONN_MAX_AGE": 0, "POOL_MODE": pool_mode, "DISABLE_SERVER_SIDE_CURSORS": True,
        # What settings.py gives a transaction pool (both modes alike: only the pooling differs).
        "OPTIONS": {**connection.settings_dict["OPTIONS"], "server_side_binding": False, "prepare_threshold": None},
    }, alias)  # fmt: skip
    connections[alias] = database  # for atomic(using=...) and .using(): a connection of this thread only
    try:
        yield database
    finally:
        database.close()
        del connections[alias]


@pytest.fixture
def two_clients(request, bouncer) -> Iterator[tuple[DatabaseWrapper, DatabaseWrapper]]:
    a, b = client(bouncer, request.param), client(bouncer, request.param)
    yield next(a), next(b)
    for each in (a, b):
        with suppress(StopIteration):
            next(each)


def seen(database: DatabaseWrapper) -> set[int]:
    """The organizations whose clinics raw SQL sees on this connection."""
    with database.cursor() as cursor:
        cursor.execute("SELECT DISTINCT organization_id FROM clinic_clinic")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.parametrize("two_clients", ["transaction"], indirect=True)
def test_each_statement_and_transaction_carries_its_organization(two_clients, bouncer, organizations) -> None:
    a, b = two_clients
    first, second = organizations
    for _ in range(2):  # the one server connection goes back and forth between the clients
        with organization_scope(first):
            assert seen(a) == {first.pk}
        with organization_scope(second):
            assert seen(b) == {second.pk}
        assert seen(a) == set()  # no scope, no tenant row: whatever the last client was told
    # A client of the pool that tells its session (a command run without the mode):
    session = client(bouncer, "session")
    with organization_scope(first):
        assert seen(next(session)) == {first.pk}
    assert seen(a) == set()  # "no scope" is told too
    with transaction.atomic(using=b.alias):
        assert seen(b) == set()
    with suppress(StopIteration):
        next(session)
    with organization_scope(first), transaction.atomic(using=a.alias):
        assert seen(a) == {first.pk}
        assert seen(a) == {first.pk}  # told once per transaction
        assert a.rls_told == str(first.pk)
        with organization_scope(second):
            assert seen(a) == {second.pk}
        assert seen(a) == {first.pk}
        with suppress(RuntimeError), transaction.atomic(using=a.alias), organization_scope(second):
            assert seen(a) == {second.pk}
            raise RuntimeError("roll the savepoint back")
        assert seen(a) == {first.pk}
    assert a.rls_told is None  # the setting ended with the transaction
    assert seen(b) == set()
    with organization_scope(second):
        assert list(Clinic.objects.using(b.alias).values_list("organization_id", flat=True)) == [second.pk]


@pytest.mark.parametrize("two_clients", ["session"], indirect=True)
def test_a_session_setting_follows_the_server_connection_to_another_client(two_clients, organizations) -> None:
    """Why transaction pooling needs the mode: told once per connection, a
    client's setting is whatever the last client of the server connection
    told it."""
    a, b = two_clients
    first, second = organizations
    with organization_scope(first):
        assert seen(a) == {first.pk}
    with organization_scope(second):
        assert seen(b) == {second.pk}
    with organization_scope(first):
        assert seen(a) == {second.pk}  # the other organization's rows
