"""`/api/v1/receivables/` and `/api/v1/payments/`: the contract's field
names, errors in the shared shape, another organization's rows answering
404, and lists whose query count does not grow with their rows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from billing.models import Payment
from clinic.tenancy import organization_scope
from tests.billing.conftest import book_session, fresh, receivable_of, sale_of, take
from tests.conftest import api_client, login

D = Decimal
NOT_FOUND = {"code": "not_found", "detail": "Not found.", "fields": {}}


@pytest.fixture
def beta(foreign_patient_b):
    """Another organization's receivable and payment."""
    with organization_scope(foreign_patient_b.organization_id):
        receivable = receivable_of(book_session(None, patient=foreign_patient_b))
        payment = take(foreign_patient_b, "100.00", [receivable])
    return receivable, payment


@pytest.mark.django_db
def test_receivables_list_reads_the_contract(alice, patient, link):
    with organization_scope(patient.organization_id):
        session = receivable_of(book_session(None, patient=patient))
        package = link(sessions=2, total="300.00", installments=2)
        take(patient, "30.00", [session])
    response = api_client(alice).get("/api/v1/receivables/", {"patient": patient.pk, "status": "open"})
    assert response.status_code == 200
    rows = response.json()["results"]
    # Ordered by due date: the installments are due today, the session on its
    # day (today or, late in the run, tomorrow).
    assert [r["due_date"] for r in rows] == sorted(r["due_date"] for r in rows)
    first = next(r for r in rows if r["id"] == session.pk)
    assert {k: first[k] for k in ("patient", "appointment", "patient_package", "description", "amount", "paid",
                                  "open", "status")} == {
        "patient": patient.pk, "appointment": session.appointment_id, "patient_package": None,
        "description": "Sessão", "amount": "100.00", "paid": "30.00", "open": "70.00", "status": "partial",
    }  # fmt: skip
    others = [r for r in rows if r["id"] != session.pk]
    assert sorted(r["amount"] for r in others) == ["150.00", "150.00"]
    assert {r["patient_package"] for r in others} == {package.pk}


@pytest.mark.django_db
def test_receivables_filters_by_status_and_dates(alice, patient):
    with organization_scope(patient.organization_id):
        paid = receivable_of(book_session(None, patient=patient))
        open_ = receivable_of(book_session(None, patient=patient))
        take(patient, "100.00", [paid])
    client = api_client(alice)
    assert [r["id"] for r in client.get("/api/v1/receivables/", {"status": "paid"}).json()["results"]] == [paid.pk]
    assert [r["id"] for r in client.get("/api/v1/receivables/", {"status": "open"}).json()["results"]] == [open_.pk]
    day = fresh(paid).due_date.isoformat()
    assert len(client.get("/api/v1/receivables/", {"start": day, "end": day}).json()["results"]) >= 1
    bad = client.get("/api/v1/receivables/", {"status": "maybe", "start": "yesterday"})
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"status", "start"}


