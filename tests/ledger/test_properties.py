"""Property: whatever the sequence of operations, the balances cached on the
package equal what its ledger adds up to, and never go below zero."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from clinic.errors import ApplicationError
from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from packages.patient_packages.models import PatientPackage
from tests.ledger.conftest import Units, session

# Refusals the rules may meet; anything else is a bug.
EXPECTED_CODES = {"package_exhausted", "package_inactive", "validation_error", "appointment_has_other_package"}


@pytest.mark.django_db
def test_cached_balances_always_equal_the_ledger(patient, alice) -> None:
    class PackageMachine(RuleBasedStateMachine):
        @initialize(sessions=st.integers(1, 6), total=st.decimals("0", "2000", places=2))
        def link(self, sessions: int, total: Decimal) -> None:
            with organization_scope(patient.organization_id):
                self.package = ledger.package_link(
                    patient=patient, clinic=patient.clinic, actor=alice, sessions=sessions, total_price=total
                )
            self.sessions = [session() for _ in range(4)]
            self.units = Units(patient.organization_id)

        def _do(self, action, *args, **kwargs) -> None:
            with organization_scope(patient.organization_id):
                try:
                    action(*args, actor=alice, **kwargs)
                except ApplicationError as error:
                    refused = error.code
                else:
                    refused = None
            assert refused is None or refused in EXPECTED_CODES, refused

        @rule(i=st.integers(0, 3))
        def reserve(self, i: int) -> None:
            self._do(self.units.reserve, self.package, self.sessions[i])

        @rule(i=st.integers(0, 3))
        def debit(self, i: int) -> None:
            self._do(self.units.debit, self.package, self.sessions[i])

        @rule(i=st.integers(0, 3))
        def credit(self, i: int) -> None:
            self._do(self.units.credit, self.package, self.sessions[i])

        @rule(i=st.integers(0, 3))
        def release(self, i: int) -> None:
            self._do(self.units.release, self.sessions[i])

        @rule(sessions=st.integers(0, 8))
        def change_sessions(self, sessions: int) -> None:
            self._do(ledger.package_change, package=self.package, sessions_total=sessions)

        @rule(amount=st.decimals("0", "3000", places=2))
        def change_total(self, amount: Decimal) -> None:
            self._do(ledger.package_change, package=self.package, amount_total=amount)

        @rule(status=st.sampled_from(["active", "inactive"]))
        def change_status(self, status: str) -> None:
            self._do(ledger.package_change, package=self.package, status=status)

        @invariant()
        def balances_equal_the_ledger(self) -> None:
            if not hasattr(self, "package"):
                return
            with organization_scope(patient.organization_id):
                package = PatientPackage.objects.get(pk=self.package.pk)
                assert ledger.package_reconcile(package).differences == {}
            assert package.sessions_available >= 0
            assert min(package.sessions_booked, package.sessions_used, package.amount_open) >= 0
            assert package.amount_open <= package.amount_total
            if package.sessions_remaining == 0:
                assert package.status in ("finished", "inactive")

    run_state_machine_as_test(
        PackageMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
