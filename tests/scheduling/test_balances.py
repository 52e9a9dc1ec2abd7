"""One vocabulary of balances (total, used, booked, remaining, free to book)
on the package list, the booking modal and the API, and "free to book" that
booking agrees with, also after a manual raise of the sessions."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from clinic.errors import ApplicationError
from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from packages.patient_packages.models import PatientPackage
from scheduling import services
from tests.conftest import api_client, login
from tests.packages.factories import ServiceLimitFactory, make_template
from tests.scheduling.conftest import at
from tests.scheduling.test_pages import booking_data

D = Decimal
pytestmark = pytest.mark.django_db


def _book(package: PatientPackage, start: dt.datetime, service, status: str = "scheduled"):
    with organization_scope(package.organization_id):
        return services.appointment_book(
            clinic=package.clinic, patient=package.patient, start=start, lines=[services.LineInput(service)],
            actor=None, patient_package=package, status=status,
        ).appointment  # fmt: skip


def _link(patient, template) -> PatientPackage:
    with organization_scope(patient.organization_id):
        return ledger.package_link(patient=patient, clinic=patient.clinic, actor=None, template=template)


def _bookable(package: PatientPackage, service, first: dt.datetime) -> int:
    """How many more sessions booking accepts, one after another, until it
    refuses for the budget or the sessions."""
    booked, refusal = 0, ""
    while not refusal:
        try:
            _book(package, first + dt.timedelta(hours=booked), service)
        except ApplicationError as error:
            refusal = error.code
        else:
            booked += 1
    assert refusal in ("budget_exceeded", "package_exhausted")
    return booked


@pytest.fixture
def limited(patient, physio_service, tenant_a) -> PatientPackage:
    """10 sessions whose budget allows 8 appointments: 3 attended, 2 booked."""
    template = make_template(
        tenant_a.central, [(physio_service, 10)], name="Fisio 10 (8 autorizadas)", price=D("1000.00"),
        max_appointments=8,
    )  # fmt: skip
    package = _link(patient, template)
    for day in (1, 2, 3):
        _book(package, at(day, 9, month=11), physio_service, status="attended")
    for day in (10, 11):
        _book(package, at(day, 9), physio_service)
    return package


def test_the_api_names_every_balance(alice, limited) -> None:
    body = api_client(alice).get(f"/api/v1/patient-packages/{limited.pk}/").json()
    balances = {name: body[name] for name in body if name.startswith("sessions_")}
    assert balances == {
        "sessions_total": 10,
        "sessions_used": 3,
        "sessions_booked": 2,
        "sessions_remaining": 7,
        # 10 - 3 - 2 = 5 are neither used nor booked, but the budget lets 8 - 5 = 3 be booked.
        "sessions_available": 3,
    }
    assert body["budget"]["limiting"] == {"kind": "appointments", "service": None}
    (limit,) = body["budget"]["limits"]
    assert (limit["used"], limit["booked"], limit["remaining"], limit["level"]) == ("3", "2", "3", "ok")


def test_the_package_list_shows_remaining_and_free_to_book_side_by_side(alice, patient, limited) -> None:
    html = login(alice).get(f"/patients/{patient.pk}/packages/", headers={"accept-language": "en"}).content.decode()
    row = html.split(f'data-package-id="{limited.pk}"')[1].split("</tr>")[0]
    assert '<span class="package-balance" data-testid="package-balance">7 of 10</span>' in row
    assert re.search(r'data-testid="package-free">\s*3 free to book', row)
    modal = html.split(f'id="balance-{limited.pk}"')[1].split('class="modal-footer"')[0]
    figures = dict(re.findall(r'data-testid="balance-(\w+)">(\d+)<', modal))
    assert figures == {"total": "10", "used": "3", "booked": "2", "remaining": "7", "free": "3"}
    assert "The budget limit “at most 8 appointments” leaves 3 sessions to book." in modal


def test_the_booking_modal_uses_the_same_words(bob, patient, physio_service, limited) -> None:
    client = login(bob)
    html = client.get(
        "/calendar/book/packages/", booking_data(patient, physio_service, start="2026-12-20T09:00"),
        headers={"accept-language": "en"},
    ).content.decode()  # fmt: skip
    assert re.search(r'data-testid="option-balance">7 of 10 remaining · 3 free to book</span>', html)
    assert "3 used" in html
    assert "3 booked" in html  # the 2 to come and this booking


def test_free_to_book_is_what_booking_accepts(patient, physio_service, limited) -> None:
    with organization_scope(patient.organization_id):
        assert _bookable(limited, physio_service, at(20, 9)) == 3


def test_a_package_without_limits_shows_one_figure(alice, link, patient) -> None:
    package = link(5, "500.00")
    body = api_client(alice).get(f"/api/v1/patient-packages/{package.pk}/").json()
    assert (body["sessions_remaining"], body["sessions_available"], body["budget"]) == (5, 5, None)
    html = login(alice).get(f"/patients/{patient.pk}/packages/").content.decode()
    assert 'data-testid="package-free"' not in html  # free to book = remaining: said once


# A manual raise of the sessions (K7) and the budget limits


@pytest.fixture
def joao(patient, physio_service, tenant_a) -> PatientPackage:
    """João's package: 10 physiotherapy sessions, at most 10 of them, all 10 taken."""
    template = make_template(tenant_a.central, [(physio_service, 10)], name="Fisio 10", price=D("1000.00"))
    ServiceLimitFactory(template=template, service=physio_service, max_quantity=10)
    package = _link(patient, template)
    for day in range(1, 9):
        _book(package, at(day, 9, month=11), physio_service, status="attended")
    for day in (10, 11):
        _book(package, at(day, 9), physio_service)
    return package


