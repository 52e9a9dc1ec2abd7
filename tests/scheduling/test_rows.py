"""`clinic.db.rows`' hand-written reads and writes of the booking path: the
rows, instances and columns the ORM's statements give and write, one
statement each, and the ORM's statements wherever they would not be the same."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from clinic.db import rows
from clinic.models import Organization, Professional, User
from clinic.tenancy import organization_scope
from packages.patient_packages.models import LedgerEntry, PackageUsage, UsageState
from scheduling import services
from scheduling.models import AppointmentLine
from tests.conftest import api_client
from tests.factories import ProfessionalFactory
from tests.ledger.conftest import book_session
from tests.scheduling.conftest import at

pytestmark = pytest.mark.django_db


def _fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def _verbs(context: CaptureQueriesContext) -> list[str]:
    return [query["sql"].split()[0] for query in context.captured_queries]


def test_equal_gives_the_orms_rows_of_the_scopes_organization_in_key_order(
    patient, alice, physio_service, assessment, tenant_b
) -> None:
    with organization_scope(patient.organization_id):
        appointment = services.appointment_book(
            clinic=patient.clinic, patient=patient, start=at(1, 9), actor=alice,
            lines=[services.LineInput(physio_service), services.LineInput(assessment)],
        ).appointment  # fmt: skip
    foreign = ProfessionalFactory(clinic=tenant_b.central, organization=tenant_b.organization, name="Of Beta")
    with organization_scope(patient.organization_id):
        with CaptureQueriesContext(connection) as reading:
            lines = rows.equal(AppointmentLine, "appointment", appointment.pk)
        assert _verbs(reading) == ["SELECT"]
        assert lines is not None
        assert [_fields(line) for line in lines] == [_fields(line) for line in appointment.lines.all()]
        assert [line.service_id for line in lines] == [physio_service.pk, assessment.pk]
        assert all(not line._state.adding for line in lines)
        assert rows.equal(Professional, "id", foreign.pk) == []  # another organization's: not there
        assert rows.equal(Professional, "id", 10**12) == []


def test_equal_leaves_to_the_orm_what_its_statement_would_not_read_alike(patient, link) -> None:
    appointment = book_session(link(4, "400.00"), start=at(1, 9))
    with scopes_disabled():  # every organization: the scoped manager's rule, not one organization's
        assert rows.equal(AppointmentLine, "appointment", appointment.pk) is None
    with organization_scope(patient.organization_id):
        # Not scoped by organization at all (the user's own manager): no statement of ours.
        assert rows.equal(User, "id", 1) is None
        assert rows.equal(Organization, "id", patient.organization_id) is None


def test_insert_writes_the_row_bulk_create_writes_in_one_statement(patient, link) -> None:
    package = link(4, "400.00")
    with organization_scope(patient.organization_id), transaction.atomic():
        usage = PackageUsage(
            organization_id=package.organization_id, package=package, session=987_654,
            session_start=at(2, 9), consumption=[{"service": 1, "quantity": 1}], state=UsageState.RESERVED,
        )  # fmt: skip
        with CaptureQueriesContext(connection) as inserting:
            assert rows.insert(usage) is usage
        assert _verbs(inserting) == ["INSERT"]
        assert usage.pk is not None
        assert not usage._state.adding
        assert usage._state.db == "default"
        assert usage.created_at is not None  # auto_now_add ran, as the ORM's insert runs it
        stored = PackageUsage.objects.get(pk=usage.pk)
        assert _fields(stored) == _fields(usage)
        assert stored.consumption == [{"service": 1, "quantity": 1}]  # the JSON written as JSON
        with pytest.raises(AssertionError):
            rows.insert(usage)  # a saved row is not inserted again


def test_update_writes_the_named_columns_only_and_runs_auto_now(patient, link) -> None:
    package = link(4, "400.00")
    appointment = book_session(package, start=at(1, 9))
    with organization_scope(patient.organization_id), transaction.atomic():
        usage = PackageUsage.objects.get(session=appointment.pk)
        before = usage.updated_at
        usage.amount = Decimal("100.00")
        usage.state = UsageState.DEBITED
        usage.session_start = usage.session_start + dt.timedelta(days=1)  # changed here, not named: not written
        with CaptureQueriesContext(connection) as updating:
            rows.update(usage, ["state", "amount", "updated_at"])
        assert _verbs(updating) == ["UPDATE"]
        stored = PackageUsage.objects.get(pk=usage.pk)
        assert (stored.state, stored.amount) == (UsageState.DEBITED, Decimal("100.00"))
        assert stored.updated_at == usage.updated_at > before
        assert stored.session_start == usage.session_start - dt.timedelta(days=1)


def test_update_writes_nothing_of_another_organization_and_keeps_the_append_only_rule(
    patient, link, foreign_patient_b
) -> None:
    foreign = book_session(link(4, "400.00", patient=foreign_patient_b), start=at(1, 9))
    with scopes_disabled():
        usage = PackageUsage.objects.get(session=foreign.pk)
        entry = LedgerEntry.objects.filter(package_id=usage.package_id).first()
    usage.state = UsageState.DEBITED
    with organization_scope(patient.organization_id), transaction.atomic():
        with pytest.raises(DatabaseError, match="did not affect one row"):
            rows.update(usage, ["state"])  # another organization's: not found, as save() would say
        with pytest.raises(TypeError, match="append-only"):
            rows.update(entry, ["note"])  # through the ledger's queryset, which refuses
    with scopes_disabled():
        assert PackageUsage.objects.get(pk=usage.pk).state == UsageState.RESERVED
        # Without one organization's scope, the scoped queryset writes it.
        with transaction.atomic():
            rows.update(usage, ["state"])
        assert PackageUsage.objects.get(pk=usage.pk).state == UsageState.DEBITED


def test_an_id_of_another_organization_reads_as_a_missing_one_in_the_api(alice, tenant_b, patient, link) -> None:
    foreign = ProfessionalFactory(clinic=tenant_b.central, organization=tenant_b.organization, name="Of Beta")
    package = link(4, "400.00")
    body = {"patient": patient.pk, "start": at(3, 9).isoformat(), "services": [], "patient_package": package.pk}
    answers = [
        api_client(alice).post("/api/v1/appointments/", {**body, "professional": pk}, format="json")
        for pk in (foreign.pk, 10**12)
    ]
    assert [answer.status_code for answer in answers] == [400, 400]
    messages = [answer.json()["fields"]["professional"][0] for answer in answers]
    assert messages == [f'Invalid pk "{pk}" - object does not exist.' for pk in (foreign.pk, 10**12)]
