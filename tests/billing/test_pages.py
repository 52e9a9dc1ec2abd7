"""The finance pages as a receptionist uses them: the receivables list, the
three ways into paying from a package (the package's "pay existing
sessions", the session's "Register payment", the list's selection), the
price confirmation, refunds, and the patient file's summary."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from billing.models import Payment
from clinic.tenancy import organization_scope
from tests.billing.conftest import book_session, fresh, receivable_of, sale_of, take
from tests.conftest import login

D = Decimal


@pytest.fixture
def two_sessions(patient):
    with organization_scope(patient.organization_id):
        return [receivable_of(book_session(None, patient=patient)) for _ in range(2)]


@pytest.mark.django_db
def test_receivables_page_lists_marks_and_totals(bob, patient, two_sessions):
    with organization_scope(patient.organization_id):
        take(patient, "130.00", two_sessions)
    html = login(bob).get(f"/finance/?patient={patient.pk}&status=all").content.decode()
    assert html.count('data-testid="receivable-row"') == 2
    assert 'data-testid="total-amount">R$\N{NO-BREAK SPACE}200.00' in html
    assert 'data-testid="total-paid">R$\N{NO-BREAK SPACE}130.00' in html
    assert 'data-testid="total-open">R$\N{NO-BREAK SPACE}70.00' in html
    assert ">Paid<" in html
    assert ">Partly paid<" in html


@pytest.mark.django_db
def test_receivables_page_filter_errors_show_together(bob):
    response = login(bob).get("/finance/?start=2026-12-10&end=2026-12-01&status=nope")
    form = response.context["form"]
    assert set(form.errors) == {"end", "status"}


@pytest.mark.django_db
def test_pay_two_sessions_with_card_from_the_list(bob, patient, two_sessions):
    client = login(bob)
    ids = [r.pk for r in two_sessions]
    page = client.get("/finance/pay/", {"receivables": ids})
    assert page.status_code == 200
    assert 'data-testid="selected-total">R$\N{NO-BREAK SPACE}200.00' in page.content.decode()
    response = client.post(
        "/finance/pay/", {"receivables": ids, "method": "card", "amount": "200.00", "payer": "patient"}
    )
    with scopes_disabled():
        payment = Payment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/finance/payments/{payment.pk}/"
    assert [fresh(r).status for r in two_sessions] == ["paid", "paid"]


@pytest.mark.django_db
def test_the_payment_form_shows_every_error_at_once(bob, patient, two_sessions):
    response = login(bob).post("/finance/pay/", {"receivables": [two_sessions[0].pk], "method": "", "amount": "x"})
    assert set(response.context["form"].errors) == {"method", "amount"}
    with scopes_disabled():
        assert not Payment.objects.exists()


@pytest.mark.django_db
def test_register_payment_of_a_session_from_the_calendar(bob, patient, two_sessions):
    client = login(bob)
    modal = client.get(f"/calendar/appointments/{two_sessions[0].appointment_id}/").content.decode()
    assert f"/finance/pay/?appointment={two_sessions[0].appointment_id}" in modal
    page = client.get("/finance/pay/", {"appointment": two_sessions[0].appointment_id})
    assert [r.pk for r in page.context["selection"].receivables] == [two_sessions[0].pk]


@pytest.mark.django_db
def test_a_session_covered_by_its_package_has_nothing_to_pay(bob, patient, link):
    with organization_scope(patient.organization_id):
        appointment = book_session(link(sessions=4, total="400.00"))
    response = login(bob).get("/finance/pay/", {"appointment": appointment.pk}, follow=True)
    assert "Nothing to pay for this session: its package covers it." in response.content.decode()


@pytest.mark.django_db
def test_pay_existing_sessions_from_the_package_confirming_the_price(bob, patient, link, two_sessions):
    with organization_scope(patient.organization_id):
        package = link(sessions=10, total="900.00")
    client = login(bob)
    packages_page = client.get(f"/patients/{patient.pk}/packages/").content.decode()
    entry = f"/finance/?patient={patient.pk}&amp;status=open&amp;package={package.pk}"
    assert entry in packages_page
    listing = client.get(f"/finance/?patient={patient.pk}&status=open&package={package.pk}").content.decode()
    assert 'data-testid="paying-from-package"' in listing
    assert listing.count('data-testid="receivable-row"') == 2  # the sessions, not the package's own sale
    form = client.get("/finance/pay/", {"receivables": [two_sessions[0].pk], "package": package.pk})
    assert form.context["form"].initial["method"] == "package"
    data = {"receivables": [two_sessions[0].pk], "method": "package", "patient_package": package.pk}
    asked = client.post("/finance/pay/", data)
    html = asked.content.decode()
    assert 'data-testid="price-mismatch"' in html
    assert "R$\N{NO-BREAK SPACE}100.00" in html
    assert "R$\N{NO-BREAK SPACE}90.00" in html
    assert asked.context["form"].data["confirm_price"] == "on"
    with scopes_disabled():
        assert not Payment.objects.exists()
    confirmed = client.post("/finance/pay/", {**data, "confirm_price": "on"})
    assert confirmed.status_code == 302
    receivable = fresh(two_sessions[0])
    assert (receivable.amount, receivable.list_amount, receivable.status) == (D("90.00"), D("100.00"), "paid")
    assert fresh(package).sessions_used == 1


@pytest.mark.django_db
def test_remove_a_paid_session_from_its_package(bob, patient, link, two_sessions):
    from tests.billing.conftest import pay_from

    with organization_scope(patient.organization_id):
        package = link(sessions=4, total="400.00")
        payment = pay_from(package, [two_sessions[0]])
    client = login(bob)
    page = client.get(f"/finance/payments/{payment.pk}/").content.decode()
    assert "Remove paid sessions" in page
    response = client.post(f"/finance/payments/{payment.pk}/", {"receivables": [two_sessions[0].pk]})
    assert response.status_code == 302
    assert (fresh(package).sessions_used, fresh(two_sessions[0]).status) == (0, "open")


@pytest.mark.django_db
def test_refund_form_refuses_both_or_neither(bob, patient, two_sessions):
    with organization_scope(patient.organization_id):
        payment = take(patient, "200.00", two_sessions)
    client = login(bob)
    neither = client.post(f"/finance/payments/{payment.pk}/", {})
    assert neither.context["form"].non_field_errors() == ["Enter the amount or choose the sessions."]
    too_much = client.post(f"/finance/payments/{payment.pk}/", {"amount": "500.00"})
    assert too_much.context["form"].errors["amount"] == ["At most 200.00 of this payment can be refunded."]
    done = client.post(f"/finance/payments/{payment.pk}/", {"amount": "50.00", "reason": "Desconto"})
    assert done.status_code == 302


@pytest.mark.django_db
def test_the_patient_file_shows_the_financial_summary(bob, patient, link, two_sessions):
    with organization_scope(patient.organization_id):
        take(patient, "250.00", two_sessions)
        link(sessions=2, total="300.00")
    html = login(bob).get(f"/patients/{patient.pk}/").content.decode()
    assert 'data-testid="file-open">R$\N{NO-BREAK SPACE}300.00' in html
    assert 'data-testid="file-paid">R$\N{NO-BREAK SPACE}200.00' in html
    assert 'data-testid="file-credit">R$\N{NO-BREAK SPACE}50.00' in html
    assert sale_of


@pytest.mark.django_db
def test_the_receipt_page_is_a_pdf(bob, patient, two_sessions):
    with organization_scope(patient.organization_id):
        payment = take(patient, "200.00", two_sessions)
    response = login(bob).get(f"/finance/payments/{payment.pk}/receipt.pdf")
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")


@pytest.mark.django_db
def test_booking_without_a_package_offers_the_payment_and_with_one_does_not(bob, paula, patient, link):
    """Seed 001: the booking offers the patient's packages; "skip" leads to the
    one-click payment of the session."""
    from scheduling.models import Appointment
    from tests.scheduling.conftest import physio_service  # noqa: F401
    from tests.scheduling.test_pages import booking_data, client_for, saved_event

    with organization_scope(patient.organization_id):
        from tests.packages.factories import ServiceFactory

        service = ServiceFactory(clinic=patient.clinic, name="Fisioterapia", price=D("120.00"))
        package = link(sessions=4, total="480.00")
    skipped = saved_event(client_for(bob).post("/calendar/book/", booking_data(patient, service)))
    with scopes_disabled():
        appointment = Appointment.objects.get()
    assert skipped["action"]["url"] == f"/finance/pay/?appointment={appointment.pk}"
    covered = booking_data(patient, service, start="2026-12-02T09:00", patient_package=package.pk)
    assert "action" not in saved_event(client_for(bob).post("/calendar/book/", covered))
    # A professional books but does not take payments: nothing to offer.
    own = saved_event(
        client_for(paula).post("/calendar/book/", booking_data(patient, service, start="2026-12-03T09:00"))
    )
    assert "action" not in own


@pytest.mark.django_db
def test_a_packages_paid_sessions_are_listed_from_the_package(bob, patient, link, two_sessions, foreign_patient_b):
    from tests.billing.conftest import pay_from

    with organization_scope(patient.organization_id):
        package = link(sessions=4, total="400.00")
        payment = pay_from(package, [two_sessions[0]])
        take(patient, "100.00", [two_sessions[1]])
    client = login(bob)
    assert (
        f"/finance/payments/?package={package.pk}" in client.get(f"/patients/{patient.pk}/packages/").content.decode()
    )
    listing = client.get("/finance/payments/", {"package": package.pk})
    assert [p.pk for p in listing.context["page"].object_list] == [payment.pk]
    with organization_scope(foreign_patient_b.organization_id):
        from packages.patient_packages import ledger

        foreign = ledger.package_link(patient=foreign_patient_b, clinic=foreign_patient_b.clinic, actor=None,
                                      sessions=2, total_price=D("200.00"))  # fmt: skip
    assert client.get("/finance/payments/", {"package": foreign.pk}).status_code == 404
