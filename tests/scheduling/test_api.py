from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from clinic.tenancy import organization_scope
from scheduling import services
from scheduling.models import Appointment
from tests.conftest import api_client
from tests.factories import ProfessionalFactory
from tests.ledger.conftest import make_appointment
from tests.packages.factories import ServiceFactory
from tests.scheduling.conftest import at


@pytest.mark.django_db
def test_book_move_mark_attended_and_delete_through_the_api(bob, patient, therapist, physio_service, link) -> None:
    package = link(4, "1000.00")
    client = api_client(bob)
    response = client.post(
        "/api/v1/appointments/",
        {
            "patient": patient.pk, "professional": therapist.pk, "start": at(14, 9).isoformat(),
            "services": [{"service": physio_service.pk, "quantity": 1}], "patient_package": package.pk,
        },
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["services"], body["patient_package"]) == (
        "scheduled",
        [{"service": physio_service.pk, "quantity": 1, "price": "120.00"}],
        package.pk,
    )
    assert body["end"] == "2026-12-14T09:50:00-03:00"
    url = f"/api/v1/appointments/{body['id']}/"
    assert (
        client.patch(url, {"start": at(14, 10).isoformat()}, format="json").json()["start"]
        == "2026-12-14T10:00:00-03:00"
    )
    # A session still ahead is marked attended with the confirmation (tests/scheduling/test_future_attended.py).
    confirmed = client.patch(url, {"status": "attended", "confirm_future": True}, format="json")
    assert confirmed.json()["status"] == "attended"
    package.refresh_from_db()
    assert (package.sessions_used, package.amount_open) == (1, Decimal("750.00"))
    assert client.delete(url).status_code == 204
    package.refresh_from_db()
    assert (package.sessions_used, package.sessions_booked, package.amount_open) == (0, 0, Decimal("1000.00"))


