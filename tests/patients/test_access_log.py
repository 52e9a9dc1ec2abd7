from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from django.db import connections
from django.utils import timezone
from django_scopes import scopes_disabled

from clinic.tenancy import organization_scope
from patients.models import AccessChannel, AccessLog
from patients.services import access_log_record
from scheduling.models import Appointment
from tests.conftest import api_client, login


def _log(patient) -> list[tuple[str, str, str]]:
    with scopes_disabled():
        return [
            (entry.user.username, entry.channel, entry.what)
            for entry in AccessLog.objects.filter(patient=patient).order_by("pk")
        ]


@pytest.mark.django_db
def test_reading_a_patient_writes_access_log_rows(bob, joao) -> None:
    login(bob).get(f"/patients/{joao.pk}/", REMOTE_ADDR="198.51.100.7")
    api = api_client(bob)
    api.get(f"/api/v1/patients/{joao.pk}/")
    api.get("/api/v1/patients/")
    api.get(f"/api/v1/patients/{joao.pk}/history/")
    login(bob).get("/patients/")
    assert _log(joao) == [
        ("bob", "page", "file"),
        ("bob", "api", "file"),
        ("bob", "api", "list"),
        ("bob", "api", "history"),
        ("bob", "page", "list"),
    ]
    with scopes_disabled():
        first = AccessLog.objects.filter(patient=joao).order_by("pk").first()
    assert first.ip_address == "198.51.100.7"


@pytest.mark.django_db
def test_owner_sees_the_access_log_and_a_receptionist_does_not(alice, bob, joao) -> None:
    login(bob).get(f"/patients/{joao.pk}/")
    owner_page = login(alice).get(f"/patients/{joao.pk}/").content.decode()
    assert 'data-testid="access-log"' in owner_page
    assert str(bob) in owner_page
    assert 'data-testid="access-log"' not in login(bob).get(f"/patients/{joao.pk}/").content.decode()
    body = api_client(alice).get(f"/api/v1/patients/{joao.pk}/access-log/").json()
    assert [(e["user"], e["channel"], e["what"]) for e in body["results"]][-1] == (str(bob), "page", "file")
    assert api_client(bob).get(f"/api/v1/patients/{joao.pk}/access-log/").status_code == 403


def _rows(patient) -> list[tuple[str, str, int]]:
    with scopes_disabled():
        return [
            (entry.channel, entry.what, entry.views)
            for entry in AccessLog.objects.filter(patient=patient).order_by("pk")
        ]


@pytest.mark.django_db
def test_repeated_reads_in_a_period_count_on_one_row(bob, joao) -> None:
    client = login(bob)
    for _n in range(3):
        assert client.get(f"/patients/{joao.pk}/").status_code == 200
    assert _rows(joao) == [("page", "file", 3)]
    with scopes_disabled():
        entry = AccessLog.objects.get(patient=joao)
    assert entry.accessed_at <= entry.last_accessed_at


@pytest.mark.django_db
def test_a_new_period_starts_a_new_row(bob, joao, monkeypatch) -> None:
    client = login(bob)
    start = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
    for minutes in (0, 14, 16):
        monkeypatch.setattr(timezone, "now", lambda minutes=minutes: start + dt.timedelta(minutes=minutes))
        client.get(f"/patients/{joao.pk}/")
    assert _rows(joao) == [("page", "file", 2), ("page", "file", 1)]


@pytest.mark.django_db
def test_calendar_feed_reloads_do_not_write_a_row_each(bob, joao, physio) -> None:
    with scopes_disabled():
        Appointment.objects.create(
            organization_id=joao.organization_id, clinic=joao.clinic, patient=joao, professional=physio,
            start=dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC), end=dt.datetime(2026, 12, 1, 12, 50, tzinfo=dt.UTC),
        )  # fmt: skip
    client = login(bob)
    week = {"start": "2026-11-30T00:00:00", "end": "2026-12-07T00:00:00"}
    for _n in range(16):  # the calendar refetching its feed as the user browses
        assert len(client.get("/calendar/feed/", week).json()) == 1
    assert _rows(joao) == [("page", "calendar", 16)]


@pytest.mark.django_db
def test_the_access_log_names_what_was_read_in_the_readers_language(alice, bob, joao) -> None:
    login(bob).get("/patients/")
    login(bob).get(f"/patients/{joao.pk}/")
    login(bob).get(f"/patients/{joao.pk}/")
    page = login(alice).get(f"/patients/{joao.pk}/").content.decode()
    table = page[page.index('data-testid="access-log"') :]
    table = table[: table.index("</table>")]
    cells = [
        " ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td[^>]*>(.*?)</td>", table, re.S)
    ]
    assert "Patient file · Page" in cells
    assert "Patient list · Page" in cells
    assert "file" not in cells
    assert "list" not in cells
    assert any(re.fullmatch(r".+ 2 reads, the last at \d{1,2}:\d{2} [AP]M", cell) for cell in cells)
    assert bob.get_full_name() in cells
    body = api_client(alice).get(f"/api/v1/patients/{joao.pk}/access-log/").json()["results"]
    assert {(e["what"], e["what_label"], e["views"]) for e in body} >= {("file", "Patient file", 2)}


@pytest.mark.django_db
def test_an_unknown_kind_of_read_is_a_programming_error(bob, joao, rf) -> None:
    request = rf.get("/")
    request.user = bob
    with pytest.raises(ValueError, match="is not a valid AccessKind"):
        access_log_record(request=request, patients=[joao], channel=AccessChannel.PAGE, what="Something else")


@pytest.mark.django_db
def test_an_export_of_thousands_of_patients_is_logged_in_batches(tenant_a, bob, rf) -> None:
    """6,500 patients of 11 parameters each is past PostgreSQL's 65,535 parameters
    per statement: the rows go in batches, each patient logged once."""
    from patients.models import Patient

    with organization_scope(tenant_a.organization):
        Patient.objects.bulk_create(
            Patient(organization=tenant_a.organization, clinic=tenant_a.central, full_name=f"Paciente {n}")
            for n in range(6500)
        )
        patients = list(Patient.objects.all())
    request = rf.get("/")
    request.user = bob
    access_log_record(request=request, patients=patients, channel=AccessChannel.EXPORT, what="package report")
    with scopes_disabled():
        assert AccessLog.objects.filter(user=bob).count() == len(patients)


@pytest.mark.django_db(transaction=True)
def test_simultaneous_reads_count_on_one_row(tenant_a, bob, joao, rf) -> None:
    """Eight requests at the same instant (a calendar's parallel feeds): one
    row, eight reads, no error (INSERT ... ON CONFLICT on real PostgreSQL)."""
    count = 8
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def read() -> None:
        try:
            request = rf.get("/", REMOTE_ADDR="198.51.100.7")
            request.user = bob
            barrier.wait()
            with organization_scope(joao.organization_id):
                access_log_record(request=request, patients=[joao], channel=AccessChannel.PAGE, what="calendar")
        except BaseException as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=read) for _n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert _rows(joao) == [("page", "calendar", count)]
