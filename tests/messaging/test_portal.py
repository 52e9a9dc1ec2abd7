"""The patient's own page (X7): a one-time code (no enumeration, expiry,
tries, rate limit) or a signed link opens it; it shows only the patient's
own packages, sessions and receipts, and cancels inside the clinic's window."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scopes_disabled

from clinic.tenancy import organization_scope
from patients.portal.models import AccessCode
from patients.portal.services import patient_link
from scheduling.models import Appointment
from tests.conftest import login
from tests.messaging.conftest import book_session, committed, days_ahead, soon
from tests.patients.factories import PatientFactory


@pytest.fixture(autouse=True)
def english(tenant_a):
    """The patient's page speaks the clinic's language: English here."""
    tenant_a.central.language = "en"
    tenant_a.central.save(update_fields=["language"])


def portal(clinic) -> str:
    return f"/c/{clinic.portal_token}/"


def ask_code(client: Client, clinic, contact: str):
    return committed(lambda: client.post(portal(clinic), {"contact": contact}))


def sent_code(outbox) -> str:
    return re.search(r"\b(\d{6})\b", outbox()[-1]["text"]).group(1)


def signed_in(patient, outbox) -> Client:
    client = Client()
    ask_code(client, patient.clinic, "(11) 98765-4321")
    response = client.post(portal(patient.clinic) + "code/", {"code": sent_code(outbox)})
    assert response.status_code == 302
    assert response["Location"] == portal(patient.clinic) + "me/"
    return client


@pytest.mark.django_db
def test_asking_for_a_code_answers_the_same_whether_or_not_the_contact_is_on_file(patient, outbox):
    clinic = patient.clinic
    known, unknown = Client(), Client()
    assert ask_code(known, clinic, "(11) 98765-4321")["Location"] == portal(clinic) + "code/"
    assert ask_code(unknown, clinic, "(11) 91234-0000")["Location"] == portal(clinic) + "code/"
    page_known = known.get(portal(clinic) + "code/").content.decode().replace("(11) 98765-4321", "X")
    page_unknown = unknown.get(portal(clinic) + "code/").content.decode().replace("(11) 91234-0000", "X")
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub("", page_known) == strip.sub("", page_unknown)
    [message] = outbox()  # only the known contact got a code
    assert (message["channel"], message["to"]) == ("sms", "+5511987654321")
    assert re.match(r"\d{6} is your code to open your page at Alpha Central", message["text"])
    bad = Client().post(portal(clinic), {"contact": "abc"})
    assert bad.status_code == 200
    assert bad.context["form"].errors == {"contact": ["Type your mobile number or your e-mail."]}


@pytest.mark.django_db
def test_a_code_expires_allows_five_tries_and_works_once(patient, outbox):
    clinic = patient.clinic
    client = Client()
    ask_code(client, clinic, "maria@example.com")
    code = sent_code(outbox)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        refused = client.post(portal(clinic) + "code/", {"code": wrong})
        assert refused.status_code == 200
        assert "This code is not valid" in refused.content.decode()
    assert client.post(portal(clinic) + "code/", {"code": code}).status_code == 200  # six tries: spent
    ask_code(client, clinic, "maria@example.com")
    fresh = sent_code(outbox)
    with scopes_disabled():
        AccessCode.objects.filter(used_at__isnull=True).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client.post(portal(clinic) + "code/", {"code": fresh}).status_code == 200  # expired
    ask_code(client, clinic, "maria@example.com")
    last = sent_code(outbox)
    assert client.post(portal(clinic) + "code/", {"code": last}).status_code == 302
    other = Client()
    other.session  # noqa: B018
    assert other.post(portal(clinic) + "code/", {"code": last}).status_code == 302  # no contact asked: start again
    again = Client()
    ask_code(again, clinic, "maria@example.com")
    outbox_before = len(outbox())
    assert again.post(portal(clinic) + "code/", {"code": last}).status_code == 200  # used once already
    assert len(outbox()) == outbox_before


@pytest.mark.django_db
def test_asking_for_codes_is_rate_limited(patient, outbox):
    client = Client()
    for _ in range(5):
        assert ask_code(client, patient.clinic, "(11) 98765-4321").status_code == 302
    assert ask_code(client, patient.clinic, "(11) 98765-4321").status_code == 429
    assert len(outbox()) == 5


@pytest.mark.django_db
def test_the_page_shows_session_n_of_m_and_cancels_inside_the_window(patient, link, outbox, tenant_a):
    package = link(sessions=10, total="1000.00")
    first = book_session(package, start=days_ahead(3))
    book_session(package, start=days_ahead(4))
    close = book_session(package, start=soon(5))  # inside the 24-hour window
    client = signed_in(patient, outbox)
    page = client.get(portal(patient.clinic) + "me/").content.decode()
    assert "Hello, Maria Souza" in page
    assert "0 of 10 sessions used" in page
    assert "7 free to book" in page
    assert "session 2 of 10" in page
    assert "session 3 of 10" in page
    assert page.count('data-testid="portal-cancel"') == 2
    assert 'data-testid="portal-call"' in page
    response = client.post(portal(patient.clinic) + f"me/sessions/{first.pk}/cancel/")
    assert response.status_code == 302
    with scopes_disabled():
        assert Appointment.objects.get(pk=first.pk).status == "cancelled"
        package.refresh_from_db()
    assert package.sessions_booked == 2  # the package session was released
    refused = client.post(portal(patient.clinic) + f"me/sessions/{close.pk}/cancel/", follow=True)
    assert "too close to cancel here" in refused.content.decode()
    with scopes_disabled():
        assert Appointment.objects.get(pk=close.pk).status == "scheduled"
    assert "session 2 of 10" in client.get(portal(patient.clinic) + "me/").content.decode()  # second moved up


@pytest.mark.django_db
def test_a_patient_sees_only_their_own_data(patient, link, outbox, tenant_a, foreign_patient_b):
    other = PatientFactory(clinic=tenant_a.central, full_name="Outra Pessoa", mobile="+5511955555555")
    with organization_scope(tenant_a.organization):
        theirs = link(sessions=2, total="200.00", patient=other)
    their_session = book_session(theirs, start=days_ahead(5))
    client = signed_in(patient, outbox)
    base = portal(patient.clinic)
    assert client.post(base + f"me/sessions/{their_session.pk}/cancel/").status_code == 404
    assert client.get(base + f"me/packages/{theirs.pk}/session-card.pdf").status_code == 404
    assert client.get(base + "me/receipts/999999.pdf").status_code == 404
    assert "Outra Pessoa" not in client.get(base + "me/").content.decode()
    chosen = client.get(base + "me/", {"patient": other.pk})  # not one of theirs: ignored
    assert "Hello, Maria Souza" in chosen.content.decode()
    assert "Outra Pessoa" not in chosen.content.decode()
    # Signed in at one organization's clinic means nothing at another's.
    assert client.get(portal(foreign_patient_b.clinic) + "me/")["Location"] == portal(foreign_patient_b.clinic)
    assert Client().get("/c/not-a-token/").status_code == 404


@pytest.mark.django_db
def test_a_signed_link_opens_the_page_and_a_forged_or_foreign_one_does_not(patient, outbox, foreign_patient_b):
    link = patient_link(patient, patient.clinic)
    path = link.split("8000", 1)[1] if "8000" in link else link
    client = Client()
    assert client.get(path)["Location"] == portal(patient.clinic) + "me/"
    assert "Hello, Maria Souza" in client.get(portal(patient.clinic) + "me/").content.decode()
    forged = path.rstrip("/")[:-3] + "abc/"
    assert Client().get(forged).status_code == 410
    token = path.split("/e/", 1)[1]
    assert Client().get(portal(foreign_patient_b.clinic) + f"e/{token}").status_code == 410


@pytest.mark.django_db
def test_a_guardian_s_mobile_opens_each_child_s_page(tenant_a, outbox):
    kids = [PatientFactory(clinic=tenant_a.central, full_name=name, birth_date=dt.date(2016, 1, 1), mobile="",
                           guardian_name="Ana Lima", guardian_mobile="+5511933333333") for name in ("Bia Lima", "Caio Lima")]  # fmt: skip  # noqa: E501
    client = Client()
    ask_code(client, tenant_a.central, "+55 11 93333-3333")
    assert outbox()[-1]["to"] == "+5511933333333"
    client.post(portal(tenant_a.central) + "code/", {"code": sent_code(outbox)})
    page = client.get(portal(tenant_a.central) + "me/").content.decode()
    assert 'data-testid="portal-choose"' in page
    assert "Caio Lima" in page
    client.get(portal(tenant_a.central) + "me/", {"patient": kids[1].pk})
    assert "Hello, Caio Lima" in client.get(portal(tenant_a.central) + "me/").content.decode()


@pytest.mark.django_db
def test_the_cards_qr_code_opens_staff_s_package_page_or_the_patient_s_page(alice, patient, link):
    package = link(sessions=4, total="400.00")
    entry = portal(patient.clinic) + f"card/{package.pk}/"
    assert login(alice).get(entry)["Location"] == f"/patients/{patient.pk}/packages/{package.pk}/history/"
    assert Client().get(entry)["Location"] == portal(patient.clinic) + "me/"


@pytest.mark.django_db
def test_the_page_reads_in_constant_queries(patient, link, outbox):
    package = link(sessions=30, total="3000.00")
    book_session(package, start=days_ahead(2))
    client = signed_in(patient, outbox)

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(portal(patient.clinic) + "me/").status_code == 200
        return len(context.captured_queries)

    one = queries()
    for n in range(6):
        book_session(package, start=days_ahead(3 + n))
        book_session(package, start=timezone.now() - dt.timedelta(days=2 + n))
        link(sessions=2, total="100.00")
    assert queries() == one


@pytest.mark.django_db
def test_codes_per_contact_are_capped_however_it_is_typed_and_stored_without_the_code(patient, outbox, bob):
    clinic = patient.clinic
    for typed in ("(11) 98765-4321", "11987654321", "+55 11 98765 4321", "+5511987654321", "011 98765-4321",
                  "(11)987654321"):  # fmt: skip
        assert ask_code(Client(REMOTE_ADDR=f"10.0.0.{len(typed)}"), clinic, typed).status_code == 302
    assert len(outbox()) == 5  # the sixth, typed another way from another address, is not sent
    page = login(bob).get("/messages/").content.decode()
    assert "•••••• is your code" in page
    assert sent_code(outbox) not in page  # the code itself is kept nowhere in the app


@pytest.mark.django_db
def test_wrong_tries_are_counted_over_all_of_a_contact_s_codes(patient, outbox):
    clinic = patient.clinic
    for _ in range(2):
        client = Client()
        ask_code(client, clinic, "maria@example.com")
        code = sent_code(outbox)
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(5):
            client.post(portal(clinic) + "code/", {"code": wrong})
    client = Client()
    ask_code(client, clinic, "maria@example.com")
    assert client.post(portal(clinic) + "code/", {"code": sent_code(outbox)}).status_code == 200  # ten wrong: wait


@pytest.mark.django_db
def test_the_clinic_form_shows_its_public_address(alice, tenant_a, charlie):
    page = login(alice).get(f"/settings/clinics/{tenant_a.central.pk}/").content.decode()
    assert f"/c/{tenant_a.central.portal_token}/" in page
    assert login(charlie).get(f"/settings/clinics/{tenant_a.central.pk}/").status_code == 404
