from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from patients.models import AccessLog
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
