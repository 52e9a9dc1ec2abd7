"""Booking, double booking, statuses and their ledger effects, budgets,
service chains, evolution notes."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django_scopes import scopes_disabled

from clinic.errors import ApplicationError
from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from packages.patient_packages.models import LedgerEntry, PatientPackage
from scheduling import services
from scheduling.errors import DoubleBooking, InvalidTransition
from scheduling.models import Appointment
from tests.ledger.test_concurrency import outcome, run_concurrently
from tests.packages.factories import ServiceLimitFactory, make_template
from tests.scheduling.conftest import at

D = Decimal


@pytest.fixture
def scope(tenant_a):
    with organization_scope(tenant_a.organization):
        yield


@pytest.fixture
def book(patient, alice, therapist, physio_service):
    def _book(start, *, professional=therapist, lines=None, **kwargs):
        return services.appointment_book(
            clinic=patient.clinic,
            patient=kwargs.pop("patient", patient),
            start=start,
            lines=lines or [services.LineInput(physio_service)],
            actor=alice,
            professional=professional,
            **kwargs,
        ).appointment

    return _book


def kinds(package) -> list[str]:
    with scopes_disabled():
        return list(LedgerEntry.objects.filter(package=package).order_by("seq").values_list("kind", flat=True))


def state(package) -> tuple:
    package.refresh_from_db()
    return (package.status, package.sessions_booked, package.sessions_used, package.amount_open)


@pytest.mark.django_db
def test_end_defaults_from_the_services_durations(book, scope, physio_service, assessment) -> None:
    appointment = book(at(1, 9), lines=[services.LineInput(physio_service, 2), services.LineInput(assessment)])
    assert appointment.end - appointment.start == dt.timedelta(minutes=160)
    with scopes_disabled():
        assert [(line.service_id, line.quantity, line.price) for line in appointment.lines.all()] == [
            (physio_service.pk, 2, D("120.00")),
            (assessment.pk, 1, D("200.00")),
        ]


@pytest.mark.django_db
def test_double_booking_of_a_professional_or_room_names_the_conflict(book, scope, room_1, patient) -> None:
    first = book(at(1, 9), room=room_1)
    with pytest.raises(DoubleBooking) as error:
        book(at(1, 9, 30))
    assert error.value.code == "double_booking"
    assert error.value.status == 409
    assert error.value.detail == "Already booked then: 12/01/2026 9:00 AM, Maria Ledger."
    assert error.value.fields["conflict"] == [str(first.pk)]
    with pytest.raises(DoubleBooking):
        book(at(1, 9, 20), professional=None, room=room_1)
    book(at(1, 9, 50))  # back to back is fine
    services.appointment_set_status(appointment=first, status="cancelled", actor=None)
    book(at(1, 9, 0), room=room_1, professional=None)  # a cancelled appointment frees its slot


@pytest.mark.django_db
def test_the_database_refuses_overlaps_even_without_the_check(book, scope, therapist) -> None:
    assert connection.vendor == "postgresql"
    first = book(at(2, 9))
    with scopes_disabled(), pytest.raises(IntegrityError, match="no_overlap"), transaction.atomic():
        Appointment.objects.create(
            organization_id=first.organization_id, clinic=first.clinic, patient=first.patient,
            professional=therapist, start=at(2, 9, 10), end=at(2, 10),
        )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_two_threads_booking_the_same_slot(patient, alice, therapist, physio_service) -> None:
    def work(i: int) -> object:
        with organization_scope(patient.organization_id):
            return services.appointment_book(
                clinic=patient.clinic, patient=patient, start=at(3, 14), lines=[services.LineInput(physio_service)],
                actor=alice, professional=therapist,
            )  # fmt: skip

    results = Counter(outcome(result) for result in run_concurrently(work, 2))
    assert results == {"ok": 1, "double_booking": 1}


@pytest.mark.django_db
def test_outside_working_hours_warns_but_books(patient, alice, therapist, physio_service, scope) -> None:
    booking = services.appointment_book(
        clinic=patient.clinic, patient=patient, start=at(6, 22), lines=[services.LineInput(physio_service)],
        actor=alice, professional=therapist,
    )  # fmt: skip
    assert booking.warnings == ["Renata Costa does not work at this time."]
    assert booking.appointment.pk


@pytest.mark.django_db
def test_statuses_drive_the_package(book, link, scope) -> None:
    package = link(4, "1000.00")
    appointment = book(at(4, 9), patient_package=package)
    assert state(package) == ("active", 1, 0, D("1000.00"))  # linking reserves
    for status, expected in [
        ("confirmed", ("active", 1, 0, D("1000.00"))),
        ("attended", ("active", 0, 1, D("750.00"))),  # debits
        ("missed", ("active", 1, 0, D("1000.00"))),  # neither: credited back, still booked
        ("attended", ("active", 0, 1, D("750.00"))),
        ("justified_absence", ("active", 0, 0, D("1000.00"))),  # releases, crediting back
        ("scheduled", ("active", 1, 0, D("1000.00"))),  # booked again
        ("cancelled", ("active", 0, 0, D("1000.00"))),
    ]:
        services.appointment_set_status(appointment=appointment, status=status, actor=None)
        assert state(package) == expected, status
    with pytest.raises(InvalidTransition) as error:
        services.appointment_set_status(appointment=appointment, status="scheduled", actor=None)
    assert error.value.code == "invalid_transition"
    with organization_scope(package.organization_id):
        assert ledger.package_reconcile(package).differences == {}


@pytest.mark.django_db
def test_toggling_back_and_forth_never_debits_twice(book, link, scope) -> None:
    package = link(4, "1000.00")
    appointment = book(at(4, 11), patient_package=package)
    for _ in range(5):
        services.appointment_set_status(appointment=appointment, status="attended", actor=None)
        services.appointment_set_status(appointment=appointment, status="attended", actor=None)
        services.appointment_set_status(appointment=appointment, status="confirmed", actor=None)
    services.appointment_set_status(appointment=appointment, status="attended", actor=None)
    assert state(package) == ("active", 0, 1, D("750.00"))
    counts = Counter(kinds(package))
    assert counts["debit"] == counts["credit"] + 1 == 6


@pytest.mark.django_db
def test_custom_statuses_with_each_flag(book, link, scope, tenant_a) -> None:
    services.appointment_status_save(organization=tenant_a.organization, code="paid_no_show", name="Falta cobrada",
                                     color="#7c3aed", debits=True)  # fmt: skip
    services.appointment_status_save(organization=tenant_a.organization, code="rescheduled", name="Remarcado",
                                     color="#0ea5e9", releases=True)  # fmt: skip
    package = link(4, "1000.00")
    appointment = book(at(5, 9), patient_package=package)
    services.appointment_set_status(appointment=appointment, status="paid_no_show", actor=None)
    assert state(package) == ("active", 0, 1, D("750.00"))
    services.appointment_set_status(appointment=appointment, status="rescheduled", actor=None)
    assert state(package) == ("active", 0, 0, D("1000.00"))
    with pytest.raises(ApplicationError) as error:
        services.appointment_set_status(appointment=appointment, status="nonsense", actor=None)
    assert error.value.fields == {"status": ["Unknown status “nonsense”."]}


@pytest.mark.django_db
def test_a_status_cannot_both_debit_and_release(tenant_a, scope) -> None:
    with pytest.raises(ApplicationError) as error:
        services.appointment_status_save(
            organization=tenant_a.organization, code="odd", name="Odd", debits=True, releases=True
        )
    assert error.value.fields == {"non_field_errors": ["A status either debits the session or releases it, not both."]}


@pytest.mark.django_db
def test_deleting_an_attended_appointment_credits_the_session(book, link, scope) -> None:
    package = link(2, "200.00")
    appointment = book(at(7, 9), patient_package=package, status="attended")
    assert state(package) == ("active", 0, 1, D("100.00"))
    services.appointment_delete(appointment=appointment, actor=None)
    assert state(package) == ("active", 0, 0, D("200.00"))
    assert kinds(package) == ["created", "debit", "credit", "release"]


@pytest.mark.django_db
def test_booking_past_what_the_package_holds_is_refused(book, link, scope) -> None:
    package = link(1, "100.00")
    book(at(8, 9), patient_package=package)
    with pytest.raises(ApplicationError) as error:
        book(at(8, 10), patient_package=package)
    assert error.value.code == "package_exhausted"
    with scopes_disabled():
        assert Appointment.objects.filter(patient_package=package).count() == 1  # nothing half-written


@pytest.fixture
def budget_package(patient, alice, tenant_a, physio_service, assessment):
    template = make_template(
        tenant_a.central, [(physio_service, 10), (assessment, 1)], name="Orçamento convênio", price=D("1400.00"),
        max_appointments=3, max_amount=D("400.00"),
    )  # fmt: skip
    ServiceLimitFactory(template=template, service=assessment, max_quantity=1, max_amount=D("200.00"))
    with organization_scope(tenant_a.organization):
        return ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=template)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("first_lines", "second_lines", "limit"),
    [
        ([("physio", 1)], [("physio", 1)], None),
        ([("physio", 2)], [("physio", 2)], "max_amount"),
        ([("assessment", 1)], [("assessment", 1)], "service_quantity"),
    ],
)
def test_budget_limits_refuse_with_budget_exceeded(book, budget_package, scope, physio_service, assessment,
                                                   first_lines, second_lines, limit) -> None:  # fmt: skip
    named = {"physio": physio_service, "assessment": assessment}
    book(at(9, 8), patient_package=budget_package, lines=[services.LineInput(named[s], q) for s, q in first_lines])
    second = [services.LineInput(named[s], q) for s, q in second_lines]
    if limit is None:
        book(at(9, 10), patient_package=budget_package, lines=second)
        return
    with pytest.raises(ApplicationError) as error:
        book(at(9, 10), patient_package=budget_package, lines=second)
    assert error.value.code == "budget_exceeded"
    assert error.value.fields["budget"]


@pytest.mark.django_db
def test_max_appointments_limit(book, budget_package, scope, physio_service) -> None:
    for hour in (8, 9, 10):
        book(at(10, hour), patient_package=budget_package)
    with pytest.raises(ApplicationError) as error:
        book(at(10, 11), patient_package=budget_package)
    assert error.value.code == "budget_exceeded"
    assert "appointments" in error.value.detail.lower()


@pytest.fixture
def monthly_plan(patient, alice, tenant_a, physio_service):
    """A monthly plan of 8 sessions a cycle, at most 2 appointments a month."""
    template = make_template(
        tenant_a.central, [(physio_service, 8)], name="Plano mensal", price=D("800.00"), renewal="monthly",
        max_appointments=2,
    )  # fmt: skip
    with organization_scope(tenant_a.organization):
        return ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=template)


@pytest.mark.django_db
def test_a_monthly_plan_s_limits_apply_to_each_month(book, monthly_plan, scope, alice) -> None:
    book(at(1, 8), patient_package=monthly_plan)
    # The month is the clinic's: 22:30 on 31 December in São Paulo (January in UTC).
    december_last = book(at(31, 22, 30), patient_package=monthly_plan)
    with pytest.raises(ApplicationError) as error:
        book(at(15, 9), patient_package=monthly_plan)
    assert error.value.code == "budget_exceeded"
    january = book(at(5, 9, month=1, year=2027), patient_package=monthly_plan)  # a new cycle, a new budget
    book(at(6, 9, month=1, year=2027), patient_package=monthly_plan)
    with pytest.raises(ApplicationError):
        book(at(7, 9, month=1, year=2027), patient_package=monthly_plan)
    # Moving a January session into the full December is refused as well;
    # moving December's last one within December is not.
    with pytest.raises(ApplicationError) as error:
        services.appointment_update(appointment=january, actor=alice, start=at(20, 9))
    assert error.value.code == "budget_exceeded"
    services.appointment_update(appointment=december_last, actor=alice, start=at(30, 9))
    january.refresh_from_db()
    assert january.start == at(5, 9, month=1, year=2027)


@pytest.mark.django_db
def test_released_sessions_give_the_month_s_budget_back(book, monthly_plan, scope, alice) -> None:
    first = book(at(1, 8), patient_package=monthly_plan)
    book(at(2, 8), patient_package=monthly_plan)
    services.appointment_set_status(appointment=first, status="cancelled", actor=alice)
    book(at(3, 8), patient_package=monthly_plan)  # the cancelled one no longer counts


@pytest.mark.django_db
def test_service_chain_links_the_trigger_template(book, patient, scope, tenant_a, physio_service, assessment) -> None:
    template = make_template(
        tenant_a.central, [(assessment, 1), (physio_service, 6)], name="Avaliação + 6 sessões", price=D("900.00"),
        trigger_service=assessment,
    )  # fmt: skip
    appointment = book(at(11, 9), lines=[services.LineInput(assessment)])
    package = appointment.patient_package
    package.refresh_from_db()
    assert (package.template_id, package.name, package.sessions_booked) == (template.pk, "Avaliação + 6 sessões", 1)
    again = book(at(12, 9), lines=[services.LineInput(assessment)])
    assert again.patient_package_id == package.pk  # the same active package, not a second one
    with scopes_disabled():
        assert PatientPackage.objects.filter(patient=patient).count() == 1


@pytest.mark.django_db
def test_first_evolution_note_marks_attended_and_debits(book, link, scope, paula) -> None:
    package = link(4, "1000.00")
    appointment = book(at(13, 9), patient_package=package)
    services.evolution_note_add(appointment=appointment, author=paula, text="Paciente evoluiu bem.")
    appointment.refresh_from_db()
    assert appointment.status == "attended"
    assert state(package) == ("active", 0, 1, D("750.00"))
    services.evolution_note_add(appointment=appointment, author=paula, text="Complemento.")
    assert state(package) == ("active", 0, 1, D("750.00"))


@pytest.mark.django_db
def test_per_service_amount_limit(book, patient, alice, tenant_a, physio_service, assessment, scope) -> None:
    template = make_template(tenant_a.central, [(physio_service, 10)], name="Fisio com teto", price=D("1000.00"))
    ServiceLimitFactory(template=template, service=physio_service, max_amount=D("300.00"))
    package = ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=template)
    book(at(23, 8), patient_package=package, lines=[services.LineInput(physio_service, 2)])  # 240.00
    with pytest.raises(ApplicationError) as error:
        book(at(23, 10), patient_package=package)  # +120.00 = 360.00 of 300.00
    assert error.value.code == "budget_exceeded"
    assert "Fisioterapia" in error.value.detail
