"""Property: whatever staff do in whatever order (book, pay, spend credit,
pay from a package, cancel, reprice, refund, remove a paid session), every
receivable's `paid` is what its allocations add up to, the account credit is
what the payments leave, no payment is spent beyond its amount, and money
in equals money on receivables plus credit plus refunds."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from billing import services
from billing.models import Allocation, Method, Payment, Receivable, Refund
from billing.receivables import account_credit
from billing.reconcile import billing_reconcile
from clinic.errors import ApplicationError
from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from packages.patient_packages.ledger import package_reconcile
from scheduling import services as scheduling
from scheduling.models import Appointment
from tests.ledger.conftest import _service, book_session
from tests.patients.factories import PatientFactory

EXPECTED_CODES = {
    "validation_error", "price_mismatch", "package_exhausted", "package_inactive", "nothing_to_refund",
    "package_sale_used", "invalid_transition", "appointment_has_other_package",
}  # fmt: skip
ZERO = Decimal("0.00")
amounts = st.decimals("0", "250", places=2)


@pytest.mark.django_db
def test_money_always_adds_up(tenant_a, alice) -> None:
    class BillingMachine(RuleBasedStateMachine):
        @initialize(total=st.decimals("50", "900", places=2), sessions=st.integers(1, 4))
        def start(self, total: Decimal, sessions: int) -> None:
            self.patient = PatientFactory(clinic=tenant_a.central, full_name="Paula Propriedade")
            with organization_scope(tenant_a.organization):
                self.package = ledger.package_link(
                    patient=self.patient, clinic=self.patient.clinic, actor=alice, sessions=sessions,
                    total_price=total,
                )  # fmt: skip
                self.appointments = [book_session(None, patient=self.patient) for _ in range(3)]

        def _do(self, action, **kwargs) -> None:
            with organization_scope(tenant_a.organization):
                try:
                    action(**kwargs)
                except ApplicationError as error:
                    refused = error.code
                else:
                    refused = None
            assert refused is None or refused in EXPECTED_CODES, refused

        def _receivables(self, picks: list[int]) -> list[int]:
            with organization_scope(tenant_a.organization):
                rows = list(Receivable.objects.filter(patient=self.patient).order_by("pk").values_list("pk", flat=True))
            return list(dict.fromkeys(rows[i % len(rows)] for i in picks)) if rows else []

        def _payments(self) -> list[Payment]:
            with organization_scope(tenant_a.organization):
                return list(Payment.objects.filter(patient=self.patient).order_by("pk"))

        @rule(amount=amounts, picks=st.lists(st.integers(0, 9), max_size=3), credit=st.booleans(),
              method=st.sampled_from(["cash", "card", "pix", "transfer"]))  # fmt: skip
        def pay(self, amount: Decimal, picks: list[int], credit: bool, method: str) -> None:
            self._do(services.payment_take, clinic=self.patient.clinic, patient=self.patient, method=method,
                     amount=amount, receivables=self._receivables(picks), use_credit=credit, actor=alice)  # fmt: skip

        @rule(picks=st.lists(st.integers(0, 9), min_size=1, max_size=2), confirm=st.booleans())
        def pay_from_package(self, picks: list[int], confirm: bool) -> None:
            self._do(services.payment_from_package, package=self.package, receivables=self._receivables(picks),
                     confirm_price=confirm, actor=alice)  # fmt: skip

        @rule(i=st.integers(0, 2), status=st.sampled_from(["attended", "missed", "justified_absence", "scheduled"]))
        def change_status(self, i: int, status: str) -> None:
            self._do(scheduling.appointment_set_status, appointment=self.appointments[i], status=status, actor=alice)

        @rule(i=st.integers(0, 2), quantity=st.integers(1, 3))
        def reprice(self, i: int, quantity: int) -> None:
            line = scheduling.LineInput(_service(self.patient), quantity)
            self._do(scheduling.appointment_update, appointment=self.appointments[i], lines=[line], actor=alice)

        @rule(i=st.integers(0, 9), amount=st.decimals("0.01", "200", places=2))
        def refund_amount(self, i: int, amount: Decimal) -> None:
            payments = [p for p in self._payments() if p.method != Method.PACKAGE]
            if payments:
                self._do(services.payment_refund, payment=payments[i % len(payments)], amount=amount, actor=alice)

        @rule(i=st.integers(0, 9), picks=st.lists(st.integers(0, 9), min_size=1, max_size=2))
        def refund_receivables(self, i: int, picks: list[int]) -> None:
            payments = self._payments()
            if payments:
                self._do(services.payment_refund, payment=payments[i % len(payments)],
                         receivables=self._receivables(picks), actor=alice)  # fmt: skip

        @rule()
        def book_another(self) -> None:
            if len(self.appointments) < 5:
                with organization_scope(tenant_a.organization):
                    self.appointments.append(book_session(None, patient=self.patient))

        @invariant()
        def everything_adds_up(self) -> None:
            if not hasattr(self, "patient"):
                return
            with organization_scope(tenant_a.organization):
                assert billing_reconcile(self.patient.pk) == []
                assert package_reconcile(self.package).differences == {}
                money = Payment.objects.filter(patient=self.patient).exclude(method=Method.PACKAGE)
                received = money.aggregate(s=Sum("amount"))["s"] or ZERO
                refunded = Refund.objects.filter(payment__in=money).aggregate(s=Sum("amount"))["s"] or ZERO
                on_receivables = Allocation.objects.filter(payment__in=money).aggregate(s=Sum("amount"))["s"] or ZERO
                assert received == on_receivables + account_credit(self.patient.pk) + refunded
                for receivable in Receivable.objects.filter(patient=self.patient):
                    assert ZERO <= receivable.paid <= receivable.amount
                    if receivable.appointment_id and receivable.status == "paid":
                        appointment = Appointment.objects.get(pk=receivable.appointment_id)
                        from_package = (
                            Allocation.objects.filter(receivable=receivable, payment__method=Method.PACKAGE).aggregate(
                                s=Sum("amount")
                            )["s"]
                            or ZERO
                        )
                        if from_package:
                            assert appointment.paid_from_package

    run_state_machine_as_test(
        BillingMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
