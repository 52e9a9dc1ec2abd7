from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from packages.patient_packages.models import LedgerEntry, PatientPackage
from tests.conftest import api_client, login
from tests.ledger.conftest import book_session, make_appointment, set_status
from tests.packages.factories import ServiceFactory, make_template


@pytest.fixture
def physio_10(tenant_a):
    physio = ServiceFactory(clinic=tenant_a.central, name="Fisioterapia", price=Decimal("120.00"), is_shared=True)
    return make_template(
        tenant_a.central, [(physio, 10)], name="Pacote 10 sessões de Fisioterapia", price=Decimal("1000.00"),
        is_shared=True,
    )  # fmt: skip


@pytest.mark.django_db
def test_link_from_a_template_copies_its_terms(bob, patient, physio_10) -> None:
    response = api_client(bob).post(
        "/api/v1/patient-packages/",
        {"patient": patient.pk, "template": physio_10.pk, "insurer": "Unimed", "reminder_hours": 24},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in [
        "name", "status", "sessions_total", "sessions_booked", "sessions_used", "sessions_remaining",
        "sessions_available", "amount_total", "amount_open", "price_per_session", "insurer", "reminder_hours",
    ]} == {
        "name": "Pacote 10 sessões de Fisioterapia", "status": "active", "sessions_total": 10, "sessions_booked": 0,
        "sessions_used": 0, "sessions_remaining": 10, "sessions_available": 10, "amount_total": "1000.00",
        "amount_open": "1000.00", "price_per_session": "100.00", "insurer": "Unimed", "reminder_hours": 24,
    }  # fmt: skip
    assert body["terms"]["items"][0]["quantity"] == 10
    # Editing the template later does not change the package (X4).
    with scopes_disabled():
        physio_10.price = Decimal("1500.00")
        physio_10.save()
        assert PatientPackage.objects.get(pk=body["id"]).amount_total == Decimal("1000.00")


