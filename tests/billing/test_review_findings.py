"""Findings of a review of billing, each pinned by a test."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.receivables import account_credit
from billing.reconcile import billing_reconcile
from clinic.errors import ApplicationError
from packages.patient_packages import ledger
from scheduling import services
from tests.billing.conftest import book_session, fresh, pay_from, receivable_of, sale_of, set_status, take

D = Decimal


@pytest.mark.django_db
def test_a_session_paid_in_money_then_moved_into_a_total_package_is_not_charged_twice(patient, link, alice, scope):
    appointment = book_session(None, patient=patient)
    take(patient, "100.00", [receivable_of(appointment)])
    package = link(sessions=4, total="400.00")
    services.appointment_update(appointment=appointment, actor=alice, patient_package=package)
    receivable = receivable_of(appointment)
    assert (receivable.status, receivable.paid) == ("cancelled", D("0.00"))
    assert account_credit(patient.pk) == D("100.00")  # the package's sale covers the session now
    assert billing_reconcile(patient.pk) == []


@pytest.mark.django_db
def test_a_session_already_debited_from_the_package_is_not_paid_from_it_again(patient, link, alice, scope):
    appointment = book_session(None, patient=patient)
    receivable = receivable_of(appointment)
    package = link(sessions=4, total="400.00")
    pay_from(package, [receivable])
    set_status(appointment, "attended")
    with pytest.raises(ApplicationError) as error:
        pay_from(package, [receivable])
    assert error.value.code == "validation_error"  # already paid
    assert fresh(package).sessions_used == 1


@pytest.mark.django_db
def test_a_cut_of_the_total_lowers_what_is_open_before_giving_back_what_was_paid(patient, link, alice, scope):
    package = link(sessions=10, total="1000.00", installments=2)
    first, second = sale_of(package)
    take(patient, "500.00", [second])  # the later installment paid, the first still open
    ledger.package_change(package=fresh(package), actor=alice, amount_total=D("700.00"))
    first, second = fresh(first), fresh(second)
    assert (first.amount, first.paid, first.status) == (D("200.00"), D("0.00"), "open")
    assert (second.amount, second.paid, second.status) == (D("500.00"), D("500.00"), "paid")
    assert account_credit(patient.pk) == D("0.00")
    ledger.package_change(package=fresh(package), actor=alice, amount_total=D("400.00"))
    first, second = fresh(first), fresh(second)
    assert (first.status, first.cancelled_at is not None) == ("cancelled", True)
    assert (second.amount, second.paid) == (D("400.00"), D("400.00"))
    assert account_credit(patient.pk) == D("100.00")
    assert billing_reconcile(patient.pk) == []
