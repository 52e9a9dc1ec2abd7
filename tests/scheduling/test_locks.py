"""`scheduling.locks.lock` for one appointment: the appointment, its package
and its live unit in one hand-written statement, and the ORM's statements
wherever that one does not apply."""

from __future__ import annotations

import logging

import pytest
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from clinic.tenancy import organization_scope
from packages.patient_packages.locks import is_locked, lock_packages
from packages.patient_packages.models import PackageUsage, PatientPackage
from scheduling.locks import AppointmentGone, lock
from scheduling.models import Appointment
from tests.ledger.conftest import book_session
from tests.scheduling.conftest import at

pytestmark = pytest.mark.django_db


def _fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_the_one_statement_gives_the_instances_the_orm_gives(patient, link) -> None:
    package = link(4, "400.00")
    appointment = book_session(package, start=at(1, 9))
    with organization_scope(patient.organization_id), transaction.atomic():
        with CaptureQueriesContext(connection) as locking:
            locked = lock(appointments=[appointment.pk])
        assert len(locking.captured_queries) == 1
        held_appointment, held_package = locked.appointments[appointment.pk], locked.packages[package.pk]
        usage = locked.usages[appointment.pk]
        assert _fields(held_appointment) == _fields(Appointment.objects.get(pk=appointment.pk))
        assert _fields(held_package) == _fields(PatientPackage.objects.get(pk=package.pk))
        assert _fields(usage) == _fields(PackageUsage.objects.get(pk=usage.pk))
        assert isinstance(usage.consumption, list)  # the JSON parsed, as the ORM's converter does
        assert usage.consumption
        # Loaded, not new: saving one writes an UPDATE of the row.
        assert not held_appointment._state.adding
        assert held_appointment._state.db == "default"
        assert is_locked(held_package)
        # The appointment's package is the locked instance, as select_related gives it.
        with CaptureQueriesContext(connection) as reading:
            assert held_appointment.patient_package is held_package
        assert reading.captured_queries == []
        with CaptureQueriesContext(connection) as saving:
            usage.save(update_fields=["updated_at"])
        assert [query["sql"].split()[0] for query in saving.captured_queries] == ["UPDATE"]
        assert model_to_dict(PackageUsage.objects.get(pk=usage.pk)) == model_to_dict(usage)


def test_another_organizations_appointment_is_not_locked(patient, link, foreign_patient_b) -> None:
    appointment = book_session(link(4, "400.00", patient=foreign_patient_b), start=at(1, 9))
    with organization_scope(patient.organization_id), transaction.atomic():
        locked = lock(appointments=[appointment.pk])
        assert (locked.appointments, locked.packages, locked.usages) == ({}, {}, {})
        with pytest.raises(AppointmentGone):
            locked.appointment(appointment.pk)


def test_without_one_organizations_scope_the_orm_locks(patient, link) -> None:
    package = link(4, "400.00")
    appointment = book_session(package, start=at(1, 9))
    with scopes_disabled(), transaction.atomic(), CaptureQueriesContext(connection) as locking:
        locked = lock(appointments=[appointment.pk])
    assert set(locked.packages) == {package.pk}
    assert set(locked.usages) == {appointment.pk}
    assert [query["sql"].split(" FOR NO KEY UPDATE")[1] for query in locking.captured_queries] == [
        ' OF "scheduling_appointment", "patient_packages_patientpackage"',  # the ORM's join
        "",  # then the units
    ]


def test_a_unit_in_another_package_is_locked_with_its_package_and_reported(patient, link, caplog) -> None:
    """The owner never leaves a unit in a package its appointment does not
    point at; if one is found, its package is locked too, out of order, and
    logged, as before the one-statement lock."""
    linked, other = link(4, "400.00"), link(4, "400.00")
    appointment = book_session(linked, start=at(1, 9))
    with organization_scope(patient.organization_id):
        PackageUsage.objects.filter(session=appointment.pk).update(package=other)
        with caplog.at_level(logging.ERROR, logger="scheduling.locks"), transaction.atomic():
            locked = lock(appointments=[appointment.pk])
    assert set(locked.packages) == {linked.pk, other.pk}
    assert locked.usages[appointment.pk].package_id == other.pk
    assert f"session units in packages [{other.pk}] not linked to their appointments" in caplog.text


def test_packages_are_locked_in_one_statement_in_key_order_and_match_the_orm(patient, link, foreign_patient_b) -> None:
    first, second = link(4, "400.00"), link(6, "600.00")
    foreign = link(4, "400.00", patient=foreign_patient_b)
    with organization_scope(patient.organization_id), transaction.atomic():
        with CaptureQueriesContext(connection) as locking:
            locked = lock_packages([second.pk, foreign.pk, first.pk, second.pk, 10**9])
        [statement] = [query["sql"] for query in locking.captured_queries]
        assert statement.endswith(' ORDER BY p."id" FOR NO KEY UPDATE')
        # Another organization's package and a missing one are absent; the rest in key order.
        assert list(locked) == [first.pk, second.pk]
        for package in locked.values():
            assert _fields(package) == _fields(PatientPackage.objects.get(pk=package.pk))
            assert is_locked(package)
            assert not package._state.adding


def test_packages_without_one_organizations_scope_are_locked_by_the_orm(patient, link) -> None:
    package = link(4, "400.00")
    with scopes_disabled(), transaction.atomic(), CaptureQueriesContext(connection) as locking:
        locked = lock_packages([package.pk])
        assert is_locked(locked[package.pk])
    assert ' FROM "patient_packages_patientpackage" WHERE ' in locking.captured_queries[0]["sql"]  # the ORM's
