"""Property: whatever staff do to appointments and packages, in any order
(book, change status, move to another package or to none, pay from the
package and undo it, change lines, delete the appointment, delete or
deactivate the package), every package's balances equal what its ledger and
its session units add up to, and every unit agrees with its appointment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from clinic.errors import ApplicationError
from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from packages.patient_packages.models import PatientPackage
from scheduling import services
from scheduling.models import Appointment
from scheduling.package_sessions import sessions_reconcile
from tests.packages.factories import ServiceFactory, make_template
from tests.scheduling.conftest import at

# Refusals the rules may meet; anything else is a bug.
EXPECTED_CODES = {
    "package_exhausted", "package_inactive", "budget_exceeded", "validation_error", "appointment_has_other_package",
    "invalid_transition", "session_attended", "package_debited", "not_found", "conflict", "double_booking",
}  # fmt: skip
STATUSES = ["scheduled", "confirmed", "attended", "missed", "justified_absence", "cancelled"]


@pytest.mark.django_db
def test_every_package_reconciles_whatever_staff_do(patient, alice, tenant_a) -> None:
    physio = ServiceFactory(clinic=tenant_a.central, name="Fisio", price=Decimal("120.00"))
    limited = make_template(
        tenant_a.central, [(physio, 4)], name="Quatro", price=Decimal("400.00"), max_appointments=3,
        max_amount=Decimal("300.00"),
    )  # fmt: skip

    def new_package(p: int) -> PatientPackage:
        with organization_scope(patient.organization_id):
            if p == 0:
                return ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=limited)
            return ledger.package_link(
                patient=patient, clinic=patient.clinic, actor=alice, sessions=3, total_price=Decimal("1000.00")
            )

    class Desk(RuleBasedStateMachine):
        @initialize()
        def packages(self) -> None:
            self.packages = [new_package(0), new_package(1)]
            self.retired: list[PatientPackage] = []
            self.appointments: list[int] = []
            self.hour = 0

        def _do(self, action, **kwargs) -> str | None:
            with organization_scope(patient.organization_id):
                try:
                    action(**kwargs)
                except ApplicationError as error:
                    refused = error.code
                else:
                    refused = None
            assert refused is None or refused in EXPECTED_CODES, refused
            return refused

        def _appointment(self, i: int) -> Appointment | None:
            if not self.appointments:
                return None
            with scopes_disabled():
                return Appointment.objects.filter(pk=self.appointments[i % len(self.appointments)]).first()

        @rule(p=st.integers(0, 2), status=st.sampled_from(STATUSES))
        def book(self, p: int, status: str) -> None:
            self.hour += 1
            package = self.packages[p] if p < 2 else None
            with organization_scope(patient.organization_id):
                try:
                    booking = services.appointment_book(
                        clinic=patient.clinic, patient=patient, start=at(1, 7) + dt.timedelta(hours=self.hour),
                        lines=[services.LineInput(physio)], actor=alice, patient_package=package, status=status,
                    )  # fmt: skip
                except ApplicationError as error:
                    refused = error.code
                else:
                    refused = None
                    self.appointments.append(booking.appointment.pk)
            assert refused is None or refused in EXPECTED_CODES, refused

        @rule(i=st.integers(0, 20), status=st.sampled_from(STATUSES))
        def set_status(self, i: int, status: str) -> None:
            appointment = self._appointment(i)
            if appointment is not None:
                self._do(services.appointment_set_status, appointment=appointment, status=status, actor=alice)

        @rule(i=st.integers(0, 20), p=st.integers(0, 2), status=st.sampled_from([None, *STATUSES]))
        def move_to_package(self, i: int, p: int, status: str | None) -> None:
            appointment = self._appointment(i)
            if appointment is not None:
                package = self.packages[p] if p < 2 else None
                self._do(
                    services.appointment_update, appointment=appointment, actor=alice, patient_package=package,
                    status=status,
                )  # fmt: skip

        @rule(i=st.integers(0, 20), quantity=st.integers(1, 3), hours=st.integers(-30, 30))
        def edit_lines_and_move(self, i: int, quantity: int, hours: int) -> None:
            appointment = self._appointment(i)
            if appointment is not None:
                self._do(
                    services.appointment_update, appointment=appointment, actor=alice,
                    start=appointment.start + dt.timedelta(hours=hours * 24),
                    lines=[services.LineInput(physio, quantity)],
                )  # fmt: skip

        @rule(i=st.integers(0, 20), p=st.integers(0, 1), pay=st.booleans())
        def pay_from_package(self, i: int, p: int, pay: bool) -> None:
            appointment = self._appointment(i)
            if appointment is not None:
                action = services.appointment_pay_from_package if pay else services.appointment_unpay_from_package
                self._do(action, appointment=appointment, package=self.packages[p], actor=alice)

        @rule(i=st.integers(0, 20))
        def delete_appointment(self, i: int) -> None:
            appointment = self._appointment(i)
            if appointment is not None:
                self._do(services.appointment_delete, appointment=appointment, actor=alice)

        @rule(p=st.integers(0, 1), status=st.sampled_from(["active", "inactive"]))
        def set_package_status(self, p: int, status: str) -> None:
            self._do(ledger.package_change, package=self.packages[p], actor=alice, status=status)

        @rule(p=st.integers(0, 1), sessions=st.integers(1, 8), limits=st.sampled_from(["grow", "keep"]))
        def change_sessions(self, p: int, sessions: int, limits: str) -> None:
            self._do(ledger.package_change, package=self.packages[p], actor=alice, sessions_total=sessions,
                     limits=limits)  # fmt: skip

        @rule(p=st.integers(0, 1), really=st.integers(0, 5))
        def delete_package(self, p: int, really: int) -> None:
            # Now and then (a deleted package takes no more bookings): staff
            # then link a new one, so the story goes on.
            if really == 0 and self._do(services.patient_package_delete, package=self.packages[p], actor=alice) is None:
                self.retired.append(self.packages[p])
                self.packages[p] = new_package(p)

        @invariant()
        def everything_reconciles(self) -> None:
            if not hasattr(self, "packages"):
                return
            with organization_scope(patient.organization_id):
                for known in [*self.packages, *self.retired]:
                    package = PatientPackage.objects.get(pk=known.pk)
                    assert ledger.package_reconcile(package).differences == {}
                    assert sessions_reconcile(package).differences == {}
                    assert min(package.sessions_available, package.sessions_booked, package.sessions_used) >= 0
                    assert 0 <= package.amount_open <= package.amount_total

    run_state_machine_as_test(
        Desk,
        settings=settings(
            max_examples=15,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
