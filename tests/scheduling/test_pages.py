"""The calendar pages (issue #6): the page, its JSON feed, the booking and edit
modal, the budget bars, status buttons, moves, evolution notes, the statuses
settings page, and 404 for another organization's ids everywhere."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from packages.patient_packages.models import PatientPackage
from scheduling import services
from scheduling.models import Appointment, AppointmentLine, AppointmentStatus, EvolutionNote
from tests.conftest import login
from tests.factories import ProfessionalFactory
from tests.packages.factories import ServiceFactory, make_template
from tests.scheduling.conftest import at

D = Decimal
pytestmark = pytest.mark.django_db

WEEK = {"start": "2026-11-30T00:00:00", "end": "2026-12-07T00:00:00"}


def client_for(user) -> Client:
    client = login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def book(patient, start, service, actor=None, **kwargs) -> Appointment:
    with organization_scope(patient.organization_id):
        return services.appointment_book(
            clinic=patient.clinic, patient=patient, start=start, lines=[services.LineInput(service)], actor=actor,
            **kwargs,
        ).appointment  # fmt: skip


def booking_data(patient, service, start: str = "2026-12-01T09:00", **extra) -> dict:
    data = {
        "patient": patient.pk,
        "status": "scheduled",
        "professional": "",
        "room": "",
        "start": start,
        "end": "",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "20",
        "lines-0-service": service.pk,
        "lines-0-quantity": "1",
        "lines-0-price": "",
        "patient_package": "",
        "authorization": "",
        "notes": "",
        "interval": "1",
    }
    data.update({key: "" if value is None else value for key, value in extra.items()})
    return data


def saved_event(response) -> dict:
    return json.loads(response.headers["HX-Trigger"])["appointmentSaved"]


@pytest.fixture
def foreign_appointment(tenant_b, foreign_patient_b, charlie) -> Appointment:
    service = ServiceFactory(clinic=tenant_b.central, name="Fisio B", price=D("90.00"))
    return book(foreign_patient_b, at(1, 9), service, charlie)


# The page and the feed ----------------------------------------------------------------


def test_calendar_page_renders_with_filters_and_legend(bob, therapist, room_1, tenant_a) -> None:
    ProfessionalFactory(clinic=tenant_a.branch, organization=tenant_a.organization, name="Branch Only")
    response = client_for(bob).get("/calendar/?date=2026-12-01")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{therapist.pk}">Renata Costa</option>' in html
    assert f'<option value="{room_1.pk}">Sala 1</option>' in html
    assert "Branch Only" not in html
    # FullCalendar Scheduler's bundle, the Luxon time-zone plugin, the locales and their corrections, from npm.
    for script in (
        "vendor/fullcalendar-scheduler/index.global.min.js",
        "vendor/luxon/luxon.min.js",
        "vendor/fullcalendar-luxon3/index.global.min.js",
        "vendor/fullcalendar-core/locales-all.global.min.js",
        "js/calendar_locales.js",
    ):
        assert f'<script src="/static/{script}"></script>' in html
    config = json.loads(html.split('id="calendar-config" type="application/json">')[1].split("</script>")[0])
    assert config["timeZone"] == "America/Sao_Paulo"
    assert config["byProfessional"] is False  # one professional: the week view opens
    assert config["locale"] == "en"
    assert config["initialDate"] == "2026-12-01"
    assert config["canBook"] is True
    for code in ("scheduled", "confirmed", "attended", "missed", "justified_absence", "cancelled"):
        assert f'data-status="{code}"' in html


def test_calendar_locale_follows_the_language(bob) -> None:
    client = login(bob)
    for language, expected in (("pt-br", "pt-br"), ("es", "es"), ("de", "de")):
        response = client.get("/calendar/", HTTP_ACCEPT_LANGUAGE=language)
        assert f'"locale": "{expected}"' in response.content.decode()


def test_feed_returns_the_clinics_appointments_only(
    bob, patient, physio_service, therapist, room_1, tenant_a, foreign_appointment
) -> None:
    mine = book(patient, at(1, 9), physio_service, professional=therapist, room=room_1)
    branch_service = ServiceFactory(clinic=tenant_a.branch, name="Branch service")
    with scopes_disabled():
        patient_branch = type(patient).objects.create(
            organization=tenant_a.organization, clinic=tenant_a.branch, full_name="Branch Patient"
        )
    book(patient_branch, at(1, 9), branch_service)
    response = client_for(bob).get("/calendar/feed/", WEEK)
    assert response.status_code == 200
    events = response.json()
    assert [event["id"] for event in events] == [str(mine.pk)]
    event = events[0]
    assert event["title"] == "Maria Ledger · Fisioterapia"
    assert event["start"] == "2026-12-01T09:00:00-03:00"
    assert event["end"] == "2026-12-01T09:50:00-03:00"
    assert event["backgroundColor"] == "#0d6efd"
    assert event["editable"] is True
    assert event["extendedProps"]["professional"] == "Renata Costa"
    assert event["extendedProps"]["room"] == "Sala 1"
    assert "Bruno Outsider" not in response.content.decode()


def test_feed_filters_by_professional_and_room(bob, patient, physio_service, therapist, room_1, tenant_a) -> None:
    other = ProfessionalFactory(clinic=tenant_a.central, organization=tenant_a.organization, name="Other")
    with_therapist = book(patient, at(1, 9), physio_service, professional=therapist)
    with_room = book(patient, at(1, 11), physio_service, professional=other, room=room_1)
    client = client_for(bob)
    by_professional = client.get("/calendar/feed/", WEEK | {"professional": therapist.pk}).json()
    assert [e["id"] for e in by_professional] == [str(with_therapist.pk)]
    by_room = client.get("/calendar/feed/", WEEK | {"room": room_1.pk}).json()
    assert [e["id"] for e in by_room] == [str(with_room.pk)]
    assert client.get("/calendar/feed/", {"start": "nonsense"}).status_code == 400


def test_feed_query_count_is_constant(bob, patient, physio_service, therapist) -> None:
    book(patient, at(1, 7), physio_service, professional=therapist)
    client = client_for(bob)
    client.get("/calendar/feed/", WEEK)  # built-in statuses exist from here on
    with CaptureQueriesContext(connection) as one:
        assert len(client.get("/calendar/feed/", WEEK).json()) == 1
    with scopes_disabled():
        appointments = Appointment.objects.bulk_create(
            [
                Appointment(
                    organization_id=patient.organization_id, clinic=patient.clinic, patient=patient,
                    professional=therapist, start=at(2, 7) + dt.timedelta(minutes=5 * i),
                    end=at(2, 7) + dt.timedelta(minutes=5 * i + 4),
                )
                for i in range(199)
            ]
        )  # fmt: skip
        AppointmentLine.objects.bulk_create(
            [
                AppointmentLine(organization_id=patient.organization_id, appointment=a, service=physio_service,
                                price=D("120.00"))
                for a in appointments
            ]
        )  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/calendar/feed/", WEEK).json()) == 200
    assert len(many) == len(one)


# Booking through the modal ----------------------------------------------------------------


def test_booking_modal_prefills_the_slot(bob, patient, physio_service, therapist) -> None:
    response = client_for(bob).get(
        "/calendar/book/", {"start": "2026-12-01T09:00:00", "end": "2026-12-01T09:30:00", "professional": therapist.pk}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="2026-12-01T09:00"' in html
    assert f'<option value="{therapist.pk}" selected>' in html
    assert 'data-price="120.00"' in html
    # The patient is picked by searching: no select of every patient.
    assert 'data-testid="patient-search"' in html
    assert f'<option value="{patient.pk}">' not in html
    assert 'data-testid="patient-chosen"' in html
    assert "Maria Ledger" not in html


def test_booking_through_the_modal_books_and_warns(bob, patient, physio_service, therapist) -> None:
    data = booking_data(patient, physio_service, professional=therapist.pk)
    response = client_for(bob).post("/calendar/book/", data)
    assert response.status_code == 200
    assert response.headers["HX-Reswap"] == "none"
    event = saved_event(response)
    assert event["warnings"] == ["Renata Costa does not work at this time."]
    with scopes_disabled():
        appointment = Appointment.objects.get()
        assert (appointment.start, appointment.end) == (at(1, 9), at(1, 9, 50))
        assert [(line.service_id, line.quantity, line.price) for line in appointment.lines.all()] == [
            (physio_service.pk, 1, D("120.00"))
        ]
        assert appointment.created_by == bob


def test_booking_shows_a_missing_patient_and_the_double_booking_on_one_submit(
    bob, patient, physio_service, therapist
) -> None:
    book(patient, at(1, 9), physio_service, professional=therapist)
    data = booking_data(patient, physio_service, start="2026-12-01T09:30", professional=therapist.pk)
    data["patient"] = ""
    response = client_for(bob).post("/calendar/book/", data)
    form = response.context["form"]
    assert "patient" in form.errors
    assert "Already booked then: 12/01/2026 9:00 AM, Maria Ledger." in form.non_field_errors()
    with scopes_disabled():
        assert Appointment.objects.count() == 1


def test_booking_links_the_chosen_package(bob, patient, physio_service, link) -> None:
    package = link(4, "480.00")
    response = client_for(bob).post(
        "/calendar/book/", booking_data(patient, physio_service, patient_package=package.pk)
    )
    assert "appointmentSaved" in response.headers["HX-Trigger"]
    package.refresh_from_db()
    assert package.sessions_booked == 1


def test_booking_shows_the_double_booking(bob, patient, physio_service, therapist) -> None:
    first = book(patient, at(1, 9), physio_service, professional=therapist)
    data = booking_data(patient, physio_service, start="2026-12-01T09:30", professional=therapist.pk)
    response = client_for(bob).post("/calendar/book/", data)
    assert response.status_code == 200
    assert "HX-Trigger" not in response.headers
    html = response.content.decode()
    assert 'data-testid="form-errors"' in html
    assert "Already booked then: 12/01/2026 9:00 AM, Maria Ledger." in html
    assert f"appointment {first.pk}" not in html  # people read names and times, not ids
    with scopes_disabled():
        assert Appointment.objects.count() == 1


def test_booking_shows_the_budget_error(bob, patient, physio_service, alice, tenant_a) -> None:
    template = make_template(tenant_a.central, [(physio_service, 10)], name="Convênio", max_amount=D("150.00"))
    with organization_scope(tenant_a.organization):
        package = ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=template)
    book(patient, at(1, 8), physio_service, patient_package=package)
    response = client_for(bob).post(
        "/calendar/book/", booking_data(patient, physio_service, patient_package=package.pk)
    )
    html = response.content.decode()
    assert 'data-testid="form-errors"' in html
    assert "Budget limit" in html
    with scopes_disabled():
        assert Appointment.objects.count() == 1


def test_booking_needs_a_service(bob, patient, physio_service) -> None:
    data = booking_data(patient, physio_service)
    data["lines-0-service"] = ""
    response = client_for(bob).post("/calendar/book/", data)
    assert "HX-Trigger" not in response.headers
    assert "This field is required." in response.content.decode()


def test_series_shows_conflicts_then_books_the_others(bob, patient, physio_service, therapist) -> None:
    taken = book(patient, at(8, 9), physio_service, professional=therapist)
    data = booking_data(patient, physio_service, professional=therapist.pk, repeat="on", count="3")
    client = client_for(bob)
    preview = client.post("/calendar/book/", data)
    html = preview.content.decode()
    assert 'data-testid="series-preview" data-conflicts="1"' in html
    assert html.count('data-testid="series-date"') == 2
    assert "taken: Maria Ledger" in html
    with scopes_disabled():
        assert Appointment.objects.count() == 1
    response = client.post("/calendar/book/", data | {"confirm_series": "1", "skip_conflicts": "1"})
    assert saved_event(response)["message"] == "2 sessions booked for Maria Ledger."
    with scopes_disabled():
        starts = sorted(Appointment.objects.exclude(pk=taken.pk).values_list("start", flat=True))
    assert starts == [at(1, 9), at(15, 9)]


# The live budget bar (S3) ---------------------------------------------------------------------


@pytest.fixture
def budget_of_100(patient, physio_service, alice, tenant_a) -> PatientPackage:
    template = make_template(tenant_a.central, [(physio_service, 10)], name="Orçamento 100", max_amount=D("100.00"))
    with organization_scope(tenant_a.organization):
        return ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=template)


@pytest.mark.parametrize(
    ("price", "level", "percent"),
    [("74.00", "ok", "74.0"), ("75.00", "warning", "75.0"), ("99.00", "warning", "99.0"), ("100.00", "full", "100.0")],
)
def test_budget_bar_colour_thresholds(bob, patient, physio_service, budget_of_100, price, level, percent) -> None:
    # An attended session took `price` of the 100.00 budget: the colour says how much is used.
    with organization_scope(patient.organization_id):
        services.appointment_book(
            clinic=patient.clinic, patient=patient, start=at(1, 8), actor=bob, patient_package=budget_of_100,
            lines=[services.LineInput(physio_service, 1, D(price))], status="attended",
        )  # fmt: skip
    data = booking_data(patient, physio_service, patient_package=budget_of_100.pk)
    data["lines-0-price"] = "0.00"
    response = client_for(bob).get("/calendar/book/packages/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="budget-bar"') == 1
    assert f'data-level="{level}"' in html
    assert f'aria-valuenow="{percent}"' in html
    assert f'id="package-{budget_of_100.pk}" value="{budget_of_100.pk}" checked' in html


def test_the_first_package_the_booking_fits_is_chosen(bob, patient, physio_service, budget_of_100, link) -> None:
    with organization_scope(patient.organization_id):
        services.appointment_book(
            clinic=patient.clinic, patient=patient, start=at(1, 8), actor=bob, patient_package=budget_of_100,
            lines=[services.LineInput(physio_service, 1, D("80.00"))], status="attended",
        )  # fmt: skip
    data = booking_data(patient, physio_service)  # 120.00: past the 20.00 left of the budget
    del data["patient_package"]
    client = client_for(bob)
    # Alone, the used-up budget (20.00 left, a session costs 120.00) is listed and
    # marked, its bar saying why, but not chosen: "skip" is (issue 14).
    html = client.get("/calendar/book/packages/", data).content.decode()
    assert f'id="package-{budget_of_100.pk}" value="{budget_of_100.pk}" aria-describedby=' in html
    assert 'id="package-skip" value="" checked' in html
    assert 'data-testid="package-no-free">no sessions free to book<' in html
    assert 'data-testid="budget-exceeded"' in html
    # With another package the booking fits, that one is chosen; the used-up one is still listed.
    other = link(5, "500.00")
    html = client.get("/calendar/book/packages/", data).content.decode()
    assert f'id="package-{other.pk}" value="{other.pk}" checked' in html
    assert f'id="package-{budget_of_100.pk}" value="{budget_of_100.pk}" aria-describedby=' in html


def test_budget_bar_counts_an_edited_appointment_once(bob, patient, physio_service, budget_of_100) -> None:
    with organization_scope(patient.organization_id):
        appointment = services.appointment_book(
            clinic=patient.clinic, patient=patient, start=at(1, 9), actor=bob, patient_package=budget_of_100,
            lines=[services.LineInput(physio_service, 1, D("60.00"))],
        ).appointment  # fmt: skip
    data = booking_data(patient, physio_service, patient_package=budget_of_100.pk)
    data["lines-0-price"] = "80.00"
    data["appointment"] = appointment.pk
    html = client_for(bob).get("/calendar/book/packages/", data).content.decode()
    assert 'aria-valuenow="80.0"' in html  # 80.00, not 60.00 + 80.00
    assert 'style="width: 80.0%" data-testid="budget-booked"' in html


def test_a_monthly_plan_s_bar_counts_the_month_of_the_start_typed(bob, patient, physio_service, alice, tenant_a):
    template = make_template(
        tenant_a.central, [(physio_service, 8)], name="Plano mensal", renewal="monthly", max_appointments=2
    )
    with organization_scope(tenant_a.organization):
        plan = ledger.package_link(patient=patient, clinic=patient.clinic, actor=alice, template=template)
        services.appointment_book(
            clinic=patient.clinic, patient=patient, start=at(1, 9), actor=bob, patient_package=plan,
            lines=[services.LineInput(physio_service)],
        )  # fmt: skip
    data = booking_data(patient, physio_service, patient_package=plan.pk)
    client = client_for(bob)
    december = client.get("/calendar/book/packages/", data | {"start": "2026-12-20T09:00"}).content.decode()
    january = client.get("/calendar/book/packages/", data | {"start": "2027-01-04T09:00"}).content.decode()
    assert 'aria-valuenow="100.0"' in december
    assert "2 of 2 appointments" in december
    assert "Budget this month" in december
    assert 'aria-valuenow="50.0"' in january
    assert "1 of 2 appointments" in january


def test_package_choice_preselects_the_first_or_keeps_skip(bob, patient, physio_service, link) -> None:
    package = link(4, "480.00")
    client = client_for(bob)
    data = booking_data(patient, physio_service)
    del data["patient_package"]
    html = client.get("/calendar/book/packages/", data).content.decode()
    assert f'value="{package.pk}" checked' in html
    html = client.get("/calendar/book/packages/", data | {"patient_package": ""}).content.decode()
    assert f'value="{package.pk}" checked' not in html
    assert 'id="package-skip" value="" checked' in html


# Editing: status buttons, lines, move, delete -------------------------------------------------------


def test_status_change_through_the_modal_debits_the_package(bob, patient, physio_service, link) -> None:
    package = link(4, "480.00")
    appointment = book(patient, at(1, 9), physio_service, patient_package=package)
    client = client_for(bob)
    modal = client.get(f"/calendar/appointments/{appointment.pk}/").content.decode()
    assert 'data-testid="status-attended"' in modal
    response = client.post(f"/calendar/appointments/{appointment.pk}/status/", {"status": "attended"})
    assert response.status_code == 200
    assert "calendarChanged" in response.headers["HX-Trigger"]
    assert 'data-testid="current-status" data-status="attended"' in response.content.decode()
    package.refresh_from_db()
    assert (package.sessions_booked, package.sessions_used) == (0, 1)


def test_cancelled_cannot_change_status(bob, patient, physio_service) -> None:
    appointment = book(patient, at(1, 9), physio_service, status="cancelled")
    response = client_for(bob).post(f"/calendar/appointments/{appointment.pk}/status/", {"status": "attended"})
    assert 'data-testid="status-error"' in response.content.decode()
    assert "HX-Trigger" not in response.headers


def test_edit_changes_lines_and_time(bob, patient, physio_service, assessment, therapist) -> None:
    appointment = book(patient, at(1, 9), physio_service)
    data = booking_data(patient, assessment, start="2026-12-01T10:00", professional=therapist.pk)
    data["lines-0-quantity"] = "2"
    response = client_for(bob).post(f"/calendar/appointments/{appointment.pk}/", data)
    assert "appointmentSaved" in response.headers["HX-Trigger"]
    with scopes_disabled():
        appointment.refresh_from_db()
        assert (appointment.start, appointment.end, appointment.professional_id) == (at(1, 10), at(1, 12), therapist.pk)
        assert [(line.service_id, line.quantity) for line in appointment.lines.all()] == [(assessment.pk, 2)]


def test_move_endpoint_moves_and_refuses_a_double_booking(bob, patient, physio_service, therapist) -> None:
    appointment = book(patient, at(1, 9), physio_service, professional=therapist)
    other = book(patient, at(1, 14), physio_service, professional=therapist)
    client = client_for(bob)
    url = f"/calendar/appointments/{appointment.pk}/move/"
    response = client.post(url, {"start": "2026-12-02T10:00:00", "end": "2026-12-02T11:00:00"})
    assert response.status_code == 200
    assert response.json()["start"] == "2026-12-02T10:00:00-03:00"
    with scopes_disabled():
        appointment.refresh_from_db()
    assert (appointment.start, appointment.end) == (at(2, 10), at(2, 11))
    refused = client.post(url, {"start": "2026-12-01T14:30:00", "end": "2026-12-01T15:30:00"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "double_booking"
    assert refused.json()["detail"] == "Already booked then: 12/01/2026 2:00 PM, Maria Ledger."
    assert refused.json()["fields"]["conflict"] == [str(other.pk)]
    with scopes_disabled():
        appointment.refresh_from_db()
    assert appointment.start == at(2, 10)


def test_delete_releases_the_package_session(bob, patient, physio_service, link) -> None:
    package = link(4, "480.00")
    appointment = book(patient, at(1, 9), physio_service, patient_package=package)
    response = client_for(bob).post(f"/calendar/appointments/{appointment.pk}/delete/")
    assert "appointmentSaved" in response.headers["HX-Trigger"]
    with scopes_disabled():
        assert not Appointment.objects.filter(pk=appointment.pk).exists()
    package.refresh_from_db()
    assert package.sessions_booked == 0


# Evolution notes (A8) -------------------------------------------------------------------------


def test_receptionist_sees_no_notes_and_gets_403(bob, paula, patient, physio_service) -> None:
    appointment = book(patient, at(1, 9), physio_service)
    with organization_scope(patient.organization_id):
        services.evolution_note_add(appointment=appointment, author=paula, text="Secret clinical detail")
    client = client_for(bob)
    html = client.get(f"/calendar/appointments/{appointment.pk}/").content.decode()
    assert "Secret clinical detail" not in html
    assert 'data-testid="evolution-notes"' not in html
    url = f"/calendar/appointments/{appointment.pk}/notes/"
    assert client.get(url).status_code == 403
    assert client.post(url, {"text": "Sneaky"}).status_code == 403
    with scopes_disabled():
        assert EvolutionNote.objects.count() == 1


@pytest.mark.parametrize("persona", ["paula", "alice"])
def test_professional_and_owner_read_and_add_notes(request, persona, patient, physio_service, link) -> None:
    user = request.getfixturevalue(persona)
    package = link(4, "480.00")
    appointment = book(patient, at(1, 9), physio_service, patient_package=package)
    client = client_for(user)
    html = client.get(f"/calendar/appointments/{appointment.pk}/").content.decode()
    assert 'data-testid="evolution-notes"' in html
    response = client.post(f"/calendar/appointments/{appointment.pk}/notes/", {"text": "Good progress"})
    html = response.content.decode()
    assert "Good progress" in html
    assert 'data-status="attended"' in html  # the first note marks the session attended
    package.refresh_from_db()
    assert package.sessions_used == 1
    assert "Good progress" in client.get(f"/calendar/appointments/{appointment.pk}/notes/").content.decode()


# Statuses settings page (A2) -------------------------------------------------------------------------


def test_statuses_page_lists_and_owner_creates_a_custom_status(alice, tenant_a) -> None:
    client = client_for(alice)
    html = client.get("/calendar/statuses/").content.decode()
    assert html.count('data-testid="status-row"') == 6
    assert 'data-testid="new-status"' in html
    response = client.post(
        "/calendar/statuses/new/", {"name": "Teleconsulta", "code": "teleconsult", "color": "#7c3aed", "debits": "on"}
    )
    assert response.status_code == 302
    with organization_scope(tenant_a.organization):
        status = AppointmentStatus.objects.get(code="teleconsult")
    assert (status.name, status.color, status.debits, status.releases) == ("Teleconsulta", "#7c3aed", True, False)
    response = client.post(
        f"/calendar/statuses/{status.pk}/", {"name": "Tele", "color": "#7c3aed", "debits": "on", "releases": "on"}
    )
    assert response.status_code == 200
    assert "either debits the session or releases it" in response.content.decode()


def test_builtin_status_keeps_its_flags(alice, tenant_a) -> None:
    client = client_for(alice)
    client.get("/calendar/statuses/")
    with organization_scope(tenant_a.organization):
        attended = AppointmentStatus.objects.get(code="attended")
    response = client.post(f"/calendar/statuses/{attended.pk}/", {"name": "Compareceu", "color": "#15803d"})
    assert response.status_code == 302
    attended.refresh_from_db()
    # Only the colour of a built-in changes; its name stays translated for each reader.
    assert (attended.display_name, attended.color, attended.debits, attended.releases) == (
        "Attended",
        "#15803d",
        True,
        False,
    )


def test_receptionist_reads_statuses_but_cannot_write(bob, tenant_a) -> None:
    client = client_for(bob)
    html = client.get("/calendar/statuses/").content.decode()
    assert 'data-testid="new-status"' not in html
    assert client.get("/calendar/statuses/new/").status_code == 403
    assert client.post("/calendar/statuses/new/", {"name": "X", "code": "x", "color": "#000000"}).status_code == 403


# Another organization's ids ------------------------------------------------------------------------


def test_every_endpoint_answers_404_for_another_organizations_appointment(alice, foreign_appointment, tenant_b) -> None:
    client = client_for(alice)
    pk = foreign_appointment.pk
    assert client.get(f"/calendar/appointments/{pk}/").status_code == 404
    assert client.post(f"/calendar/appointments/{pk}/", {}).status_code == 404
    assert client.post(f"/calendar/appointments/{pk}/status/", {"status": "attended"}).status_code == 404
    assert client.post(f"/calendar/appointments/{pk}/move/", {"start": "2026-12-01T10:00:00"}).status_code == 404
    assert client.post(f"/calendar/appointments/{pk}/delete/").status_code == 404
    assert client.get(f"/calendar/appointments/{pk}/notes/").status_code == 404
    assert client.post(f"/calendar/appointments/{pk}/notes/", {"text": "x"}).status_code == 404
    assert client.get("/calendar/book/packages/", {"appointment": pk}).status_code == 404
    assert client.get("/calendar/book/packages/", {"patient": foreign_appointment.patient_id}).status_code == 404
    missing = pk + 1000
    assert client.get(f"/calendar/appointments/{missing}/").status_code == 404
    with scopes_disabled():
        foreign_status = AppointmentStatus.objects.filter(organization=tenant_b.organization).first()
        assert Appointment.objects.filter(pk=pk).exists()
    assert client.get(f"/calendar/statuses/{foreign_status.pk}/").status_code == 404
    assert "Bruno Outsider" not in client.get("/calendar/feed/", WEEK).content.decode()


def test_booking_refuses_another_organizations_patient_and_package(
    alice, charlie, foreign_patient_b, physio_service, link
) -> None:
    foreign_package = link(4, "480.00", patient=foreign_patient_b)
    data = booking_data(foreign_patient_b, physio_service, patient_package=foreign_package.pk)
    response = client_for(alice).post("/calendar/book/", data)
    assert "HX-Trigger" not in response.headers
    assert "Select a valid choice" in response.content.decode()
    with scopes_disabled():
        assert not Appointment.objects.filter(patient=foreign_patient_b).exists()


def test_edit_this_and_the_following_sessions_of_a_series(bob, alice, patient, physio_service, therapist) -> None:
    from scheduling.recurrence import Recurrence, appointment_book_series

    with organization_scope(patient.organization_id):
        bookings = appointment_book_series(rule=Recurrence(first=at(1, 9), count=3), clinic=patient.clinic,
                                           patient=patient, actor=alice,
                                           lines=[services.LineInput(physio_service)])  # fmt: skip
    second = bookings[1].appointment
    client = client_for(bob)
    assert 'data-testid="following-toggle"' in client.get(f"/calendar/appointments/{second.pk}/").content.decode()
    data = booking_data(patient, physio_service, start="2026-12-08T15:00", professional=therapist.pk, following="on")
    response = client.post(f"/calendar/appointments/{second.pk}/", data)
    assert "appointmentSaved" in response.headers["HX-Trigger"]
    with scopes_disabled():
        rows = [(a.start, a.professional_id) for a in Appointment.objects.filter(patient=patient).order_by("start")]
    assert rows == [(at(1, 9), None), (at(8, 15), therapist.pk), (at(15, 15), therapist.pk)]