@pytest.mark.django_db
def test_link_direct_and_its_errors(bob, patient) -> None:
    client = api_client(bob)
    response = client.post(
        "/api/v1/patient-packages/", {"patient": patient.pk, "sessions": 3, "total_price": "1000.00"}
    )
    assert response.status_code == 201
    assert response.json()["price_per_session"] == "333.33"
    response = client.post("/api/v1/patient-packages/", {"patient": patient.pk, "sessions": 0, "total_price": "100.00"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"sessions": ["The number of sessions must be at least 1."]}
    response = client.post("/api/v1/patient-packages/", {"patient": patient.pk})
    assert response.json()["fields"] == {
        "template": ["Give a template, or the number of sessions and the total price."]
    }


@pytest.mark.django_db
def test_debit_and_credit_actions_and_history(bob, patient, link) -> None:
    package = link(4, "1000.00")
    session = make_appointment(patient)
    client = api_client(bob)
    url = f"/api/v1/patient-packages/{package.pk}"
    body = client.post(f"{url}/debit/", {"appointment": session.pk}).json()
    assert (body["sessions_used"], body["amount_open"]) == (1, "750.00")
    body = client.post(f"{url}/debit/", {"appointment": session.pk}).json()  # idempotent
    assert (body["sessions_used"], body["amount_open"]) == (1, "750.00")
    body = client.post(f"{url}/credit/", {"appointment": session.pk}).json()
    assert (body["sessions_used"], body["sessions_booked"], body["amount_open"]) == (0, 1, "1000.00")
    history = client.get(f"{url}/history/").json()["results"]
    assert [(h["kind"], h["sessions_balance"], h["amount_balance"], h["average_price"]) for h in history] == [
        ("created", 4, "1000.00", "250.00"),
        ("debit", 3, "750.00", "250.00"),
        ("credit", 4, "1000.00", "250.00"),
    ]
    assert history[1]["appointment"] == session.pk
    assert history[1]["note"].startswith("Debited by session ")
    # The debit went through the owner of the appointment's session: the
    # appointment is now the package's, and a status change agrees with it.
    session.refresh_from_db()
    assert (session.patient_package_id, session.paid_from_package) == (package.pk, False)
    set_status(session, "attended")
    set_status(session, "scheduled")
    body = client.get(f"{url}/").json()
    assert (body["sessions_used"], body["sessions_booked"], body["amount_open"]) == (0, 1, "1000.00")
    client.post(f"{url}/debit/", {"appointment": session.pk})
    set_status(session, "confirmed")  # paid from the package: stays debited whatever the status
    body = client.get(f"{url}/").json()
    assert (body["sessions_used"], body["sessions_booked"], body["amount_open"]) == (1, 0, "750.00")


@pytest.mark.django_db
def test_credit_of_an_attended_session_is_refused_and_a_cancelled_one_cannot_be_debited(bob, patient, link) -> None:
    package = link(4, "1000.00")
    client = api_client(bob)
    url = f"/api/v1/patient-packages/{package.pk}"
    attended = book_session(package, status="attended")
    response = client.post(f"{url}/credit/", {"appointment": attended.pk})
    assert (response.status_code, response.json()["code"]) == (400, "session_attended")
    cancelled = set_status(book_session(package), "cancelled")
    response = client.post(f"{url}/debit/", {"appointment": cancelled.pk})
    assert (response.status_code, response.json()["code"]) == (400, "invalid_transition")
    body = client.get(f"{url}/").json()
    assert (body["sessions_used"], body["sessions_booked"]) == (1, 0)
    with organization_scope(patient.organization_id):
        from scheduling.package_sessions import sessions_reconcile

        assert ledger.package_reconcile(package).differences == {}
        assert sessions_reconcile(package).differences == {}


@pytest.mark.django_db
def test_exhausted_and_inactive_answer_with_their_codes(bob, alice, patient, link) -> None:
    package = link(1, "90.00")
    client = api_client(bob)
    url = f"/api/v1/patient-packages/{package.pk}"
    assert client.post(f"{url}/debit/", {"appointment": make_appointment(patient).pk}).status_code == 200
    response = client.post(f"{url}/debit/", {"appointment": make_appointment(patient).pk})
    assert (response.status_code, response.json()["code"]) == (400, "package_inactive")
    other = link(1, "90.00")
    book_session(other)
    response = client.post(f"/api/v1/patient-packages/{other.pk}/debit/", {"appointment": make_appointment(patient).pk})
    assert (response.status_code, response.json()["code"]) == (400, "package_exhausted")


@pytest.mark.django_db
def test_manual_change_needs_the_permission(bob, alice, link) -> None:
    package = link(4, "1000.00")
    assert api_client(bob).patch(f"/api/v1/patient-packages/{package.pk}/", {"sessions_total": 6}).status_code == 403
    response = api_client(alice).patch(f"/api/v1/patient-packages/{package.pk}/", {"sessions_total": 6})
    assert (response.status_code, response.json()["sessions_total"]) == (200, 6)
    response = api_client(alice).patch(f"/api/v1/patient-packages/{package.pk}/", {"status": "inactive"})
    assert response.json()["status"] == "inactive"
    note = api_client(alice).get(f"/api/v1/patient-packages/{package.pk}/history/").json()["results"][-1]["note"]
    assert note == "Package changed: status: active \N{RIGHTWARDS ARROW} inactive"


@pytest.mark.django_db
def test_delete_refused_after_a_debit(alice, patient, link) -> None:
    package = link(4)
    book_session(package, status="attended")
    response = api_client(alice).delete(f"/api/v1/patient-packages/{package.pk}/")
    assert (response.status_code, response.json()["code"]) == (400, "package_debited")
    fresh = link(2)
    assert api_client(alice).delete(f"/api/v1/patient-packages/{fresh.pk}/").status_code == 204
    assert api_client(alice).get(f"/api/v1/patient-packages/{fresh.pk}/").status_code == 404


@pytest.mark.django_db
def test_another_organizations_package_and_appointment_are_invisible(
    alice, charlie, patient, foreign_patient_b, link
) -> None:
    foreign = link(3, "300.00", patient=foreign_patient_b)
    client = api_client(alice)
    for method, path in [
        ("get", f"/api/v1/patient-packages/{foreign.pk}/"),
        ("get", f"/api/v1/patient-packages/{foreign.pk}/history/"),
        ("patch", f"/api/v1/patient-packages/{foreign.pk}/"),
        ("delete", f"/api/v1/patient-packages/{foreign.pk}/"),
        ("post", f"/api/v1/patient-packages/{foreign.pk}/debit/"),
        ("post", f"/api/v1/patient-packages/{foreign.pk}/credit/"),
        ("post", f"/api/v1/patient-packages/{foreign.pk}/renew/"),
    ]:
        response = getattr(client, method)(path, {})
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
    assert client.get("/api/v1/patient-packages/").json()["count"] == 0
    # A foreign patient or appointment id in a request body reads as missing.
    response = client.post(
        "/api/v1/patient-packages/", {"patient": foreign_patient_b.pk, "sessions": 1, "total_price": "1"}
    )
    assert response.json()["fields"]["patient"] == [f'Invalid pk "{foreign_patient_b.pk}" - object does not exist.']
    own = link(2)
    foreign_session = make_appointment(foreign_patient_b)
    response = client.post(f"/api/v1/patient-packages/{own.pk}/debit/", {"appointment": foreign_session.pk})
    assert response.status_code == 400
    with scopes_disabled():
        assert LedgerEntry.objects.filter(package=foreign).count() == 1


def _count(client, path: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(path).status_code == 200
    return len(context.captured_queries)


@pytest.mark.django_db
def test_list_and_history_query_counts_do_not_grow(alice, patient, link) -> None:
    client = api_client(alice)
    package = link(30, "3000.00")
    one = (
        _count(client, "/api/v1/patient-packages/"),
        _count(client, f"/api/v1/patient-packages/{package.pk}/history/"),
    )
    for _ in range(20):
        link(2, "100.00")
    for _ in range(20):
        book_session(package, status="attended")
    many = (
        _count(client, "/api/v1/patient-packages/"),
        _count(client, f"/api/v1/patient-packages/{package.pk}/history/"),
    )
    assert many == one


def _book(package, start, service, actor):
    from scheduling import services as scheduling

    with organization_scope(package.organization_id):
        return scheduling.appointment_book(
            clinic=package.clinic, patient=package.patient, start=start, actor=actor,
            lines=[scheduling.LineInput(service)], patient_package=package,
        ).appointment  # fmt: skip


@pytest.mark.django_db
def test_each_package_says_how_much_of_its_budget_is_used(alice, tenant_a, patient, link) -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    pilates = ServiceFactory(clinic=tenant_a.central, name="Pilates", price=Decimal("60.00"))
    plan = make_template(
        tenant_a.central, [(pilates, 8)], name="Pilates mensal", price=Decimal("480.00"), renewal="monthly",
        max_appointments=4, max_amount=Decimal("600.00"),
    )  # fmt: skip
    tz = ZoneInfo(patient.clinic.time_zone)
    first_day = timezone.localdate(timezone=tz).replace(day=1)
    with organization_scope(patient.organization_id):
        monthly = ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=plan)
    direct = link(5, "500.00")
    for day, hour in ((1, 9), (2, 9), (40, 9)):  # two this month, one next month
        _book(monthly, dt.datetime.combine(first_day + dt.timedelta(days=day), dt.time(hour), tz), pilates, alice)
    client = api_client(alice)
    listed = {row["id"]: row["budget"] for row in client.get("/api/v1/patient-packages/").json()["results"]}
    assert listed[direct.pk] is None  # no limits
    assert listed[monthly.pk] == {
        "per": "month",
        "tightest_percent": "50.0",
        "level": "ok",
        # 8 sessions, 3 booked: 5 left, but this month's limit lets only 2 more be booked.
        "limiting": {"kind": "appointments", "service": None},
        "limits": [
            {"kind": "appointments", "service": None, "limit": "4", "used": "0", "booked": "2", "remaining": "2",
             "percent_used": "0.0", "percent_booked": "50.0", "level": "ok"},
            {"kind": "amount", "service": None, "limit": "600.00", "used": "0.00", "booked": "120.00",
             "remaining": "480.00", "percent_used": "0.0", "percent_booked": "20.0", "level": "ok"},
        ],
    }  # fmt: skip
    detail = client.get(f"/api/v1/patient-packages/{monthly.pk}/").json()
    assert detail["budget"] == listed[monthly.pk]
    assert (detail["sessions_remaining"], detail["sessions_booked"], detail["sessions_available"]) == (8, 3, 2)


@pytest.mark.django_db
def test_list_query_counts_do_not_grow_with_budgeted_packages(alice, tenant_a, patient) -> None:
    import datetime as dt

    from django.utils import timezone

    pilates = ServiceFactory(clinic=tenant_a.central, name="Pilates", price=Decimal("60.00"))
    plan = make_template(tenant_a.central, [(pilates, 8)], name="Orçamento", max_appointments=8)
    api, browser = api_client(alice), login(alice)
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)
    counts = []
    for packages in (1, 12):
        for _ in range(packages - (1 if counts else 0)):
            with organization_scope(patient.organization_id):
                package = ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=plan)
            for _ in range(2):
                _book(package, start, pilates, alice)
                start += dt.timedelta(hours=1)
        counts.append((_count(api, "/api/v1/patient-packages/"), _count(browser, f"/patients/{patient.pk}/packages/")))
    assert counts[0] == counts[1]
