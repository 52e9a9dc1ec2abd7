"""Server-side parameter binding (`DATABASE_SERVER_SIDE_BINDING`, on by default
in session pooling): the suite runs with it, so every test exercises it; this
checks what Django 5.2 does not do by itself under it."""

from __future__ import annotations

import pytest
from django.db import connection

from clinic.db.base import BULK_HEADROOM, MAX_PARAMETERS
from clinic.models import Room
from tests.factories import RoomFactory

pytestmark = pytest.mark.django_db


def test_the_suite_runs_with_server_side_binding_and_prepares_what_a_connection_repeats(tenant_a, in_scope_of) -> None:
    assert connection.features.uses_server_side_binding
    assert connection.features.max_query_params == MAX_PARAMETERS
    with in_scope_of(tenant_a.organization):
        for _ in range(connection.connection.prepare_threshold + 1):  # run five times: prepared for the next
            list(Room.objects.filter(clinic=tenant_a.central).order_by("pk"))
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            prepared = [row[0] for row in cursor.fetchall()]
    assert any('FROM "clinic_room"' in statement for statement in prepared), prepared


def test_a_bulk_update_past_the_parameter_limit_goes_in_batches(tenant_a, in_scope_of) -> None:
    # Per row and field one CASE branch (two parameters), per row one IN entry: with two
    # fields 5 x 22,000 = 110,000 parameters, more than one statement may bind; Django 5.2
    # would send them in one.
    first = RoomFactory(clinic=tenant_a.central, organization=tenant_a.organization, name="Recepção")
    with in_scope_of(tenant_a.organization):
        rooms = Room.objects.bulk_create(
            [Room(organization=tenant_a.organization, clinic=tenant_a.central, name=f"Sala {n}") for n in range(22_000)]
        )
        for room in rooms:
            room.name = room.name.replace("Sala", "Room")
            room.is_active = False
        Room.objects.bulk_update(rooms, ["name", "is_active"])
        assert Room.objects.filter(name__startswith="Room ", is_active=False).count() == 22_000
        assert Room.objects.get(pk=first.pk).name == first.name
    pk, name, active = (Room._meta.get_field(f) for f in ("id", "name", "is_active"))
    many = rooms * 2  # 44,000: more than either batch holds
    assert connection.ops.bulk_batch_size([pk, pk, name, active], many) == (MAX_PARAMETERS - BULK_HEADROOM) // 5
    assert connection.ops.bulk_batch_size([name, active], many) == (MAX_PARAMETERS - BULK_HEADROOM) // 2  # an insert
