"""The patient's page as JSON: the same sign-in, checks and entry points."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from scheduling.models import Appointment
from tests.messaging.conftest import book_session, committed, days_ahead
from tests.messaging.test_online import clinic, marcos, monday, package_of, physio  # noqa: F401  (fixtures)
from tests.packages.factories import make_template
from tests.patients.factories import PatientFactory


def post(client: Client, url: str, data: dict):
    return client.post(url, json.dumps(data), content_type="application/json")


@pytest.mark.django_db
def test_a_patient_signs_in_reads_books_and_cancels_through_json(patient, clinic, physio, marcos, alice, outbox):  # noqa: F811
    package = package_of(patient, make_template(clinic, [(physio, 4)], name="Fisio 4", price=Decimal("400.00")), alice)
    base = f"/c/{clinic.portal_token}/api/"
    client = Client()
    assert client.get(base + "me/").json()["code"] == "not_signed_in"
    assert committed(lambda: post(client, base + "code/", {"contact": "+55 11 91234-0000"})).status_code == 202
    assert outbox() == []  # unknown contact: the same 202, nothing sent
    assert committed(lambda: post(client, base + "code/", {"contact": "(11) 98765-4321"})).status_code == 202
    code = re.search(r"\b(\d{6})\b", outbox()[-1]["text"]).group(1)
    wrong = post(
        client,
        base + "code/verify/",
        {"contact": "(11) 98765-4321", "code": "999999" if code != "999999" else "000000"},
    )
    assert (wrong.status_code, wrong.json()["code"]) == (400, "validation_error")
    signed = post(client, base + "code/verify/", {"contact": "(11) 98765-4321", "code": code})
    assert signed.json()["patients"] == [{"id": patient.pk, "name": "Maria Souza"}]
    me = client.get(base + "me/").json()
    assert me["packages"][0] | {} == {"id": package.pk, "name": "Fisio 4", "sessions_total": 4, "sessions_used": 0,
                                      "sessions_booked": 0, "sessions_free_to_book": 4}  # fmt: skip
    assert [o["service"] for o in client.get(base + "offer/").json()["offer"]] == [physio.pk]
    week = client.get(base + f"slots/{physio.pk}/", {"day": monday().isoformat()}).json()
    start = week["professionals"][0]["slots"][0]
    booked = post(client, base + f"book/{physio.pk}/", {"professional": marcos.pk, "start": start})
    assert (booked.status_code, booked.json()["package"]) == (201, package.pk)
    again = post(client, base + f"book/{physio.pk}/", {"professional": marcos.pk, "start": start})
    assert (again.status_code, again.json()["code"]) == (409, "slot_taken")
    assert (
        post(
            client, base + f"book/{physio.pk}/", {"professional": marcos.pk, "start": "9999-12-31T23:00:00-05:00"}
        ).status_code
        == 400
    )
    assert post(client, base + f"book/{physio.pk}/", {"start": "x"}).json()["fields"] == {
        "start": ["Choose one of the times offered."]
    }
    upcoming = client.get(base + "me/").json()["upcoming"]
    assert upcoming[0]["session"] == {"n": 1, "of": 4}
    assert post(client, base + f"sessions/{booked.json()['id']}/cancel/", {}).json()["status"] == "cancelled"
    with scopes_disabled():
        assert Appointment.objects.get(pk=booked.json()["id"]).status == "cancelled"


@pytest.mark.django_db
def test_the_json_api_shows_only_the_patient_s_own_data(patient, clinic, outbox, tenant_a):  # noqa: F811
    other = PatientFactory(clinic=clinic, full_name="Outra Pessoa")
    theirs = book_session(None, patient=other, start=days_ahead(5))
    client = Client()
    base = f"/c/{clinic.portal_token}/api/"
    committed(lambda: post(client, base + "code/", {"contact": "maria@example.com"}))
    code = re.search(r"\b(\d{6})\b", outbox()[-1]["text"]).group(1)
    post(client, base + "code/verify/", {"contact": "maria@example.com", "code": code})
    refused = post(client, base + f"sessions/{theirs.pk}/cancel/", {})
    assert (refused.status_code, refused.json()["code"]) == (404, "not_found")
    assert "Outra Pessoa" not in client.get(base + "me/").content.decode()
    assert Client().get("/c/nope/api/me/").status_code == 404
    assert post(Client(), base + "code/", []).json()["fields"] == {"body": ["Send a JSON object."]}