@pytest.mark.django_db
def test_double_booking_and_bad_status_errors(bob, patient, therapist, physio_service) -> None:
    client = api_client(bob)
    payload = {
        "patient": patient.pk, "professional": therapist.pk, "start": at(15, 9).isoformat(),
        "services": [{"service": physio_service.pk}],
    }  # fmt: skip
    first = client.post("/api/v1/appointments/", payload, format="json").json()
    response = client.post("/api/v1/appointments/", payload, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "double_booking"
    assert response.json()["fields"]["conflict"] == [str(first["id"])]
    response = client.patch(f"/api/v1/appointments/{first['id']}/", {"status": "nope"}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    client.patch(f"/api/v1/appointments/{first['id']}/", {"status": "cancelled"}, format="json")
    response = client.patch(f"/api/v1/appointments/{first['id']}/", {"status": "attended"}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid_transition")


@pytest.mark.django_db
def test_filters(bob, patient, therapist, physio_service, tenant_a, scope_a) -> None:
    other = ProfessionalFactory(clinic=tenant_a.central, organization=tenant_a.organization, name="Outro")
    for day, professional in [(16, therapist), (17, other), (18, therapist)]:
        services.appointment_book(clinic=patient.clinic, patient=patient, start=at(day, 9),
                                  lines=[services.LineInput(physio_service)], actor=None,
                                  professional=professional)  # fmt: skip
    client = api_client(bob)
    days = lambda params: [a["start"][8:10] for a in client.get("/api/v1/appointments/", params).json()["results"]]  # noqa: E731
    assert days({}) == ["16", "17", "18"]
    assert days({"professional": therapist.pk}) == ["16", "18"]
    assert days({"start": at(17, 0).isoformat(), "end": at(18, 0).isoformat()}) == ["17"]
    assert days({"patient": patient.pk, "status": "scheduled"}) == ["16", "17", "18"]


@pytest.fixture
def scope_a(tenant_a):
    with organization_scope(tenant_a.organization):
        yield


@pytest.mark.django_db
def test_evolution_notes_are_for_professionals_and_owners(alice, bob, paula, patient, therapist, physio_service,
                                                          scope_a) -> None:  # fmt: skip
    booking = services.appointment_book(clinic=patient.clinic, patient=patient, start=at(19, 9),
                                        lines=[services.LineInput(physio_service)], actor=None)  # fmt: skip
    appointment = booking.appointment
    url = f"/api/v1/appointments/{appointment.pk}/evolution-notes/"
    response = api_client(paula).post(url, {"text": "Melhora da amplitude."})
    assert response.status_code == 200
    assert [n["text"] for n in response.json()] == ["Melhora da amplitude."]
    assert api_client(alice).get(url).json()[0]["author"] == str(paula)
    for method in ("get", "post"):
        response = getattr(api_client(bob), method)(url, {"text": "x"})
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    appointment.refresh_from_db()
    assert appointment.status == "attended"


@pytest.mark.django_db
def test_statuses_endpoint_lists_builtins_and_custom(alice, bob) -> None:
    response = api_client(alice).post(
        "/api/v1/appointment-statuses/",
        {"code": "paid_no_show", "name": "Falta cobrada", "color": "#7c3aed", "debits": True},
    )
    assert response.status_code == 201, response.json()
    body = api_client(bob).get("/api/v1/appointment-statuses/").json()["results"]
    assert [(s["code"], s["debits"], s["releases"]) for s in body] == [
        ("scheduled", False, False), ("confirmed", False, False), ("attended", True, False), ("missed", False, False),
        ("justified_absence", False, True), ("cancelled", False, True), ("paid_no_show", True, False),
    ]  # fmt: skip
    assert api_client(bob).post("/api/v1/appointment-statuses/", {"code": "x", "name": "X"}).status_code == 403


@pytest.mark.django_db
def test_a_status_is_replaced_by_put_and_changed_by_patch(alice) -> None:
    client = api_client(alice)
    created = client.post("/api/v1/appointment-statuses/", {"code": "no_show_paid", "name": "Falta"}, format="json")
    url = f"/api/v1/appointment-statuses/{created.json()['id']}/"
    response = client.put(url, {"code": "no_show_paid"}, format="json")  # PUT is the whole status: its name is missing
    assert (response.status_code, list(response.json()["fields"])) == (400, ["name"])
    response = client.put(url, {}, format="json")
    assert (response.status_code, sorted(response.json()["fields"])) == (400, ["code", "name"])
    assert client.get(url).json()["name"] == "Falta"
    response = client.patch(url, {"name": "Falta cobrada"}, format="json")
    assert (response.status_code, response.json()["name"]) == (200, "Falta cobrada")
    response = client.put(url, {"code": "no_show_paid", "name": "Falta paga", "debits": True}, format="json")
    assert (response.status_code, response.json()["name"], response.json()["debits"]) == (200, "Falta paga", True)


@pytest.mark.django_db
def test_another_organizations_appointments_are_404(alice, charlie, foreign_patient_b) -> None:
    foreign = make_appointment(foreign_patient_b)
    client = api_client(alice)
    for method in ("get", "patch", "delete"):
        response = getattr(client, method)(f"/api/v1/appointments/{foreign.pk}/", {"status": "attended"}, format="json")
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert client.get(f"/api/v1/appointments/{foreign.pk}/evolution-notes/").status_code == 404
    assert client.get("/api/v1/appointments/").json()["count"] == 0
    response = client.post("/api/v1/appointments/", {"patient": foreign_patient_b.pk, "start": at(20, 9).isoformat(),
                                                      "services": []}, format="json")  # fmt: skip
    assert response.json()["fields"]["patient"] == [f'Invalid pk "{foreign_patient_b.pk}" - object does not exist.']
    with scopes_disabled():
        assert Appointment.objects.get(pk=foreign.pk).status == "scheduled"


@pytest.mark.django_db
def test_a_write_to_an_id_that_is_no_appointment_is_404(alice, patient) -> None:
    """PATCH and DELETE leave the reading to the entry point's lock
    (`TenantViewSet.object_stub`): what it does not find is a 404 too."""
    gone = make_appointment(patient)
    client = api_client(alice)
    assert client.delete(f"/api/v1/appointments/{gone.pk}/").status_code == 204
    for key in (gone.pk, 0, -1, "abc", "١٢", 2**63, 2**63 - 1):
        for method in ("patch", "delete"):
            response = getattr(client, method)(f"/api/v1/appointments/{key}/", {"status": "attended"}, format="json")
            assert (response.status_code, response.json()["code"]) == (404, "not_found"), (method, key)


def _count(client, path: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(path).status_code == 200
    return len(context.captured_queries)


@pytest.mark.django_db
def test_calendar_feed_query_count_does_not_grow(alice, patient, therapist, tenant_a, scope_a) -> None:
    services_ = [ServiceFactory(clinic=tenant_a.central, price=Decimal("10.00")) for _ in range(3)]
    services.appointment_book(clinic=patient.clinic, patient=patient, start=at(1, 7),
                              lines=[services.LineInput(services_[0])], actor=None)  # fmt: skip
    client = api_client(alice)
    path = f"/api/v1/appointments/?start={at(1, 0).isoformat()}&end={at(31, 0).isoformat()}&page_size=200".replace(
        "+", "%2B"
    )
    one = _count(client, path)
    for n in range(199):
        day, slot = 1 + n // 10, n % 10
        start = at(day, 8 + slot)
        services.appointment_book(clinic=patient.clinic, patient=patient, start=start,
                                  end=start + dt.timedelta(minutes=30),
                                  lines=[services.LineInput(s) for s in services_[: 1 + n % 3]], actor=None,
                                  professional=therapist if n % 2 else None)  # fmt: skip
    assert _count(client, path) == one
    assert len(client.get(path).json()["results"]) == 200


@pytest.mark.django_db
def test_patient_file_shows_next_and_past_sessions(bob, patient, therapist, physio_service, scope_a) -> None:
    from django.utils import timezone

    from tests.conftest import login

    now = timezone.now()
    for days, status in [(-14, "attended"), (-7, "missed"), (3, "scheduled"), (10, "confirmed")]:
        booking = services.appointment_book(
            clinic=patient.clinic, patient=patient, start=now + dt.timedelta(days=days), professional=therapist,
            lines=[services.LineInput(physio_service)], actor=None,
        )  # fmt: skip
        services.appointment_set_status(appointment=booking.appointment, status=status, actor=None)
    content = login(bob).get(f"/patients/{patient.pk}/").content.decode()
    upcoming, past = content.split('data-testid="patient-sessions"')[1].split("Past sessions")
    assert upcoming.count("Renata Costa") == 2
    assert "Scheduled" in upcoming
    assert "Confirmed" in upcoming
    assert past.count("Renata Costa") == 2
    assert "Attended" in past
    assert "Missed" in past


@pytest.mark.django_db
def test_calendar_from_the_patient_file_books_for_that_patient(bob, alice, patient, therapist, physio_service,
                                                               scope_a) -> None:  # fmt: skip
    from tests.conftest import login

    client = login(bob)
    assert f"/calendar/?patient={patient.pk}" in client.get(f"/patients/{patient.pk}/").content.decode()
    page = client.get(f"/calendar/?patient={patient.pk}").content.decode()
    assert 'data-testid="booking-for-patient"' in page
    assert patient.full_name in page
    modal = client.get(f"/calendar/book/?patient={patient.pk}&start=2026-12-21T09:00").content.decode()
    assert f'<input type="hidden" name="patient" value="{patient.pk}" id="id_patient">' in modal


@pytest.mark.django_db
def test_calendar_reads_are_in_the_access_log(bob, patient, therapist, physio_service, scope_a) -> None:
    from patients.models import AccessLog
    from tests.conftest import login

    booking = services.appointment_book(clinic=patient.clinic, patient=patient, start=at(21, 9),
                                        lines=[services.LineInput(physio_service)], actor=None)  # fmt: skip
    client = login(bob)
    client.get("/calendar/feed/", {"start": "2026-12-20T00:00:00", "end": "2026-12-27T00:00:00"})
    client.get(f"/calendar/appointments/{booking.appointment.pk}/")
    with scopes_disabled():
        assert list(AccessLog.objects.filter(patient=patient).order_by("pk").values_list("what", flat=True)) == [
            "calendar",
            "appointment",
        ]


@pytest.mark.django_db
def test_a_package_that_is_not_the_patient_s_is_a_field_error(
    bob, patient, therapist, physio_service, link, foreign_patient_b, tenant_a
) -> None:
    """The booking looks the package up once, under its lock: a missing id,
    another organization's and another patient's package answer alike."""
    from tests.patients.factories import PatientFactory

    other_patient_s = link(2, "200.00", patient=PatientFactory(clinic=tenant_a.central))
    foreign = link(2, "200.00", patient=foreign_patient_b)
    client = api_client(bob)
    for package_id in (999_999, foreign.pk, other_patient_s.pk, 0):
        response = client.post(
            "/api/v1/appointments/",
            {
                "patient": patient.pk, "professional": therapist.pk, "start": at(16, 9).isoformat(),
                "services": [{"service": physio_service.pk}], "patient_package": package_id,
            },
            format="json",
        )  # fmt: skip
        assert response.status_code == 400, package_id
        assert response.json()["code"] == "validation_error"
        assert list(response.json()["fields"]) == ["patient_package"]
    with scopes_disabled():
        assert not Appointment.objects.exists()


@pytest.mark.django_db
def test_with_a_package_the_patient_is_checked_against_it_not_looked_up(
    bob, patient, therapist, physio_service, link, foreign_patient_b
) -> None:
    """A package names its patient: the booking compares the two under the
    package's lock, with no read of the patient. Another organization's
    patient, a missing one or another patient of ours with this package is
    refused on the package, and leaks nothing; without a package the patient
    is looked up as any key is."""
    package = link(2, "200.00")
    client = api_client(bob)

    def book(patient_id: int, **extra: object):
        body = {"patient": patient_id, "professional": therapist.pk, "start": at(16, 9).isoformat(),
                "services": [{"service": physio_service.pk}], **extra}  # fmt: skip
        return client.post("/api/v1/appointments/", body, format="json")

    for patient_id in (foreign_patient_b.pk, 999_999):
        refused = book(patient_id, patient_package=package.pk)
        assert (refused.status_code, list(refused.json()["fields"])) == (400, ["patient_package"]), patient_id
        assert str(foreign_patient_b.full_name) not in refused.content.decode()
        missing = book(patient_id)
        assert missing.json()["fields"] == {"patient": [f'Invalid pk "{patient_id}" - object does not exist.']}
    with scopes_disabled():
        assert not Appointment.objects.exists()
    with CaptureQueriesContext(connection) as booking:
        assert book(patient.pk, patient_package=package.pk).status_code == 201
    assert not [q["sql"] for q in booking.captured_queries if '"patients_patient"' in q["sql"]]


@pytest.mark.django_db
def test_patch_can_take_the_professional_and_room_away(bob, patient, therapist, room_1, physio_service) -> None:
    client = api_client(bob)
    body = client.post(
        "/api/v1/appointments/",
        {
            "patient": patient.pk, "professional": therapist.pk, "room": room_1.pk, "start": at(17, 9).isoformat(),
            "services": [{"service": physio_service.pk}],
        },
        format="json",
    ).json()  # fmt: skip
    url = f"/api/v1/appointments/{body['id']}/"
    response = client.patch(url, {"professional": None, "status": "confirmed"}, format="json")
    assert (response.json()["professional"], response.json()["room"], response.json()["status"]) == (
        None,
        room_1.pk,
        "confirmed",
    )
    assert client.patch(url, {"room": None}, format="json").json()["room"] is None
    with scopes_disabled():
        appointment = Appointment.objects.get(pk=body["id"])
    assert (appointment.professional_id, appointment.room_id, appointment.status) == (None, None, "confirmed")


@pytest.mark.django_db
def test_an_appointment_is_written_as_its_declared_fields_would_write_it(
    bob, patient, therapist, room_1, physio_service, link
) -> None:
    """`AppointmentSerializer.to_representation` writes the fields out by hand
    (the hot path); DRF's generic rendering of the declared fields, which the
    schema describes, must give the same body."""
    from django.utils import timezone
    from rest_framework import serializers

    from scheduling.api import AppointmentSerializer

    package = link(4, "1000.00")
    with organization_scope(patient.organization_id):
        plain = services.appointment_book(
            clinic=patient.clinic, patient=patient, start=at(16, 9), actor=bob,
            lines=[services.LineInput(physio_service)],
        )  # fmt: skip
        full = services.appointment_book(
            clinic=patient.clinic, patient=patient, start=at(16, 11), actor=bob, professional=therapist, room=room_1,
            lines=[services.LineInput(physio_service, 2, Decimal("99.90"))], patient_package=package,
            authorization="AUT-1", notes="Trazer exames", reminder_hours=0, status="attended",
        )  # fmt: skip
        bookings = [plain, full, services.Booking(Appointment.objects.get(pk=plain.appointment.pk), ["Aviso"])]
        for zone in ("America/Sao_Paulo", "UTC", "Asia/Tokyo"):
            with timezone.override(zone):
                for booking in bookings:
                    context = {"warnings": booking.warnings, "lines": booking.lines}
                    serializer = AppointmentSerializer(booking.appointment, context=context)
                    generic = serializers.Serializer.to_representation(serializer, booking.appointment)
                    assert serializer.data == generic
                    assert list(serializer.data) == list(AppointmentSerializer().fields)
    # The cases above meant something: another zone, lines, a room, a package, notes.
    assert generic["start"].endswith("+09:00")
    assert generic["services"]
    assert (full.appointment.room_id, full.appointment.patient_package_id) == (room_1.pk, package.pk)
    assert full.appointment.notes
