"""Marking a session attended (or any debiting status) ahead of time asks
first (issue 14): the entry points refuse it with `future_session` unless
`confirm_future` is sent, so the calendar's modal, the booking modal and the
API agree; a session about to start is attended without a question."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from clinic.tenancy import organization_scope
from scheduling import services
from scheduling.models import Appointment, AppointmentStatus
from tests.conftest import api_client
from tests.scheduling.conftest import SP, at
from tests.scheduling.test_pages import book, booking_data, client_for

pytestmark = pytest.mark.django_db


def days_ahead(days: int, hour: int = 10) -> dt.datetime:
    """`hour` o'clock in São Paulo, `days` calendar days from today there."""
    today = timezone.now().astimezone(SP).date()
    return dt.datetime.combine(today + dt.timedelta(days=days), dt.time(hour), tzinfo=SP)


def in_english(moment: dt.datetime) -> str:
    local = moment.astimezone(SP)
    return f"{local:%a} {local:%b} {local.day}"  # SESSION_DAY_FORMAT in English: "Fri Dec 4"


def attended() -> AppointmentStatus:
    return services.status_for_code("attended")


# The rule and its question -------------------------------------------------------------------------------


def test_the_question_says_when_the_session_is(tenant_a) -> None:
    now = at(2, 15, 13)  # Wednesday 2 December, 15:13

    def question(start: dt.datetime) -> str:
        return services.future_session(start=start, status=attended(), clinic=tenant_a.central, now=now).detail

    assert question(at(4, 10)) == "This session is on Fri Dec 4 at 10:00 AM, in 2 days. Mark it “Attended” anyway?"
    assert question(at(3, 8, 30)) == "This session is on Thu Dec 3 at 8:30 AM, tomorrow. Mark it “Attended” anyway?"
    assert question(at(2, 18, 30)) == "This session is on Wed Dec 2 at 6:30 PM, in 3 hours. Mark it “Attended” anyway?"
    assert question(at(2, 15, 55)) == (
        "This session is on Wed Dec 2 at 3:55 PM, in 42 minutes. Mark it “Attended” anyway?"
    )


def test_only_an_unconfirmed_debit_well_ahead_is_refused() -> None:
    now = at(2, 15)
    confirmed = services.status_for_code("confirmed")
    assert services.is_future_debit(start=at(2, 16), status=attended(), confirm_future=False, now=now)
    # A patient who arrives early: within the grace, no question.
    assert not services.is_future_debit(start=at(2, 15, 30), status=attended(), confirm_future=False, now=now)
    assert not services.is_future_debit(start=at(1, 9), status=attended(), confirm_future=False, now=now)
    assert not services.is_future_debit(start=at(4, 10), status=attended(), confirm_future=True, now=now)
    # Confirming a session ahead debits nothing: no question.
    assert not services.is_future_debit(start=at(4, 10), status=confirmed, confirm_future=False, now=now)


# The calendar's status buttons ------------------------------------------------------------------------------


def test_the_status_button_asks_before_marking_a_session_ahead_attended(bob, patient, physio_service, link) -> None:
    package = link(4, "480.00")
    start = days_ahead(2)
    appointment = book(patient, start, physio_service, patient_package=package)
    client = client_for(bob)
    url = f"/calendar/appointments/{appointment.pk}/status/"
    asked = client.post(url, {"status": "attended"})
    assert asked.status_code == 200
    assert "HX-Trigger" not in asked.headers  # nothing changed: the calendar does not refetch
    html = asked.content.decode()
    question = f"This session is on {in_english(start)} at 10:00 AM, in 2 days. Mark it “Attended” anyway?"
    assert f'<p class="mb-2" data-testid="status-confirm-question">{question}</p>' in html
    assert '<input type="hidden" name="confirm_future" value="1">' in html
    assert "Yes, mark it “Attended”" in html
    assert 'data-testid="current-status" data-status="scheduled"' in html
    package.refresh_from_db()
    assert (package.sessions_booked, package.sessions_used) == (1, 0)

    confirmed = client.post(url, {"status": "attended", "confirm_future": "1"})
    assert "calendarChanged" in confirmed.headers["HX-Trigger"]
    assert 'data-testid="current-status" data-status="attended"' in confirmed.content.decode()
    package.refresh_from_db()
    assert (package.sessions_booked, package.sessions_used) == (0, 1)


