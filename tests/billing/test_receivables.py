"""Receivables follow what they charge (B1, B4): sessions without a package
or of a per-procedure package owe their lines' prices from booking; a
total-posting package owes its price at link, in installments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import ReceivableKind
from billing.reconcile import billing_reconcile
from clinic.errors import ApplicationError
from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from scheduling import services
from tests.billing.conftest import book_session, fresh, receivable_of, sale_of, set_status, take
from tests.packages.factories import ServiceFactory, make_template

D = Decimal


@pytest.fixture
def per_procedure(tenant_a, alice, patient):
    service = ServiceFactory(clinic=tenant_a.central, name="Pilates", price=D("85.00"))
    template = make_template(tenant_a.central, [(service, 8)], name="Pilates 8", price=D("600.00"),
                             posting="per_procedure")  # fmt: skip
    with organization_scope(tenant_a.organization):
        return ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=template)


@pytest.mark.django_db
def test_session_without_package_owes_its_price_from_booking(patient, scope):
    appointment = book_session(None, patient=patient)
    receivable = receivable_of(appointment)
    assert (receivable.kind, receivable.amount, receivable.paid, receivable.status) == (
        "session",
        D("100.00"),
        0,
        "open",
    )
    assert receivable.due_date == appointment.start.astimezone(dt.timezone(dt.timedelta(hours=-3))).date()
    assert receivable.description == "Sessão"


@pytest.mark.django_db
def test_session_of_a_per_procedure_package_owes_its_price(per_procedure, scope):
    appointment = book_session(per_procedure)
    receivable = receivable_of(appointment)
    assert (receivable.amount, receivable.patient_package_id) == (D("100.00"), per_procedure.pk)
    assert sale_of(per_procedure) == []  # a per-procedure package posts nothing when linked


@pytest.mark.django_db
def test_session_of_a_total_package_owes_nothing_of_its_own(link, scope):
    package = link(sessions=10, total="1000.00")
    appointment = book_session(package)
    set_status(appointment, "attended")
    from billing.models import Receivable

    assert not Receivable.objects.filter(appointment_id=appointment.pk).exists()
    assert [(r.amount, r.status) for r in sale_of(package)] == [(D("1000.00"), "open")]


@pytest.mark.django_db
def test_installments_add_up_exactly_and_fall_monthly(link, scope):
    package = link(sessions=10, total="1000.00", installments=3)
    sale = sale_of(package)
    assert [r.amount for r in sale] == [D("333.33"), D("333.33"), D("333.34")]
    assert sum(r.amount for r in sale) == package.amount_total
    assert [(r.installment, r.installments) for r in sale] == [(1, 3), (2, 3), (3, 3)]
    first = sale[0].due_date
    assert [r.due_date.month for r in sale] == [first.month, first.month % 12 + 1, (first.month + 1) % 12 + 1]
    assert "parcela 2 de 3" in sale[1].description  # stored in the clinic's language (pt-BR)


@pytest.mark.django_db
def test_installments_out_of_range_are_refused(link, scope):
    with pytest.raises(ApplicationError) as error:
        link(sessions=10, total="1000.00", installments=13)
    assert error.value.fields == {"installments": ["Choose between 1 and 12 installments."]}


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["cancelled", "justified_absence"])
def test_a_releasing_status_cancels_the_receivable(patient, scope, status):
    appointment = book_session(None, patient=patient)
    set_status(appointment, status)
    assert fresh(receivable_of(appointment)).status == "cancelled"


@pytest.mark.django_db
def test_a_no_show_keeps_its_charge(patient, scope):
    appointment = book_session(None, patient=patient)
    set_status(appointment, "missed")
    assert receivable_of(appointment).status == "open"


@pytest.mark.django_db
def test_justified_absence_set_back_to_scheduled_owes_again(patient, scope):
    appointment = book_session(None, patient=patient)
    set_status(appointment, "justified_absence")
    set_status(appointment, "scheduled")
    receivable = receivable_of(appointment)
    assert (receivable.status, receivable.cancelled_at) == ("open", None)


@pytest.mark.django_db
def test_cancelling_a_paid_session_moves_its_payment_to_the_account_credit(patient, scope):
    from billing.receivables import account_credit

    appointment = book_session(None, patient=patient)
    take(patient, "100.00", [receivable_of(appointment)])
    set_status(appointment, "cancelled")
    receivable = receivable_of(appointment)
    assert (receivable.status, receivable.paid) == ("cancelled", D("0.00"))
    assert account_credit(patient.pk) == D("100.00")
    assert billing_reconcile(patient.pk) == []


@pytest.mark.django_db
def test_deleting_the_session_cancels_its_receivable_and_keeps_it(patient, alice, scope):
    appointment = book_session(None, patient=patient)
    receivable = receivable_of(appointment)
    services.appointment_delete(appointment=appointment, actor=alice)
    receivable = fresh(receivable)
    assert (receivable.status, receivable.appointment_id, receivable.description) == ("cancelled", None, "Sessão")


@pytest.mark.django_db
def test_changing_the_lines_reprices_an_open_receivable(patient, alice, scope):
    appointment = book_session(None, patient=patient)
    other = ServiceFactory(clinic=patient.clinic, name="Avaliação", price=D("150.00"))
    services.appointment_update(appointment=appointment, actor=alice, lines=[services.LineInput(other, 2)])
    receivable = receivable_of(appointment)
    assert (receivable.amount, receivable.description) == (D("300.00"), "Avaliação \N{MULTIPLICATION SIGN} 2")


@pytest.mark.django_db
def test_repricing_below_what_was_paid_gives_the_excess_to_the_credit(patient, alice, scope):
    from billing.receivables import account_credit

    appointment = book_session(None, patient=patient)
    take(patient, "100.00", [receivable_of(appointment)])
    cheaper = ServiceFactory(clinic=patient.clinic, name="Retorno", price=D("60.00"))
    services.appointment_update(appointment=appointment, actor=alice, lines=[services.LineInput(cheaper)])
    receivable = receivable_of(appointment)
    assert (receivable.amount, receivable.paid, receivable.status) == (D("60.00"), D("60.00"), "paid")
    assert account_credit(patient.pk) == D("40.00")
    assert billing_reconcile(patient.pk) == []


@pytest.mark.django_db
def test_moving_a_session_to_a_total_package_cancels_its_unpaid_charge(patient, link, alice, scope):
    appointment = book_session(None, patient=patient)
    package = link(sessions=10, total="1000.00")
    services.appointment_update(appointment=appointment, actor=alice, patient_package=package)
    assert receivable_of(appointment).status == "cancelled"
    services.appointment_update(appointment=appointment, actor=alice, patient_package=None)
    assert receivable_of(appointment).status == "open"


@pytest.mark.django_db
def test_a_raise_of_the_package_value_is_charged_and_a_cut_lowers_what_is_open(link, alice, scope):
    package = link(sessions=10, total="1000.00", installments=2)
    ledger.package_change(package=package, actor=alice, amount_total=D("1100.00"))
    sale = sale_of(package)
    assert sorted(r.amount for r in sale) == [D("100.00"), D("500.00"), D("500.00")]
    assert "alteração do valor" in min(sale, key=lambda r: r.amount).description
    ledger.package_change(package=fresh(package), actor=alice, amount_total=D("900.00"))
    live = [r for r in sale_of(package) if r.status != "cancelled"]
    assert sum(r.amount for r in live) == D("900.00")


@pytest.mark.django_db
def test_a_monthly_renewal_charges_its_cycle(tenant_a, patient, alice, scope):
    pilates = ServiceFactory(clinic=tenant_a.central, name="Pilates", price=D("60.00"))
    plan = make_template(tenant_a.central, [(pilates, 8)], name="Pilates 2x", price=D("480.00"), renewal="monthly",
                         posting="total")  # fmt: skip
    package = ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=plan)
    ledger.package_renew(package=package, actor=alice)
    assert [r.amount for r in sale_of(package)] == [D("480.00"), D("480.00")]


@pytest.mark.django_db
def test_deleting_a_package_cancels_its_sale_and_credits_what_was_paid(link, patient, alice, scope):
    from billing.receivables import account_credit

    package = link(sessions=10, total="1000.00")
    take(patient, "400.00", sale_of(package))
    services.patient_package_delete(package=package, actor=alice)
    assert [(r.status, r.paid) for r in sale_of(package)] == [("cancelled", D("0.00"))]
    assert account_credit(patient.pk) == D("400.00")
    assert billing_reconcile(patient.pk) == []


@pytest.mark.django_db
def test_receivable_kinds_are_the_two_known(patient, scope):
    assert set(ReceivableKind.values) == {"session", "package"}
