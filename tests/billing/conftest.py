"""Fixtures for billing: a patient with sessions booked without a package
(each owes 100.00, the `Sessão` service's price) and a total-posting package."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from billing import services
from billing.models import Payment, Receivable, ReceivableKind
from clinic.tenancy import organization_scope
from scheduling.models import Appointment
from tests.ledger.conftest import book_session, foreign_patient_b, link, patient, set_status  # noqa: F401

D = Decimal


@pytest.fixture
def scope(tenant_a) -> Iterator[None]:
    with organization_scope(tenant_a.organization):
        yield


def receivable_of(appointment: Appointment) -> Receivable:
    with scopes_disabled():
        return Receivable.objects.get(appointment_id=appointment.pk)


def sale_of(package) -> list[Receivable]:
    with scopes_disabled():
        return list(
            Receivable.objects.filter(patient_package=package, kind=ReceivableKind.PACKAGE).order_by("due_date", "pk")
        )


def fresh(row):
    with scopes_disabled():
        row.refresh_from_db()
    return row


def take(who, amount, receivables=(), *, method="cash", actor=None, **kwargs) -> Payment:
    with organization_scope(who.organization_id):
        return services.payment_take(
            clinic=who.clinic, patient=who, method=method, amount=D(amount),
            receivables=[r.pk for r in receivables], actor=actor, **kwargs,
        )  # fmt: skip


def pay_from(package, receivables, *, confirm_price=False, actor=None) -> Payment:
    with organization_scope(package.organization_id):
        return services.payment_from_package(
            package=package, receivables=[r.pk for r in receivables], confirm_price=confirm_price, actor=actor
        )


def refund(payment, *, amount=None, receivables=None, actor=None):
    with organization_scope(payment.organization_id):
        return services.payment_refund(
            payment=payment, amount=None if amount is None else D(amount),
            receivables=None if receivables is None else [r.pk for r in receivables], actor=actor,
        )  # fmt: skip
