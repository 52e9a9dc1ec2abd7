"""A professional's calendar as an iCalendar feed behind a secret,
revocable link; patient names by initials unless the organization chose
full names."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled
from icalendar import Calendar

from clinic.models import Organization, Professional
from clinic.tenancy import organization_scope
from packages.catalog.models import Service
from scheduling import services
from tests.conftest import login
from tests.factories import ProfessionalFactory
from tests.messaging.conftest import days_ahead
from tests.packages.factories import ServiceFactory


@pytest.fixture
def renata(tenant_a, paula):
    return ProfessionalFactory(clinic=tenant_a.central, organization=tenant_a.organization, name="Renata Costa",
                               user=paula)  # fmt: skip


def book(patient, professional, start):
    with scopes_disabled():
        service = Service.objects.filter(
            clinic=patient.clinic, name="Fisioterapia").first()  # fmt: skip
    service = service or ServiceFactory(clinic=patient.clinic, name="Fisioterapia", price=Decimal("100.00"))
    with organization_scope(patient.organization_id):
        return services.appointment_book(clinic=patient.clinic, patient=patient, start=start, professional=professional,
                                         lines=[services.LineInput(service)], actor=None).appointment  # fmt: skip


def token_of(professional) -> str | None:
    with scopes_disabled():
        return Professional.objects.get(pk=professional.pk).calendar_token


@pytest.mark.django_db
def test_a_professional_subscribes_to_their_calendar_and_revokes_the_link(paula, alice, renata, patient, tenant_a):
    book(patient, renata, days_ahead(2, 9))
    cancelled = book(patient, renata, days_ahead(3, 9))
    from tests.messaging.conftest import set_status

    set_status(cancelled, "cancelled")
    client = login(paula)
    assert "Renata Costa" in client.get("/calendar/subscriptions/").content.decode()
    client.post("/calendar/subscriptions/", {"professional": renata.pk, "action": "renew"})
    token = token_of(renata)
    assert token
    assert len(token) >= 40
    response = Client().get(f"/calendar/feed/{token}.ics")
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    events = [c for c in Calendar.from_ical(response.content).walk("VEVENT")]
    assert [str(e["summary"]) for e in events] == ["M. S."]  # initials, no service; the cancelled one is left out
    assert events[0].decoded("dtstart") == days_ahead(2, 9)
    with scopes_disabled():
        Organization.objects.filter(pk=tenant_a.organization.pk).update(calendar_names="full")
    full = Calendar.from_ical(Client().get(f"/calendar/feed/{token}.ics").content)
    assert [str(e["summary"]) for e in full.walk("VEVENT")] == ["Maria Souza · Fisioterapia"]

    client.post("/calendar/subscriptions/", {"professional": renata.pk, "action": "renew"})
    assert Client().get(f"/calendar/feed/{token}.ics").status_code == 404  # the old link is dead
    client.post("/calendar/subscriptions/", {"professional": renata.pk, "action": "revoke"})
    assert token_of(renata) is None
    # The owner manages every professional of the clinic.
    login(alice).post("/calendar/subscriptions/", {"professional": renata.pk, "action": "renew"})
    assert token_of(renata) is not None


@pytest.mark.django_db
def test_nobody_manages_another_s_subscription(bob, charlie, renata, tenant_b):
    foreign = ProfessionalFactory(clinic=tenant_b.central, organization=tenant_b.organization)
    assert (
        login(bob).post("/calendar/subscriptions/", {"professional": renata.pk, "action": "renew"}).status_code == 404
    )
    assert login(charlie).post("/calendar/subscriptions/",
                               {"professional": renata.pk, "action": "renew"}).status_code == 404  # fmt: skip
    assert token_of(renata) is None
    assert "Renata Costa" not in login(charlie).get("/calendar/subscriptions/").content.decode()
    assert Client().get("/calendar/feed/not-a-token.ics").status_code == 404
    assert foreign.calendar_token is None


@pytest.mark.django_db
def test_the_feed_reads_in_constant_queries(paula, renata, patient):
    client = login(paula)
    client.post("/calendar/subscriptions/", {"professional": renata.pk, "action": "renew"})
    url = f"/calendar/feed/{token_of(renata)}.ics"
    book(patient, renata, days_ahead(2, 8))

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert Client().get(url).status_code == 200
        return len(context.captured_queries)

    one = queries()
    for n in range(6):
        book(patient, renata, days_ahead(4 + n, 8) + dt.timedelta(minutes=0))
    assert queries() == one
