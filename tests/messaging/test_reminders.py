"""Reminders (A7): one row per appointment and channel, following the
appointment, sent once by the sweep, never after the session started."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_scopes import scopes_disabled

from clinic.services import clinic_update
from clinic.tenancy import organization_scope
from patients.messaging.backends import get_backend
from patients.messaging.models import Message, MessageStatus
from scheduling import services
from scheduling.reminders import sweep
from scheduling.reminders.models import Reminder
from tests.ledger.test_concurrency import run_concurrently
from tests.messaging.conftest import book_session, days_ahead, set_status, soon


def reminders_of(appointment) -> dict[str, tuple[str, dt.datetime]]:
    with scopes_disabled():
        return {r.channel: (r.status, r.due_at) for r in Reminder.objects.filter(appointment=appointment)}


def send(now=None):
    return sweep.send_due(now or timezone.now())


@pytest.mark.django_db
def test_each_appointment_gets_its_reminders_from_the_nearest_lead_time(patient, link, tenant_a):
    start = days_ahead(3)
    plain = book_session(None, patient=patient, start=start)
    assert reminders_of(plain) == {"sms": ("scheduled", start - dt.timedelta(hours=24))}  # the clinic's default
    package = link(sessions=4, total="400.00", reminder_hours=2)
    from_link = book_session(package, start=start + dt.timedelta(hours=2))
    assert reminders_of(from_link)["sms"][1] == from_link.start - dt.timedelta(hours=2)  # the package link's
    with organization_scope(patient.organization_id):
        services.appointment_update(appointment=from_link, actor=None, reminder_hours=48)
    assert reminders_of(from_link)["sms"][1] == from_link.start - dt.timedelta(hours=48)  # the appointment's own
    with organization_scope(patient.organization_id):
        clinic_update(clinic=tenant_a.central, reminder_channels=["sms", "email"], reminder_hours=0)
        patient.clinic.refresh_from_db()
    assert reminders_of(book_session(None, patient=patient, start=start + dt.timedelta(hours=4))) == {}  # 0: none
    with organization_scope(patient.organization_id):
        clinic_update(clinic=tenant_a.central, reminder_hours=12)
        patient.clinic.refresh_from_db()
    both = book_session(None, patient=patient, start=start + dt.timedelta(hours=6))
    assert set(reminders_of(both)) == {"sms", "email"}
    past = book_session(None, patient=patient, start=timezone.now() - dt.timedelta(days=1))
    assert reminders_of(past) == {}


@pytest.mark.django_db
def test_moving_moves_cancelling_cancels_and_undoing_schedules_again(patient):
    appointment = book_session(None, patient=patient, start=days_ahead(3))
    later = days_ahead(5)
    with organization_scope(patient.organization_id):
        services.appointment_update(appointment=appointment, actor=None, start=later)
    assert reminders_of(appointment)["sms"] == ("scheduled", later - dt.timedelta(hours=24))
    set_status(appointment, "justified_absence")
    assert reminders_of(appointment)["sms"][0] == "cancelled"
    set_status(appointment, "scheduled")
    assert reminders_of(appointment)["sms"][0] == "scheduled"
    set_status(appointment, "attended")  # marked in advance: nothing to remind
    assert reminders_of(appointment)["sms"][0] == "cancelled"
    set_status(appointment, "confirmed")
    set_status(appointment, "cancelled")
    assert reminders_of(appointment)["sms"][0] == "cancelled"
    with organization_scope(patient.organization_id):
        services.appointment_delete(appointment=appointment, actor=None)
    assert reminders_of(appointment) == {}


@pytest.mark.django_db
def test_the_sweep_sends_each_due_reminder_once_with_its_session_number(patient, link, outbox):
    package = link(sessions=10, total="1000.00")
    book_session(package, start=soon(20))
    second = book_session(package, start=soon(22))
    book_session(package, start=days_ahead(9))  # not due yet
    swept = send()
    assert (swept.sent, swept.failed, swept.skipped) == (2, 0, 0)
    lines = outbox()
    assert sorted(line["appointment"] for line in lines)[-1] == second.pk
    text = next(line["text"] for line in lines if line["appointment"] == second.pk)
    start = timezone.localtime(second.start)
    day = "hoje" if start.date() == timezone.localdate() else "amanhã"
    assert text.startswith(f"Olá Maria, lembrete: sessão 2 de 10 de Sessão {day}, {start:%d/%m} às {start:%H:%M}.")
    assert {line["channel"] for line in lines} == {"sms"}
    assert {line["to"] for line in lines} == {"+5511987654321"}
    assert send().sent == 0  # a second sweep has nothing left
    assert len(outbox()) == 2
    status, _due = reminders_of(second)["sms"]
    assert status == "sent"
    with scopes_disabled():
        message = Message.objects.get(appointment=second.pk)
        reminder = Reminder.objects.get(appointment=second)
    assert (message.status, message.key, message.backend) == ("sent", f"reminder-{reminder.pk}", "file")
    assert reminder.message_id == message.pk


@pytest.mark.django_db
def test_no_reminder_goes_out_after_its_session_started(patient, outbox):
    appointment = book_session(None, patient=patient, start=days_ahead(2))
    with scopes_disabled():
        # The session moved into the past behind the reminders' back (a clock, a bulk import...).
        past = timezone.now() - dt.timedelta(minutes=5)
        type(appointment).objects.filter(pk=appointment.pk).update(start=past, end=past + dt.timedelta(minutes=50))
        Reminder.objects.filter(appointment=appointment).update(due_at=past - dt.timedelta(hours=24))
    assert send().skipped == 1
    assert outbox() == []
    assert reminders_of(appointment)["sms"][0] == "skipped"


@pytest.mark.django_db
def test_opted_out_and_unreachable_patients_are_skipped_with_a_reason(patient, outbox, tenant_a):
    with organization_scope(patient.organization_id):
        clinic_update(clinic=tenant_a.central, reminder_channels=["sms", "email", "whatsapp"])
        patient.clinic.refresh_from_db()
    patient.opt_out_sms = True
    patient.save(update_fields=["opt_out_sms"])
    book_session(None, patient=patient, start=soon(23))
    swept = send()
    assert swept.by_status == {"skipped": 1, "sent": 2}  # SMS opted out; e-mail and WhatsApp sent
    assert {line["channel"] for line in outbox()} == {"email", "whatsapp"}
    with scopes_disabled():
        note = Reminder.objects.get(channel="sms").note
    assert note == "The patient opted out of this channel."


@pytest.mark.django_db
def test_the_command_does_what_the_beat_job_does(patient, outbox, capsys):
    book_session(None, patient=patient, start=soon(23))
    call_command("send_reminders")
    assert "sent 1, failed 0, not sent 0" in capsys.readouterr().out
    assert len(outbox()) == 1


@pytest.mark.django_db
def test_a_crash_between_claim_and_send_never_sends_twice(patient, outbox):
    appointment = book_session(None, patient=patient, start=soon(22))
    other = book_session(None, patient=patient, start=soon(23))
    now = timezone.now()
    with organization_scope(patient.organization_id):
        claimed = sweep.claim(now)
    assert {r.appointment_id for r in claimed} == {appointment.pk, other.pk}
    # The worker wrote the first one's message, then died before the provider answered;
    # the second one it never reached.
    first = next(r for r in claimed if r.appointment_id == appointment.pk)
    with organization_scope(patient.organization_id):
        Message.objects.create(organization_id=patient.organization_id, patient=patient, channel="sms",
                               kind="reminder", to=patient.mobile, text="…", key=f"reminder-{first.pk}",
                               backend="file")  # fmt: skip
    assert send(now).sent == 0  # still claimed: nobody touches them before they are stale
    later = now + sweep.STALE_AFTER + dt.timedelta(seconds=1)
    swept = send(later)
    assert swept.by_status == {"failed": 1, "sent": 1}
    assert [line["appointment"] for line in outbox()] == [other.pk]  # the unsure one was not resent
    with scopes_disabled():
        assert Message.objects.get(key=f"reminder-{first.pk}").status == MessageStatus.UNKNOWN
        assert "not sent again" in Reminder.objects.get(pk=first.pk).note
    assert send(later).sent == 0


@pytest.mark.django_db(transaction=True)
def test_four_workers_sweeping_at_once_send_each_reminder_once(patient, outbox, tenant_a, monkeypatch):
    monkeypatch.setattr(sweep, "BATCH", 3)  # small claims: the workers interleave
    for n in range(30):
        book_session(None, patient=patient, start=soon(1) + dt.timedelta(minutes=45 * n))
    results = run_concurrently(lambda _i: sweep.send_due(timezone.now()), 4)
    assert all(isinstance(result, sweep.Swept) for result in results), results
    assert sum(result.sent for result in results) == 30  # type: ignore[union-attr]
    keys = [line["key"] for line in outbox()]
    assert len(keys) == 30
    assert len(set(keys)) == 30
    with scopes_disabled():
        assert Message.objects.count() == 30
        assert set(Reminder.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_staff_see_an_appointment_s_reminders_in_its_modal_and_messages_on_their_page(
    alice, bob, charlie, patient, outbox, foreign_patient_b
):
    from tests.conftest import login

    appointment = book_session(None, patient=patient, start=soon(23))
    later = book_session(None, patient=patient, start=days_ahead(6))
    send()
    client = login(bob)
    modal = client.get(f"/calendar/appointments/{appointment.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="reminder" data-status="sent"' in modal
    assert "+5511987654321" in modal
    waiting = client.get(f"/calendar/appointments/{later.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="scheduled"' in waiting
    assert "goes out" in waiting

    page = client.get("/messages/")
    assert page.status_code == 200
    rows = list(page.context["page"].object_list)
    assert [m.appointment for m in rows] == [appointment.pk]
    assert client.get("/messages/", {"status": "failed"}).context["page"].object_list.count() == 0
    # Another organization sees none of it, and its own messages stay out of this list.
    foreign_patient_b.mobile = "+5511900000000"
    foreign_patient_b.save(update_fields=["mobile"])
    book_session(None, patient=foreign_patient_b, start=soon(23))
    send()
    foreign = login(charlie).get("/messages/")
    assert [m.patient_id for m in foreign.context["page"].object_list] == [foreign_patient_b.pk]
    assert "Maria Souza" not in foreign.content.decode()
    assert login(charlie).get(f"/calendar/appointments/{appointment.pk}/").status_code == 404
    assert len(client.get("/messages/").context["page"].object_list) == 1


@pytest.mark.django_db
def test_the_messages_page_reads_in_constant_queries(bob, patient, outbox):
    from django.test.utils import CaptureQueriesContext

    from tests.conftest import login

    client = login(bob)

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get("/messages/").status_code == 200
        return len(context.captured_queries)

    book_session(None, patient=patient, start=soon(20))
    send()
    one = queries()
    for n in range(6):
        book_session(None, patient=patient, start=soon(21) + dt.timedelta(minutes=10 * n))
    send()
    assert queries() == one


@pytest.mark.django_db
def test_the_api_shows_reminders_and_messages_to_their_organization_only(bob, charlie, patient, outbox):
    from django.test.utils import CaptureQueriesContext

    from tests.conftest import api_client

    appointment = book_session(None, patient=patient, start=soon(23))
    send()
    client = api_client(bob)
    [reminder] = client.get(f"/api/v1/appointments/{appointment.pk}/reminders/").json()
    assert (reminder["channel"], reminder["status"], reminder["to"], reminder["delivery"]) == (
        "sms", "sent", "+5511987654321", "sent",
    )  # fmt: skip
    body = client.get("/api/v1/messages/", {"appointment": appointment.pk}).json()
    assert [m["appointment"] for m in body["results"]] == [appointment.pk]
    assert client.get("/api/v1/messages/", {"status": "failed"}).json()["results"] == []
    assert client.get(f"/api/v1/appointments/{appointment.pk}/").json()["booked_online"] is False
    foreign = api_client(charlie)
    assert foreign.get(f"/api/v1/appointments/{appointment.pk}/reminders/").status_code == 404
    assert foreign.get(f"/api/v1/messages/{body['results'][0]['id']}/").status_code == 404
    assert foreign.get("/api/v1/messages/").json()["results"] == []

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get("/api/v1/messages/").status_code == 200
        return len(context.captured_queries)

    one = queries()
    for n in range(5):
        book_session(None, patient=patient, start=soon(20) + dt.timedelta(minutes=7 * n))
    send()
    assert queries() == one


@pytest.mark.django_db
def test_an_organization_words_its_reminders_per_language(alice, bob, charlie, patient, outbox):
    from patients.messaging.models import MessageTemplate
    from tests.conftest import login

    client = login(alice)
    bad = client.post("/messages/templates/", {"text_pt-br": "Oi {nome}, {session} {when}.", "text_en": "Hi {name"})
    assert bad.status_code == 400
    page = bad.content.decode()
    assert "Unknown placeholders: {nome}." in page
    assert "Keep {cancel}" in page
    assert "Close every brace" in page
    with scopes_disabled():
        assert not MessageTemplate.objects.exists()  # nothing saved while any text is wrong
    ok = client.post("/messages/templates/", {"text_pt-br": "Oi {name}! {session} {when}. Cancelar: {cancel}"})
    assert ok.status_code == 302
    book_session(None, patient=patient, start=soon(22))
    send()
    assert outbox()[-1]["text"].startswith("Oi Maria! sua sessão de Sessão ")
    assert login(bob).get("/messages/templates/").status_code == 403  # a receptionist cannot
    assert "Oi {name}!" not in login(charlie).get("/messages/templates/").content.decode()
    client.post("/messages/templates/", {"text_pt-br": ""})  # empty: back to the built-in wording
    with scopes_disabled():
        assert not MessageTemplate.objects.exists()


@pytest.mark.django_db
def test_a_reminder_cancelled_or_moved_after_its_claim_is_not_sent_for_the_old_time(patient, outbox):
    cancelled = book_session(None, patient=patient, start=soon(20))
    moved = book_session(None, patient=patient, start=soon(21))
    now = timezone.now()
    with organization_scope(patient.organization_id):
        claimed = sweep.claim(now)
    set_status(cancelled, "cancelled")
    with organization_scope(patient.organization_id):
        services.appointment_update(appointment=moved, actor=None, start=days_ahead(6))
        outcomes = {r.appointment_id: sweep.deliver(r, backend=get_backend()) for r in claimed}
    assert outcomes == {cancelled.pk: "cancelled", moved.pk: "scheduled"}
    assert outbox() == []
    status, due = reminders_of(moved)["sms"]
    assert (status, due) == ("scheduled", days_ahead(6) - dt.timedelta(hours=24))  # it goes out at the new time


@pytest.mark.django_db
def test_one_broken_reminder_fails_alone(patient, outbox, foreign_patient_b):
    from patients.messaging.models import MessageTemplate

    with scopes_disabled():
        # A wording saved before its check existed: formatting it raises.
        MessageTemplate.objects.create(organization_id=patient.organization_id, kind="reminder", language="pt-br",
                                       text="Oi {name:{x}} {cancel}")  # fmt: skip
    broken = book_session(None, patient=patient, start=soon(20))
    foreign_patient_b.mobile = "+5511900000000"
    foreign_patient_b.save(update_fields=["mobile"])
    fine = book_session(None, patient=foreign_patient_b, start=soon(21))
    swept = send()
    assert (swept.sent, swept.failed) == (1, 1)
    assert [line["appointment"] for line in outbox()] == [fine.pk]
    assert reminders_of(broken)["sms"][0] == "failed"


@pytest.mark.django_db
def test_a_wording_with_a_format_spec_is_refused(alice):
    from tests.conftest import login

    response = login(alice).post("/messages/templates/", {"text_en": "Hi {name:>99999999} {cancel}"})
    assert response.status_code == 400
    assert "Close every brace" in response.content.decode()
