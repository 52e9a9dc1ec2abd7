"""The SQL statements of the hot paths, listed exactly: booking against a
package, and attending it (the debit). A new statement here is paid on every
session a clinic books; the list says which one it is. (In a test the entry
point's transaction is a savepoint inside the test's; in production it is
BEGIN ... COMMIT.)"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.tenancy import organization_scope
from scheduling import services
from tests.ledger.conftest import book_session
from tests.scheduling.conftest import at

pytestmark = pytest.mark.django_db


def _statements(context: CaptureQueriesContext) -> list[str]:
    """Each statement as its verb and first table: "SELECT FOR UPDATE patient_packages_patientpackage"."""
    named = []
    for query in context.captured_queries:
        sql = query["sql"]
        verb = sql.split()[0]
        if verb in ("SAVEPOINT", "RELEASE"):
            named.append(verb)
            continue
        table = re.search(r'(?:FROM|INTO|UPDATE) "(\w+)"', sql)
        lock = " FOR NO KEY UPDATE" if "FOR NO KEY UPDATE" in sql else ""
        named.append(f"{verb}{lock} {table.group(1) if table else '?'}")
    return named


def test_booking_against_a_package_and_attending_it(patient, link, physio_service, therapist, alice) -> None:
    package = link(10, "1000.00")
    with organization_scope(patient.organization_id):
        with CaptureQueriesContext(connection) as booking:
            appointment = services.appointment_book(
                clinic=patient.clinic, patient=patient, start=at(1, 9), actor=alice, professional=therapist,
                lines=[services.LineInput(physio_service)], patient_package=package,
            ).appointment  # fmt: skip
        with CaptureQueriesContext(connection) as attending:
            services.appointment_set_status(appointment=appointment, status="attended", actor=alice)
    assert _statements(booking) == [
        "SAVEPOINT",  # the entry point (the clinic's own service needs no visibility query)
        "SELECT FOR NO KEY UPDATE patient_packages_patientpackage",  # lock the package, then decide
        "INSERT scheduling_appointment",  # no savepoint: a double booking, refused, ends the use case
        "INSERT scheduling_historicalappointment",  # who booked it (django-simple-history)
        "INSERT scheduling_appointmentline",
        "INSERT patient_packages_packageusage",  # the session's unit of the package
        "UPDATE patient_packages_patientpackage",  # its balances...
        "INSERT patient_packages_ledgerentry",  # ...and the entry that explains them
        "SELECT clinic_professional",  # the working hours of the "does not work at this time" warning, with their
        # version (once per version of the week: clinic.selectors)
        "RELEASE",
    ]
    with organization_scope(patient.organization_id), CaptureQueriesContext(connection) as booking_again:
        services.appointment_book(
            clinic=patient.clinic, patient=patient, start=at(1, 10), actor=alice, professional=therapist,
            lines=[services.LineInput(physio_service)], patient_package=package,
        )  # fmt: skip
    # The professional's week, read at this version, is known to the process (clinic.selectors).
    assert _statements(booking_again) == [s for s in _statements(booking) if s != "SELECT clinic_professional"]
    assert _statements(attending) == [
        "SAVEPOINT",
        "SELECT FOR NO KEY UPDATE scheduling_appointment",  # the lock order in one statement: the appointment,
        # its package and its unit (scheduling.locks)
        "UPDATE scheduling_appointment",
        "INSERT scheduling_historicalappointment",
        "UPDATE patient_packages_packageusage",
        "UPDATE patient_packages_patientpackage",
        "INSERT patient_packages_ledgerentry",
        "RELEASE",
    ]


def test_one_appointment_its_package_and_its_unit_are_locked_in_one_statement_in_the_lock_order(
    patient, link, alice
) -> None:
    appointment = book_session(link(4, "400.00"), start=at(1, 9))
    with organization_scope(patient.organization_id), CaptureQueriesContext(connection) as attending:
        services.appointment_set_status(appointment=appointment, status="attended", actor=alice)
    lock = attending.captured_queries[1]["sql"]
    # PostgreSQL locks a join's rows in the order of its OF list: the appointment, its package, its unit.
    assert lock.endswith("FOR NO KEY UPDATE OF a, p, u"), lock
    assert ' FROM "scheduling_appointment" a JOIN "patient_packages_patientpackage" p ' in lock
    assert ' JOIN "patient_packages_packageusage" u ' in lock


def test_an_appointment_without_a_live_unit_is_locked_with_its_package_then_its_units(patient, link, alice) -> None:
    """A released session (a justified absence) holds no unit: the one
    statement finds nothing and the lock takes the appointment with its
    package, then looks for units, as before."""
    appointment = book_session(link(4, "400.00"), start=at(1, 9))
    with organization_scope(patient.organization_id):
        services.appointment_set_status(appointment=appointment, status="justified_absence", actor=alice)
        with CaptureQueriesContext(connection) as rebooking:
            services.appointment_set_status(appointment=appointment, status="scheduled", actor=alice)
    assert _statements(rebooking)[:4] == [
        "SAVEPOINT",
        "SELECT FOR NO KEY UPDATE scheduling_appointment",  # appointment, package and a live unit: none
        "SELECT FOR NO KEY UPDATE scheduling_appointment",  # the appointment and its package
        "SELECT FOR NO KEY UPDATE patient_packages_packageusage",  # its units: none live
    ]
    assert "INSERT patient_packages_packageusage" in _statements(rebooking)  # the session is reserved again


def test_booking_a_session_to_come_writes_its_reminders_in_one_statement(patient, physio_service, alice) -> None:
    with organization_scope(patient.organization_id), CaptureQueriesContext(connection) as booking:
        services.appointment_book(
            clinic=patient.clinic, patient=patient, start=at(1, 9, year=2030), actor=alice,
            lines=[services.LineInput(physio_service)],
        )  # fmt: skip
    statements = _statements(booking)
    assert statements.count("INSERT reminders_reminder") == 1  # one row per channel, in one INSERT
    assert not any("reminders_reminder" in s and not s.startswith("INSERT") for s in statements)  # no read
