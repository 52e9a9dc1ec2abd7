"""Server-side parameter binding (`DATABASE_SERVER_SIDE_BINDING`, on by default
in session pooling): the suite runs with it, so every test exercises it; this
checks what Django 5.2 does not do by itself under it."""

from __future__ import annotations

import pytest
from django.db import connection

from clinic.db.base import BULK_HEADROOM, MAX_PARAMETERS
from clinic.models import Room
from patients.models import Patient
from tests.patients.factories import PatientFactory

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
    # Per row and field one CASE branch (two parameters), per row one IN entry: with twelve
    # fields 25 x 3,000 = 75,000 parameters, more than one statement may bind; Django 5.2
    # would send them in one. Many fields and few rows: PostgreSQL walks each CASE once per
    # row, so the same parameters in fewer rows cost it far less.
    fields = ["document", "email", "phone", "default_payer", "default_insurer", "insurer_card_number"]
    fields += ["postal_code", "street", "street_number", "complement", "district", "city"]
    first = PatientFactory(clinic=tenant_a.central, organization=tenant_a.organization)
    with in_scope_of(tenant_a.organization):
        patients = Patient.objects.bulk_create(
            [
                Patient(organization=tenant_a.organization, clinic=tenant_a.central, full_name=f"P {n}")
                for n in range(3_000)
            ]
        )
        assert (len(fields) * 2 + 1) * len(patients) > MAX_PARAMETERS  # past what one statement binds

        def written(patient: Patient) -> dict[str, str]:  # each field its own value, short enough for all
            return {field: f"{n}-{patient.pk}" for n, field in enumerate(fields)}

        for patient in patients:
            for field, value in written(patient).items():
                setattr(patient, field, value)
        Patient.objects.bulk_update(patients, fields)
        assert Patient.objects.filter(city__startswith="11-", document__startswith="0-").count() == 3_000
        for patient in (patients[0], patients[-1]):
            assert Patient.objects.values(*fields).get(pk=patient.pk) == written(patient)
        assert Patient.objects.values(*fields).get(pk=first.pk) == {field: getattr(first, field) for field in fields}
    rooms = [Room(pk=n) for n in range(44_000)]  # more than either batch holds
    pk, name, active = (Room._meta.get_field(f) for f in ("id", "name", "is_active"))
    assert connection.ops.bulk_batch_size([pk, pk, name, active], rooms) == (MAX_PARAMETERS - BULK_HEADROOM) // 5
    assert connection.ops.bulk_batch_size([name, active], rooms) == (MAX_PARAMETERS - BULK_HEADROOM) // 2  # an insert
