"""The calendar's day view with a column per professional (issue 14): its
column feed (`scheduling:resources`), the events' column, dragging a session
to another professional through the move endpoint, and the toast's Undo."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from clinic.models import Professional
from scheduling.models import Appointment
from tests.factories import ProfessionalFactory, WorkingHoursFactory
from tests.packages.factories import ServiceFactory
from tests.scheduling.conftest import at
from tests.scheduling.test_pages import WEEK, book, client_for

pytestmark = pytest.mark.django_db

DAY = {"start": "2026-12-01T00:00:00-03:00", "end": "2026-12-02T00:00:00-03:00"}


def professional(tenant, name: str, **fields) -> Professional:
    made = ProfessionalFactory(clinic=tenant.central, organization=tenant.organization, name=name, **fields)
    assert isinstance(made, Professional)
    return made


def columns(client, params=DAY) -> list[dict]:
    response = client.get("/calendar/resources/", params)
    assert response.status_code == 200
    return response.json()


def move(client, appointment: Appointment, **data):
    return client.post(f"/calendar/appointments/{appointment.pk}/move/", data)


@pytest.fixture
def ana(tenant_a) -> Professional:
    ana = professional(tenant_a, "Ana Lima")
    # Tuesdays 08:00-12:00 and 13:00-18:00, Thursdays 08:00-12:00.
    for weekday, starts, ends in ((1, 8, 12), (1, 13, 18), (3, 8, 12)):
        WorkingHoursFactory(professional=ana, weekday=weekday, starts_at=dt.time(starts), ends_at=dt.time(ends))
    return ana


# The columns -----------------------------------------------------------------------------------------


def test_columns_are_the_clinics_active_professionals_with_their_hours(bob, tenant_a, tenant_b, ana, therapist):
    professional(tenant_a, "Zeca Inactive", is_active=False)
    professional(tenant_b, "Beatriz Outsider")
    ProfessionalFactory(clinic=tenant_a.branch, organization=tenant_a.organization, name="Branch Only")
    rows = columns(client_for(bob))
    assert rows == [
        {
            "id": str(ana.pk),
            "title": "Ana Lima",
            "extendedProps": {"active": True, "specialty": "Physiotherapist"},
            # FullCalendar counts weekdays from Sunday: Tuesday is 2, Thursday 4.
            "businessHours": [
                {"daysOfWeek": [2, 4], "startTime": "08:00", "endTime": "12:00"},
                {"daysOfWeek": [2], "startTime": "13:00", "endTime": "18:00"},
            ],
        },
        # No working hours on file: nothing greyed.
        {
            "id": str(therapist.pk),
            "title": "Renata Costa",
            "extendedProps": {"active": True, "specialty": "Physiotherapist"},
        },
    ]


def test_columns_add_an_inactive_professional_with_sessions_and_no_professional(
    bob, tenant_a, patient, physio_service, therapist
) -> None:
    gone = professional(tenant_a, "Zeca Inactive")
    book(patient, at(1, 9), physio_service, professional=gone)
    book(patient, at(1, 11), physio_service)  # nobody's yet
    with scopes_disabled():
        Professional.objects.filter(pk=gone.pk).update(is_active=False)
    client = client_for(bob)
    rows = columns(client)
    assert [(row["id"], row["title"], row["extendedProps"]["active"]) for row in rows] == [
        (str(therapist.pk), "Renata Costa", True),
        (str(gone.pk), "Zeca Inactive", False),
        ("none", "No professional", True),
    ]
    # Another day, without their sessions: the clinic's active professionals only.
    other_day = {"start": "2026-12-03T00:00:00-03:00", "end": "2026-12-04T00:00:00-03:00"}
    assert [row["id"] for row in columns(client, other_day)] == [str(therapist.pk)]
    # The professional filter keeps one column.
    assert [row["id"] for row in columns(client, DAY | {"professional": gone.pk})] == [str(gone.pk)]


def test_columns_never_show_another_organizations_professionals(alice, charlie, tenant_b, foreign_patient_b) -> None:
    theirs = professional(tenant_b, "Beatriz Outsider")
    service = ServiceFactory(clinic=tenant_b.central, name="Fisio B", price=Decimal("90.00"))
    book(foreign_patient_b, at(1, 9), service, charlie, professional=theirs)
    client = client_for(alice)
    assert columns(client) == []
    assert columns(client, DAY | {"professional": theirs.pk}) == []
    assert "Beatriz" not in client.get("/calendar/resources/", DAY).content.decode()
    # Their owner sees them (and no "No professional": their session has one).
    assert [row["title"] for row in columns(client_for(charlie))] == ["Beatriz Outsider"]


def test_columns_need_a_range(bob) -> None:
    client = client_for(bob)
    assert client.get("/calendar/resources/").status_code == 400
    assert client.get("/calendar/resources/", {"start": "2026-12-01", "end": "2027-03-01"}).status_code == 400


def test_columns_query_count_does_not_grow(bob, tenant_a, patient, physio_service) -> None:
    first = professional(tenant_a, "Ana Lima")
    WorkingHoursFactory(professional=first, weekday=1)
    book(patient, at(1, 7), physio_service, professional=first)
    client = client_for(bob)
    columns(client)  # the session's first queries (membership, clinic) are cached from here on
    with CaptureQueriesContext(connection) as one:
        assert len(columns(client)) == 1
    for index in range(12):
        other = professional(tenant_a, f"Professional {index:02}")
        WorkingHoursFactory(professional=other, weekday=1)
        WorkingHoursFactory(professional=other, weekday=3)
        book(patient, at(1, 8) + dt.timedelta(minutes=50 * index), physio_service, professional=other)
    book(patient, at(1, 20), physio_service)
    with CaptureQueriesContext(connection) as many:
        assert len(columns(client)) == 14  # 13 professionals and "No professional"
    assert len(many) == len(one)


def test_events_carry_their_professionals_column(bob, patient, physio_service, therapist) -> None:
    with_therapist = book(patient, at(1, 9), physio_service, professional=therapist)
    without = book(patient, at(1, 11), physio_service)
    events = {event["id"]: event for event in client_for(bob).get("/calendar/feed/", WEEK).json()}
    assert events[str(with_therapist.pk)]["resourceId"] == str(therapist.pk)
    assert events[str(without.pk)]["resourceId"] == "none"


def test_the_day_view_by_professional_opens_for_a_clinic_of_several(bob, tenant_a, therapist) -> None:
    client = client_for(bob)

    def config() -> dict:
        html = client.get("/calendar/").content.decode()
        return json.loads(html.split('id="calendar-config" type="application/json">')[1].split("</script>")[0])

    assert config()["byProfessional"] is False
    professional(tenant_a, "Ana Lima")
    assert config()["byProfessional"] is True
    assert config()["resourcesUrl"] == "/calendar/resources/"


# Moving to another professional, and Undo ---------------------------------------------------------------------


def test_dropping_in_another_column_moves_the_session_to_that_professional(
    bob, patient, physio_service, therapist, ana
) -> None:
    appointment = book(patient, at(1, 9), physio_service, professional=therapist)
    client = client_for(bob)
    response = move(client, appointment, start="2026-12-01T10:00:00", end="2026-12-01T10:50:00", professional=ana.pk)
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Moved to Tue Dec 1, 10:00 AM with Ana Lima"
    assert body["professional"] == ana.pk
    assert body["warnings"] == []  # Ana works Tuesday mornings
    assert body["undo"] == {
        "start": "2026-12-01T09:00:00",
        "end": "2026-12-01T09:50:00",
        "professional": str(therapist.pk),
    }
    with scopes_disabled():
        appointment.refresh_from_db()
    assert (appointment.start, appointment.professional_id) == (at(1, 10), ana.pk)

    # Undo sends the previous time and professional back to the same endpoint.
    undone = move(client, appointment, **body["undo"], undo="1")
    assert undone.status_code == 200
    assert undone.json()["message"] == "Moved back to Tue Dec 1, 9:00 AM with Renata Costa."
    assert undone.json()["undo"] is None
    with scopes_disabled():
        appointment.refresh_from_db()
    assert (appointment.start, appointment.end, appointment.professional_id) == (at(1, 9), at(1, 9, 50), therapist.pk)


def test_a_move_outside_the_new_professionals_hours_warns(bob, patient, physio_service, therapist, ana) -> None:
    appointment = book(patient, at(1, 9), physio_service, professional=therapist)
    response = move(client_for(bob), appointment, start="2026-12-01T19:00:00", professional=ana.pk)
    assert response.json()["warnings"] == ["Ana Lima does not work at this time."]


def test_moving_to_no_professional_and_keeping_the_professional(bob, patient, physio_service, therapist) -> None:
    appointment = book(patient, at(1, 9), physio_service, professional=therapist)
    client = client_for(bob)
    # No `professional` sent (a drag in the week view): the same one.
    kept = move(client, appointment, start="2026-12-01T11:00:00")
    assert kept.json()["message"] == "Moved to Tue Dec 1, 11:00 AM with Renata Costa"
    # Dropped in the "No professional" column: sent empty.
    dropped = move(client, appointment, start="2026-12-01T11:00:00", professional="")
    assert dropped.json()["message"] == "Moved to Tue Dec 1, 11:00 AM"
    assert dropped.json()["undo"]["professional"] == str(therapist.pk)
    with scopes_disabled():
        appointment.refresh_from_db()
    assert appointment.professional_id is None


def test_a_resize_says_the_new_times(bob, patient, physio_service, therapist) -> None:
    appointment = book(patient, at(1, 9), physio_service, professional=therapist)
    response = move(client_for(bob), appointment, start="2026-12-01T09:00:00", end="2026-12-01T10:30:00")
    assert response.json()["message"] == "Changed to Tue Dec 1, 9:00 AM–10:30 AM"  # noqa: RUF001


def test_undo_is_refused_when_the_slot_was_taken_meanwhile(bob, patient, physio_service, therapist, ana) -> None:
    appointment = book(patient, at(1, 9), physio_service, professional=therapist)
    client = client_for(bob)
    body = move(client, appointment, start="2026-12-01T10:00:00", professional=ana.pk).json()
    with scopes_disabled():
        other_patient = type(patient).objects.create(
            organization=patient.organization, clinic=patient.clinic, full_name="Otávio Lima"
        )
    book(other_patient, at(1, 9), physio_service, professional=therapist)  # Renata's 09:00 is taken now
    refused = move(client, appointment, **body["undo"], undo="1")
    assert refused.status_code == 409
    assert refused.json()["code"] == "double_booking"
    assert refused.json()["detail"] == "The move was not undone. Already booked then: 12/01/2026 9:00 AM, Otávio Lima."
    with scopes_disabled():
        appointment.refresh_from_db()
    assert (appointment.start, appointment.professional_id) == (at(1, 10), ana.pk)


def test_undo_gives_the_session_back_to_a_professional_deactivated_meanwhile(
    bob, patient, physio_service, therapist, ana
) -> None:
    appointment = book(patient, at(1, 9), physio_service, professional=therapist)
    client = client_for(bob)
    body = move(client, appointment, start="2026-12-01T10:00:00", professional=ana.pk).json()
    with scopes_disabled():
        type(therapist).objects.filter(pk=therapist.pk).update(is_active=False)
    undone = move(client, appointment, **body["undo"], undo="1")
    assert undone.status_code == 200, undone.content
    with scopes_disabled():
        appointment.refresh_from_db()
    assert (appointment.start, appointment.professional_id) == (at(1, 9), therapist.pk)


def test_a_move_to_another_organizations_professional_is_refused(bob, patient, physio_service, therapist, tenant_b):
    appointment = book(patient, at(1, 9), physio_service, professional=therapist)
    theirs = professional(tenant_b, "Beatriz Outsider")
    response = move(client_for(bob), appointment, start="2026-12-01T10:00:00", professional=theirs.pk)
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "professional": ["Select a valid choice. That choice is not one of the available choices."]
    }
    with scopes_disabled():
        appointment.refresh_from_db()
    assert (appointment.start, appointment.professional_id) == (at(1, 9), therapist.pk)