def test_a_session_about_to_start_is_attended_without_a_question(bob, patient, physio_service) -> None:
    appointment = book(patient, timezone.now() + dt.timedelta(minutes=10), physio_service)
    response = client_for(bob).post(f"/calendar/appointments/{appointment.pk}/status/", {"status": "attended"})
    assert "calendarChanged" in response.headers["HX-Trigger"]
    assert 'data-testid="status-confirm"' not in response.content.decode()
    with scopes_disabled():
        assert Appointment.objects.get(pk=appointment.pk).status == "attended"


def test_a_custom_debiting_status_asks_too(bob, patient, physio_service, tenant_a) -> None:
    with organization_scope(tenant_a.organization):
        services.appointment_status_save(
            organization=tenant_a.organization, code="charged_absence", name="Falta cobrada", debits=True
        )
    appointment = book(patient, days_ahead(3), physio_service)
    html = client_for(bob).post(f"/calendar/appointments/{appointment.pk}/status/", {"status": "charged_absence"})
    assert "in 3 days. Mark it “Falta cobrada” anyway?" in html.content.decode()


# The booking modal ---------------------------------------------------------------------------------------


def test_booking_as_attended_ahead_asks_then_books(bob, patient, physio_service) -> None:
    start = days_ahead(2, hour=9)
    data = booking_data(patient, physio_service, start=start.strftime("%Y-%m-%dT%H:%M"), status="attended")
    client = client_for(bob)
    asked = client.post("/calendar/book/", data)
    assert "HX-Trigger" not in asked.headers
    html = asked.content.decode()
    assert f"This session is on {in_english(start)} at 9:00 AM, in 2 days. Mark it “Attended” anyway?" in html
    assert 'name="confirm_future" value="1"' in html
    with scopes_disabled():
        assert not Appointment.objects.exists()
    booked = client.post("/calendar/book/", data | {"confirm_future": "1"})
    assert "appointmentSaved" in booked.headers["HX-Trigger"]
    with scopes_disabled():
        assert Appointment.objects.get().status == "attended"


# The API agrees ----------------------------------------------------------------------------------------------


def test_the_api_refuses_unless_confirm_future_is_sent(bob, patient, physio_service, link) -> None:
    package = link(4, "480.00")
    start = days_ahead(2)
    appointment = book(patient, start, physio_service, patient_package=package)
    client = api_client(bob)
    url = f"/api/v1/appointments/{appointment.pk}/"
    refused = client.patch(url, {"status": "attended"}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {
        "code": "future_session",
        "detail": f"This session is on {in_english(start)} at 10:00 AM, in 2 days. Mark it “Attended” anyway?",
        "fields": {"confirm_future": ["The session has not started yet: confirm to mark it anyway."]},
    }
    package.refresh_from_db()
    assert (package.sessions_booked, package.sessions_used) == (1, 0)
    # Moved there and marked in one PATCH: the new start is the one asked about.
    moved = client.patch(url, {"start": days_ahead(5).isoformat(), "status": "attended"}, format="json")
    assert (moved.status_code, moved.json()["code"]) == (400, "future_session")
    assert "in 5 days" in moved.json()["detail"]
    with scopes_disabled():
        assert Appointment.objects.get(pk=appointment.pk).start == start  # all or nothing
    confirmed = client.patch(url, {"status": "attended", "confirm_future": True}, format="json")
    assert (confirmed.status_code, confirmed.json()["status"]) == (200, "attended")
    package.refresh_from_db()
    assert (package.sessions_booked, package.sessions_used) == (0, 1)


def test_the_api_books_as_attended_ahead_only_when_confirmed(bob, patient, physio_service) -> None:
    client = api_client(bob)
    payload = {
        "patient": patient.pk, "start": days_ahead(2).isoformat(), "status": "attended",
        "services": [{"service": physio_service.pk, "quantity": 1, "price": str(Decimal("120.00"))}],
    }  # fmt: skip
    refused = client.post("/api/v1/appointments/", payload, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "future_session")
    booked = client.post("/api/v1/appointments/", payload | {"confirm_future": True}, format="json")
    assert (booked.status_code, booked.json()["status"]) == (201, "attended")


def test_the_schema_documents_the_flag(bob) -> None:
    schema = api_client(bob).get("/api/v1/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    # On the booking and on the change of an appointment, with what a refusal looks like.
    assert text.count("confirm_future:") == 2
    assert 'code "future_session"' in text
