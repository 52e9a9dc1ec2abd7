"""Billing's entry points raced with real threads on PostgreSQL against each
other and against the scheduling entry points that lock the same rows: no
unexpected error, never an overpaid receivable or a negative credit, and
every figure reconciled afterwards (billing's and the package ledger's)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django_scopes import scopes_disabled

from billing import services
from billing.models import Receivable, Refund
from billing.receivables import account_credit
from billing.reconcile import billing_reconcile
from clinic.tenancy import organization_scope
from packages.patient_packages.ledger import package_reconcile
from packages.patient_packages.models import PatientPackage
from scheduling import services as scheduling
from scheduling.models import Appointment
from scheduling.package_sessions import sessions_reconcile
from tests.billing.conftest import book_session, fresh, receivable_of, take
from tests.ledger.test_concurrency import outcome, run_concurrently

D = Decimal
pytestmark = pytest.mark.django_db(transaction=True)


def _settled(patient, *packages: PatientPackage) -> None:
    with organization_scope(patient.organization_id):
        assert billing_reconcile(patient.pk) == []
        for package in packages:
            assert package_reconcile(fresh(package)).differences == {}
            assert sessions_reconcile(fresh(package)).differences == {}


def _in_scope(patient, work):
    def run(i: int):
        with organization_scope(patient.organization_id):
            return work(i)

    return run


def test_ten_payments_of_one_receivable_pay_it_once(patient):
    assert connection.vendor == "postgresql"
    with organization_scope(patient.organization_id):
        receivable = receivable_of(book_session(None, patient=patient))
    results = run_concurrently(_in_scope(patient, lambda i: take(patient, "100.00", [receivable])), 10)
    assert Counter(outcome(r) for r in results) == {"ok": 1, "validation_error": 9}
    assert (fresh(receivable).paid, fresh(receivable).status) == (D("100.00"), "paid")
    _settled(patient)


def test_partial_payments_in_parallel_never_overpay(patient):
    with organization_scope(patient.organization_id):
        receivable = receivable_of(book_session(None, patient=patient))
    results = run_concurrently(_in_scope(patient, lambda i: take(patient, "30.00", [receivable])), 8)
    assert Counter(outcome(r) for r in results) == {"ok": 4, "validation_error": 4}
    assert fresh(receivable).paid == D("100.00")
    with organization_scope(patient.organization_id):
        assert account_credit(patient.pk) == D("20.00")  # the fourth payment's rest
    _settled(patient)


def test_spending_the_credit_twice_at_once_spends_it_once(patient):
    with organization_scope(patient.organization_id):
        first, second, third = (receivable_of(book_session(None, patient=patient)) for _ in range(3))
        take(patient, "200.00", [first])  # 100.00 credit
    targets = [second, third]
    results = run_concurrently(_in_scope(patient, lambda i: take(patient, "0.00", [targets[i]], use_credit=True)), 2)
    assert sorted(outcome(r) for r in results) == ["ok", "validation_error"]
    with organization_scope(patient.organization_id):
        assert account_credit(patient.pk) == D("0.00")
    _settled(patient)


def test_refunds_of_one_payment_in_parallel_never_exceed_it(patient):
    with organization_scope(patient.organization_id):
        receivable = receivable_of(book_session(None, patient=patient))
        payment = take(patient, "150.00", [receivable])

    def work(i: int):
        return services.payment_refund(payment=payment, amount=D("40.00"), actor=None)

    results = run_concurrently(_in_scope(patient, work), 6)
    assert Counter(outcome(r) for r in results) == {"ok": 3, "nothing_to_refund": 3}
    with scopes_disabled():
        assert sum(Refund.objects.filter(payment=payment).values_list("amount", flat=True)) == D("120.00")
    _settled(patient)


def test_paying_and_cancelling_the_same_session_at_once(patient, alice):
    """Either order ends consistent: paid then cancelled (the money is
    account credit) or cancelled then refused (nothing paid)."""
    for _round in range(5):
        with organization_scope(patient.organization_id):
            appointment = book_session(None, patient=patient)
            receivable = receivable_of(appointment)

        def work(i: int, appointment=appointment, receivable=receivable):
            if i == 0:
                return take(patient, "100.00", [receivable])
            return scheduling.appointment_set_status(appointment=appointment, status="cancelled", actor=alice)

        results = run_concurrently(_in_scope(patient, work), 2)
        assert outcome(results[1]) == "ok"
        assert outcome(results[0]) in ("ok", "validation_error")
        assert (fresh(receivable).status, fresh(receivable).paid) == ("cancelled", D("0.00"))
    _settled(patient)


def test_paying_from_a_package_against_cancelling_and_deleting(patient, link, alice):
    for round_ in range(6):
        with organization_scope(patient.organization_id):
            package = link(sessions=4, total="400.00")
            appointment = book_session(None, patient=patient)
            receivable = receivable_of(appointment)

        def work(i: int, package=package, appointment=appointment, receivable=receivable, round_=round_):
            if i == 0:
                return services.payment_from_package(package=package, receivables=[receivable.pk], actor=alice)
            if round_ % 2:
                return scheduling.patient_package_delete(package=package, actor=alice)
            return scheduling.appointment_set_status(appointment=appointment, status="cancelled", actor=alice)

        results = run_concurrently(_in_scope(patient, work), 2)
        codes = {outcome(r) for r in results}
        assert all(code in {"ok", "validation_error", "package_debited", "not_found", "invalid_transition"}
                   for code in codes), codes  # fmt: skip
        _settled(patient, package)
        with scopes_disabled():
            current = Appointment.objects.get(pk=appointment.pk)
            row = Receivable.objects.get(pk=receivable.pk)
        if current.paid_from_package:
            assert (row.status, row.patient_package_id) == ("paid", package.pk)


def test_two_sessions_paid_from_the_last_free_session(patient, link, alice):
    with organization_scope(patient.organization_id):
        package = link(sessions=1, total="100.00")
        rows = [receivable_of(book_session(None, patient=patient)) for _ in range(2)]

    def work(i: int):
        return services.payment_from_package(package=package, receivables=[rows[i].pk], actor=alice)

    results = run_concurrently(_in_scope(patient, work), 2)
    assert sorted(outcome(r) for r in results) == ["ok", "package_inactive"] or sorted(outcome(r) for r in results) == [
        "ok",
        "package_exhausted",
    ]
    assert fresh(package).sessions_used == 1
    _settled(patient, package)