def test_raising_the_sessions_asks_what_the_limits_do(alice, joao) -> None:
    response = api_client(alice).patch(f"/api/v1/patient-packages/{joao.pk}/", {"sessions_total": 12})
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "limits": ["This package has budget limits: choose whether they grow with the new sessions or stay."]
    }
    joao.refresh_from_db()
    assert joao.sessions_total == 10


@pytest.mark.parametrize(("limits", "free"), [("keep", 0), ("grow", 2)])
def test_after_a_raise_free_to_book_and_booking_agree(alice, patient, physio_service, joao, limits, free) -> None:
    client = api_client(alice)
    body = client.patch(f"/api/v1/patient-packages/{joao.pk}/", {"sessions_total": 12, "limits": limits}).json()
    assert (body["sessions_remaining"], body["sessions_booked"], body["sessions_available"]) == (4, 2, free)
    if limits == "keep":
        # The limit that stays is named: 10 of 10 physiotherapy sessions.
        assert body["budget"]["limiting"] == {"kind": "service_quantity", "service": physio_service.pk}
        assert body["budget"]["limits"][0]["limit"] == "10"
    else:
        assert body["budget"]["limiting"] is None
        assert body["budget"]["limits"][0]["limit"] == "12"
    with organization_scope(patient.organization_id):
        assert _bookable(joao, physio_service, at(20, 9)) == free
    history = client.get(f"/api/v1/patient-packages/{joao.pk}/history/").json()["results"]
    changed = [row["note"] for row in history if row["kind"] == "manual_change"]
    assert changed == (
        [
            "Package changed: sessions: 10 \N{RIGHTWARDS ARROW} 12, budget limits: grow with the sessions, "
            "limit of Fisioterapia: 10 \N{RIGHTWARDS ARROW} 12"
        ]
        if limits == "grow"
        else ["Package changed: sessions: 10 \N{RIGHTWARDS ARROW} 12, budget limits: stay as they were"]
    )


def test_the_edit_page_asks_and_says_which_limit_stays(alice, patient, joao) -> None:
    client = login(alice)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    url = f"/patients/{patient.pk}/packages/{joao.pk}/edit/"
    page = client.get(url).content.decode()
    assert 'data-testid="limits-choice"' in page
    assert "Its limits: at most 10 × Fisioterapia." in page  # noqa: RUF001
    data = {"sessions_total": "12", "amount_total": "1000.00", "paid_at": "", "status": "active", "notes": ""}
    refused = client.post(url, data)
    assert refused.status_code == 200
    assert refused.context["form"].errors["limits"] == [
        "This package has budget limits: choose whether they grow with the new sessions or stay."
    ]
    saved = client.post(url, data | {"limits": "keep"}, follow=True)
    texts = [str(message) for message in saved.context["messages"]]
    assert texts[-1] == (
        "The budget limits stay as they were: at most 10 × Fisioterapia. 0 sessions are free to book."  # noqa: RUF001
    )
    with scopes_disabled():
        assert PatientPackage.objects.get(pk=joao.pk).sessions_total == 12


def test_a_package_without_limits_is_not_asked(alice, patient, link) -> None:
    package = link(4, "400.00")
    client = login(alice)
    url = f"/patients/{patient.pk}/packages/{package.pk}/edit/"
    assert 'data-testid="limits-choice"' not in client.get(url).content.decode()
    data = {"sessions_total": "6", "amount_total": "400.00", "paid_at": "", "status": "active", "notes": ""}
    assert client.post(url, data).status_code == 302
    assert api_client(alice).get(f"/api/v1/patient-packages/{package.pk}/").json()["sessions_available"] == 6
