"""Payments (B2), paying from a package (K11) and refunds (B3)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django_scopes import scopes_disabled

from billing.models import Allocation, Payment, Refund
from billing.receivables import account_credit
from billing.reconcile import billing_reconcile
from clinic.errors import ApplicationError
from scheduling.models import Appointment
from tests.billing.conftest import book_session, fresh, pay_from, receivable_of, refund, sale_of, set_status, take
from tests.patients.factories import PatientFactory

D = Decimal


def sessions(patient, count: int):
    return [receivable_of(book_session(None, patient=patient)) for _ in range(count)]


def counts() -> tuple[int, int, int]:
    with scopes_disabled():
        return Payment.objects.count(), Allocation.objects.count(), Refund.objects.count()


# Money


@pytest.mark.django_db
def test_a_payment_is_spread_in_order_and_the_rest_is_account_credit(patient, alice, scope):
    first, second = sessions(patient, 2)
    payment = take(patient, "250.00", [first, second], method="pix", actor=alice)
    assert (fresh(first).status, fresh(second).status) == ("paid", "paid")
    assert account_credit(patient.pk) == D("50.00")
    assert (payment.number, payment.method, payment.payer_name, payment.received_by) == (
        1,
        "pix",
        patient.full_name,
        alice,
    )
    assert billing_reconcile(patient.pk) == []


@pytest.mark.django_db
def test_a_short_payment_leaves_the_last_receivable_partly_paid(patient, scope):
    first, second = sessions(patient, 2)
    take(patient, "130.00", [first, second])
    first, second = fresh(first), fresh(second)
    assert [(r.paid, r.open, r.status) for r in (first, second)] == [
        (D("100.00"), D("0.00"), "paid"), (D("30.00"), D("70.00"), "partial"),
    ]  # fmt: skip


@pytest.mark.django_db
def test_the_account_credit_pays_first_when_asked(patient, scope):
    first, second = sessions(patient, 2)
    take(patient, "150.00", [first])  # 50.00 credit
    payment = take(patient, "50.00", [second], use_credit=True)
    assert fresh(second).status == "paid"
    assert account_credit(patient.pk) == D("0.00")
    with scopes_disabled():
        kinds = sorted(Allocation.objects.filter(receivable=second).values_list("kind", "amount"))
    assert kinds == [("credit", D("50.00")), ("payment", D("50.00"))]
    assert payment.amount == D("50.00")
    assert billing_reconcile(patient.pk) == []


@pytest.mark.django_db
def test_credit_alone_pays_with_a_zero_amount(patient, scope):
    first, second = sessions(patient, 2)
    take(patient, "200.00", [first])
    take(patient, "0.00", [second], use_credit=True)
    assert (fresh(second).status, account_credit(patient.pk)) == ("paid", D("0.00"))


@pytest.mark.django_db
def test_a_payment_on_account_keeps_it_all_as_credit(patient, scope):
    take(patient, "300.00", [])
    assert account_credit(patient.pk) == D("300.00")


@pytest.mark.django_db
def test_the_guardian_pays_in_the_patient_file(tenant_a, scope):
    child = PatientFactory(clinic=tenant_a.central, full_name="Pedro Criança", guardian_name="Ana Responsável")
    (receivable,) = sessions(child, 1)
    payment = take(child, "100.00", [receivable], payer="guardian")
    assert (payment.payer, payment.payer_name) == ("guardian", "Ana Responsável")


@pytest.mark.django_db
def test_bad_input_shows_every_error_at_once_and_writes_nothing(patient, scope):
    (receivable,) = sessions(patient, 1)
    before = counts()
    with pytest.raises(ApplicationError) as error:
        take(patient, "-1", [receivable, receivable], method="cheque")
    assert set(error.value.fields) == {"method", "amount", "receivables"}
    assert counts() == before


@pytest.mark.django_db
def test_paying_a_paid_or_another_patients_receivable_is_refused(patient, tenant_a, scope):
    (receivable,) = sessions(patient, 1)
    take(patient, "100.00", [receivable])
    with pytest.raises(ApplicationError) as error:
        take(patient, "100.00", [receivable])
    assert error.value.fields == {"receivables": [f"Sessão ({fresh(receivable).due_date:%m/%d/%Y}) is already paid."]}
    other = PatientFactory(clinic=tenant_a.central, full_name="Outra Pessoa")
    with pytest.raises(ApplicationError) as error:
        take(other, "100.00", [receivable])
    assert error.value.fields == {"receivables": ["A chosen charge is not one of this patient's."]}


@pytest.mark.django_db
def test_payment_numbers_are_unique_and_consecutive_in_the_organization(patient, scope):
    numbers = [take(patient, "10.00", []).number for _ in range(3)]
    assert numbers == [1, 2, 3]


# From a package (K11)


@pytest.mark.django_db
def test_paying_from_a_package_at_its_value_debits_the_session(patient, link, scope):
    package = link(sessions=4, total="400.00")
    (receivable,) = sessions(patient, 1)
    payment = pay_from(package, [receivable])
    receivable, package = fresh(receivable), fresh(package)
    assert (payment.method, payment.amount, payment.patient_package_id) == ("package", D("100.00"), package.pk)
    assert (receivable.status, receivable.list_amount, receivable.patient_package_id) == ("paid", None, package.pk)
    assert (package.sessions_used, package.amount_open) == (1, D("300.00"))
    with scopes_disabled():
        appointment = Appointment.objects.get(pk=receivable.appointment_id)
    assert (appointment.patient_package_id, appointment.paid_from_package) == (package.pk, True)
    assert billing_reconcile(patient.pk) == []


@pytest.mark.django_db
def test_a_price_mismatch_asks_and_cancelling_changes_nothing(patient, link, scope):
    package = link(sessions=10, total="900.00")
    (receivable,) = sessions(patient, 1)
    before = counts()
    with pytest.raises(ApplicationError) as error:
        pay_from(package, [receivable])
    assert (error.value.code, error.value.status) == ("price_mismatch", 409)
    assert error.value.fields == {
        "receivables": [str(receivable.pk)], "prices": ["100.00"], "values": ["90.00"], "average": ["90.00"],
    }  # fmt: skip
    assert counts() == before
    assert (fresh(receivable).amount, fresh(receivable).status, fresh(package).sessions_used) == (
        D("100.00"),
        "open",
        0,
    )


@pytest.mark.django_db
def test_confirming_the_price_sets_the_session_to_the_package_value(patient, link, scope):
    package = link(sessions=10, total="900.00")
    (receivable,) = sessions(patient, 1)
    pay_from(package, [receivable], confirm_price=True)
    receivable = fresh(receivable)
    assert (receivable.amount, receivable.list_amount, receivable.paid) == (D("90.00"), D("100.00"), D("90.00"))


@pytest.mark.django_db
def test_paying_more_sessions_than_the_package_holds_is_refused(patient, link, scope):
    package = link(sessions=2, total="200.00")
    rows = sessions(patient, 3)
    before = counts()
    with pytest.raises(ApplicationError) as error:
        pay_from(package, rows)
    assert error.value.code == "package_exhausted"
    assert "adjust the package's sessions" in error.value.detail
    assert counts() == before
    assert fresh(package).sessions_used == 0


@pytest.mark.django_db
def test_a_per_procedure_package_does_not_pay_sessions(patient, tenant_a, alice, scope):
    from packages.patient_packages import ledger
    from tests.packages.factories import ServiceFactory, make_template

    service = ServiceFactory(clinic=tenant_a.central, name="Pilates", price=D("85.00"))
    template = make_template(tenant_a.central, [(service, 8)], price=D("600.00"), posting="per_procedure")
    package = ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=template)
    (receivable,) = sessions(patient, 1)
    with pytest.raises(ApplicationError) as error:
        pay_from(package, [receivable])
    assert error.value.fields == {
        "patient_package": ["This package charges each session: pay them with cash, card, Pix or transfer."]
    }


@pytest.mark.django_db
def test_cancelling_a_session_paid_from_a_package_gives_its_value_back(patient, link, scope):
    package = link(sessions=4, total="400.00")
    (receivable,) = sessions(patient, 1)
    payment = pay_from(package, [receivable])
    with scopes_disabled():
        appointment = Appointment.objects.get(pk=receivable.appointment_id)
    set_status(appointment, "cancelled")
    package = fresh(package)
    assert (package.sessions_used, package.amount_open) == (0, D("400.00"))
    assert fresh(receivable).status == "cancelled"
    with scopes_disabled():
        assert list(Refund.objects.filter(payment=payment).values_list("amount", flat=True)) == [D("100.00")]
    assert billing_reconcile(patient.pk) == []


# Refunds (B3)


@pytest.mark.django_db
def test_refunding_a_receivable_reopens_it(patient, scope):
    first, second = sessions(patient, 2)
    payment = take(patient, "200.00", [first, second])
    given = refund(payment, receivables=[second])
    assert given.amount == D("100.00")
    assert (fresh(first).status, fresh(second).status) == ("paid", "open")
    assert billing_reconcile(patient.pk) == []


@pytest.mark.django_db
def test_refunding_an_amount_takes_the_credit_first_then_the_newest_receivable(patient, scope):
    first, second = sessions(patient, 2)
    payment = take(patient, "250.00", [first, second])
    refund(payment, amount="80.00")
    assert account_credit(patient.pk) == D("0.00")
    assert (fresh(first).paid, fresh(second).paid) == (D("100.00"), D("70.00"))
    with pytest.raises(ApplicationError) as error:
        refund(payment, amount="170.01")
    assert (error.value.code, error.value.detail) == (
        "nothing_to_refund",
        "At most 170.00 of this payment can be refunded.",
    )
    assert billing_reconcile(patient.pk) == []


@pytest.mark.django_db
def test_removing_a_package_paid_session_credits_the_package_back_and_reopens_it(patient, link, scope):
    package = link(sessions=1, total="100.00")
    (receivable,) = sessions(patient, 1)
    payment = pay_from(package, [receivable])
    assert fresh(package).status == "finished"
    refund(payment, receivables=[receivable])
    package, receivable = fresh(package), fresh(receivable)
    assert (package.status, package.sessions_used, package.amount_open) == ("active", 0, D("100.00"))
    assert (receivable.status, receivable.amount, receivable.patient_package_id) == ("open", D("100.00"), None)
    with scopes_disabled():
        appointment = Appointment.objects.get(pk=receivable.appointment_id)
    assert appointment.patient_package_id is None
    assert billing_reconcile(patient.pk) == []


@pytest.mark.django_db
def test_a_package_sale_refunds_only_what_was_not_used(patient, link, scope):
    package = link(sessions=4, total="400.00")
    payment = take(patient, "400.00", sale_of(package))
    set_status(book_session(package), "attended")  # 100.00 used
    with pytest.raises(ApplicationError) as error:
        refund(payment, amount="400.00")
    assert error.value.code == "package_sale_used"
    assert (
        error.value.detail
        == f"Only what was not used of a package can be refunded: at most 300.00 of package {package.number}."
    )
    refund(payment, amount="300.00")
    assert fresh(sale_of(package)[0]).paid == D("100.00")


# Never edited, never deleted


@pytest.mark.django_db
def test_payments_allocations_and_refunds_are_append_only(patient, scope):
    (receivable,) = sessions(patient, 1)
    payment = take(patient, "100.00", [receivable])
    given = refund(payment, amount="10.00")
    allocation = Allocation.objects.filter(payment=payment).first()
    for row in (payment, given, allocation):
        with pytest.raises(TypeError, match=r"append-only|never edited"):
            row.save()
        with pytest.raises(TypeError, match="append-only"):
            type(row).objects.filter(pk=row.pk).update(amount=D("1.00"))
        with pytest.raises(TypeError, match="append-only"):
            type(row).objects.filter(pk=row.pk).delete()
    assert connection.vendor == "postgresql"
    for table in ("billing_payment", "billing_allocation", "billing_refund"):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET amount = amount")  # noqa: S608
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