@pytest.mark.django_db
def test_post_a_money_payment_and_read_it(alice, patient):
    with organization_scope(patient.organization_id):
        first = receivable_of(book_session(None, patient=patient))
        second = receivable_of(book_session(None, patient=patient))
    response = api_client(alice).post(
        "/api/v1/payments/",
        {"patient": patient.pk, "method": "card", "amount": "150.00", "receivables": [first.pk, second.pk]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in ("number", "patient", "method", "amount", "state")} == {
        "number": 1, "patient": patient.pk, "method": "card", "amount": "150.00", "state": "received",
    }  # fmt: skip
    assert [(a["receivable"], a["amount"]) for a in body["allocations"]] == [(first.pk, "100.00"), (second.pk, "50.00")]


@pytest.mark.django_db
def test_post_a_package_payment_with_and_without_the_price_confirmed(alice, patient, link):
    with organization_scope(patient.organization_id):
        package = link(sessions=10, total="900.00")
        receivable = receivable_of(book_session(None, patient=patient))
    client = api_client(alice)
    payload = {"method": "package", "patient_package": package.pk, "receivables": [receivable.pk]}
    refused = client.post("/api/v1/payments/", payload, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "price_mismatch"
    assert refused.json()["fields"] == {
        "receivables": [str(receivable.pk)], "prices": ["100.00"], "values": ["90.00"], "average": ["90.00"],
    }  # fmt: skip
    paid = client.post("/api/v1/payments/", {**payload, "confirm_price": True}, format="json")
    assert paid.status_code == 201
    assert (paid.json()["method"], paid.json()["amount"]) == ("package", "90.00")
    assert fresh(package).sessions_used == 1


@pytest.mark.django_db
def test_payment_errors_are_400_with_fields(alice, patient):
    client = api_client(alice)
    response = client.post("/api/v1/payments/", {"method": "cash"}, format="json")
    assert response.status_code == 400
    assert (response.json()["code"], set(response.json()["fields"])) == ("validation_error", {"patient", "amount"})
    response = client.post("/api/v1/payments/", {"method": "package"}, format="json")
    assert set(response.json()["fields"]) == {"patient_package", "receivables"}
    response = client.post(
        "/api/v1/payments/", {"patient": patient.pk, "method": "cash", "amount": "1.001", "receivables": [0]},
        format="json",
    )  # fmt: skip
    assert set(response.json()["fields"]) == {"amount", "receivables"}


@pytest.mark.django_db
def test_refund_through_the_api(alice, patient):
    with organization_scope(patient.organization_id):
        receivable = receivable_of(book_session(None, patient=patient))
        payment = take(patient, "100.00", [receivable])
    client = api_client(alice)
    response = client.post(f"/api/v1/payments/{payment.pk}/refund/", {"receivables": [receivable.pk]}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["state"], response.json()["refunded"]) == ("refunded", "100.00")
    again = client.post(f"/api/v1/payments/{payment.pk}/refund/", {"amount": "1.00"}, format="json")
    assert (again.status_code, again.json()["code"]) == (400, "nothing_to_refund")


@pytest.mark.django_db
def test_the_receipt_is_a_pdf(alice, patient):
    with organization_scope(patient.organization_id):
        receivable = receivable_of(book_session(None, patient=patient))
        payment = take(patient, "100.00", [receivable])
    response = api_client(alice).get(f"/api/v1/payments/{payment.pk}/receipt.pdf")
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
    assert response.content.startswith(b"%PDF")


@pytest.mark.django_db
def test_another_organizations_rows_answer_404_and_leak_nothing(alice, patient, beta):
    receivable, payment = beta
    client = api_client(alice)
    for response in (
        client.get(f"/api/v1/receivables/{receivable.pk}/"),
        client.get(f"/api/v1/payments/{payment.pk}/"),
        client.post(f"/api/v1/payments/{payment.pk}/refund/", {"amount": "10.00"}, format="json"),
        client.get(f"/api/v1/payments/{payment.pk}/receipt.pdf"),
    ):
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert client.get("/api/v1/receivables/").json()["results"] == []
    assert client.get("/api/v1/payments/").json()["results"] == []
    # Paying another organization's receivable reads as "not one of this patient's".
    response = client.post(
        "/api/v1/payments/", {"patient": patient.pk, "method": "cash", "amount": "10.00",
                              "receivables": [receivable.pk]}, format="json",
    )  # fmt: skip
    assert (response.status_code, response.json()["fields"]) == (
        400, {"receivables": ["A chosen charge is not one of this patient's."]},
    )  # fmt: skip
    with scopes_disabled():
        assert Payment.objects.filter(organization_id=payment.organization_id).count() == 1
        assert fresh(receivable).paid == D("100.00")
    pages = login(alice)
    for url in (f"/finance/payments/{payment.pk}/", f"/finance/payments/{payment.pk}/receipt.pdf"):
        assert pages.get(url).status_code == 404
    assert pages.get(f"/finance/pay/?receivables={receivable.pk}").status_code == 404


@pytest.mark.django_db
def test_a_receptionist_may_and_a_professional_may_not_take_payments(bob, paula, patient):
    with organization_scope(patient.organization_id):
        receivable = receivable_of(book_session(None, patient=patient))
    payload = {"patient": patient.pk, "method": "cash", "amount": "100.00", "receivables": [receivable.pk]}
    assert api_client(paula).post("/api/v1/payments/", payload, format="json").status_code == 403
    assert api_client(paula).get("/api/v1/receivables/").status_code == 403
    assert login(paula).get("/finance/").status_code == 403
    assert api_client(bob).post("/api/v1/payments/", payload, format="json").status_code == 201


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/receivables/",
        "/api/v1/payments/",
        "/finance/?status=all&start=2000-01-01&end=2100-01-01",
        "/finance/payments/",
    ],
)
def test_lists_do_not_query_more_with_more_rows(alice, patient, link, url):
    def add(count: int) -> None:
        with organization_scope(patient.organization_id):
            for _ in range(count):
                receivable = receivable_of(book_session(None, patient=patient))
                payment = take(patient, "120.00", [receivable])
                from tests.billing.conftest import refund

                refund(payment, amount="10.00")

    client = api_client(alice) if url.startswith("/api/") else login(alice)
    add(1)
    one = _queries(client, url)
    add(12)
    with organization_scope(patient.organization_id):
        link(sessions=2, total="200.00", installments=2)
    assert _queries(client, url) == one
    assert sale_of  # the sale's receivables are listed too


@pytest.mark.django_db
def test_linking_a_package_in_installments_through_the_api(alice, patient):
    response = api_client(alice).post(
        "/api/v1/patient-packages/",
        {"patient": patient.pk, "sessions": 6, "total_price": "600.00", "installments": 4},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["installments"] == 4
    with scopes_disabled():
        from billing.models import Receivable

        amounts = list(
            Receivable.objects.filter(patient_package_id=response.json()["id"])
            .order_by("due_date")
            .values_list("amount", flat=True)
        )
    assert amounts == [D("150.00")] * 4
    bad = api_client(alice).post(
        "/api/v1/patient-packages/", {"patient": patient.pk, "sessions": 6, "total_price": "600.00",
                                      "installments": 13}, format="json",
    )  # fmt: skip
    assert (bad.status_code, list(bad.json()["fields"])) == (400, ["installments"])


@pytest.mark.django_db
def test_linking_a_package_in_installments_on_the_link_form(bob, patient):
    response = login(bob).post(
        f"/patients/{patient.pk}/packages/link/",
        {"sessions": "3", "total_price": "1000.00", "installments": "3", "paid_at": ""},
    )
    assert response.status_code == 302, response.context["form"].errors
    with scopes_disabled():
        from billing.models import Receivable

        amounts = sorted(Receivable.objects.filter(patient=patient).values_list("amount", flat=True))
    assert amounts == [D("333.33"), D("333.33"), D("333.34")]
