"""The calendar's words in the reader's language (issue 14): the booking
modal's status list and the status buttons by `display_name` (built-ins
translated, custom statuses as the clinic named them), toasts that end with
one full stop ("9 a.m.." no more) and name the patient and time, never an id,
and the package choice in the vocabulary of balances ("free to book")."""

from __future__ import annotations

import re

import pytest
from django_scopes import scopes_disabled

from clinic.tenancy import organization_scope
from packages.patient_packages.models import PatientPackage
from scheduling import services, wording
from scheduling.models import AppointmentStatus
from tests.scheduling.conftest import at
from tests.scheduling.test_pages import book, booking_data, client_for, saved_event

pytestmark = pytest.mark.django_db

STATUS_NAMES = {
    "en": ["Scheduled", "Confirmed", "Attended", "Missed", "Justified absence", "Cancelled", "Falta cobrada"],
    "de": [
        *("Geplant", "Bestätigt", "Wahrgenommen", "Nicht erschienen"),
        *("Entschuldigt abwesend", "Abgesagt", "Falta cobrada"),
    ],
    "pt-br": ["Agendado", "Confirmado", "Atendido", "Faltou", "Ausência justificada", "Cancelado", "Falta cobrada"],
}


@pytest.fixture
def custom_status(tenant_a) -> AppointmentStatus:
    with organization_scope(tenant_a.organization):
        return services.appointment_status_save(
            organization=tenant_a.organization, code="charged_absence", name="Falta cobrada", debits=True
        )


@pytest.mark.parametrize("language", ["en", "de", "pt-br"])
def test_the_booking_modals_status_list_is_in_the_readers_language(bob, custom_status, language) -> None:
    with scopes_disabled():
        # Even a row whose stored name is another language's: built-ins show their translated name.
        AppointmentStatus.objects.filter(code="attended").update(name="Atendido")
    html = client_for(bob).get("/calendar/book/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    select = html.split('name="status"', 1)[1].split("</select>", 1)[0]
    assert re.findall(r"<option[^>]*>([^<]*)</option>", select) == STATUS_NAMES[language]


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_status_buttons_and_legend_are_in_the_readers_language(bob, patient, physio_service, language) -> None:
    appointment = book(patient, at(1, 9), physio_service)
    client = client_for(bob)
    modal = client.get(f"/calendar/appointments/{appointment.pk}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    buttons = re.findall(r'data-testid="status-[a-z_]+"[^>]*>([^<]+)</button>', modal)
    assert buttons == STATUS_NAMES[language][:6]
    page = client.get("/calendar/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    legend = re.findall(r'<span class="status-dot"[^>]*></span> ([^<]+)</li>', page)
    assert legend == STATUS_NAMES[language][:6]


def test_toasts_say_the_time_once_with_one_full_stop(bob, patient, physio_service, therapist) -> None:
    client = client_for(bob)
    booked = saved_event(client.post("/calendar/book/", booking_data(patient, physio_service)))
    assert booked["message"] == "Booked: Maria Ledger, Tue Dec 1, 9:00 AM."
    with scopes_disabled():
        appointment = patient.appointments.get()
    data = booking_data(patient, physio_service, start="2026-12-01T14:00")
    saved = saved_event(client.post(f"/calendar/appointments/{appointment.pk}/", data))
    assert saved["message"] == "Saved: Maria Ledger, Tue Dec 1, 2:00 PM."
    for message in (booked["message"], saved["message"]):
        assert ".." not in message


def test_the_session_day_follows_the_language() -> None:
    from django.utils import translation

    with translation.override("pt-br"):
        assert wording.moment_label(at(1, 9)) == "Ter 01/12 09:00"
    with translation.override("de"):
        assert wording.moment_label(at(1, 9)) == "Di, 01.12. 09:00"


def test_a_double_booking_names_the_patient_and_time_in_every_language(bob, patient, physio_service, therapist):
    first = book(patient, at(1, 9), physio_service, professional=therapist)
    data = booking_data(patient, physio_service, start="2026-12-01T09:30", professional=therapist.pk)
    for language in ("pt-br", "en", "de", "es"):
        html = client_for(bob).post("/calendar/book/", data, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        errors = html.split('data-testid="form-errors">', 1)[1].split("</div></div>", 1)[0]
        assert "Maria Ledger" in errors
        assert str(first.pk) not in errors  # no "(agendamento 89)": people read names and times


# The package choice: "free to book" ------------------------------------------------------------------------


def used_up(link, patient, physio_service) -> PatientPackage:
    """A package of one session, already booked."""
    package = link(1, "120.00")
    book(patient, at(3, 9), physio_service, patient_package=package)
    package.refresh_from_db()
    assert package.sessions_available == 0
    return package


def test_a_used_up_package_is_listed_but_cannot_be_chosen(bob, patient, physio_service, link) -> None:
    package = used_up(link, patient, physio_service)
    data = booking_data(patient, physio_service)
    del data["patient_package"]
    html = client_for(bob).get("/calendar/book/packages/", data).content.decode()
    radio = f'id="package-{package.pk}" value="{package.pk}" disabled aria-describedby="package-{package.pk}-none">'
    assert radio in html
    assert 'data-testid="package-no-free">no sessions free to book<' in html
    assert 'id="package-skip" value="" checked' in html


def test_the_first_package_with_sessions_free_to_book_is_chosen(bob, patient, physio_service, link) -> None:
    package = used_up(link, patient, physio_service)
    other = link(4, "480.00")
    data = booking_data(patient, physio_service)
    del data["patient_package"]
    client = client_for(bob)
    html = client.get("/calendar/book/packages/", data).content.decode()
    assert f'id="package-{other.pk}" value="{other.pk}" checked' in html
    assert f'id="package-{package.pk}" value="{package.pk}" disabled' in html
    # Posted anyway (a stale page): the used-up package is not kept as the choice.
    html = client.get("/calendar/book/packages/", data | {"patient_package": package.pk}).content.decode()
    assert f'id="package-{other.pk}" value="{other.pk}" checked' in html


def test_editing_keeps_the_appointments_own_package_even_when_used_up(bob, patient, physio_service, link) -> None:
    package = link(1, "120.00")
    appointment = book(patient, at(3, 9), physio_service, patient_package=package)
    html = client_for(bob).get(f"/calendar/appointments/{appointment.pk}/").content.decode()
    assert f'id="package-{package.pk}" value="{package.pk}" checked>' in html
