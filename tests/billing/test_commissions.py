"""Commissions (B5) and the day's cash summary."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scopes_disabled

from billing.commissions import commission_report
from clinic.tenancy import organization_scope
from packages.patient_packages.models import PatientPackage
from scheduling import services
from tests.billing.conftest import book_session, fresh, receivable_of, refund, set_status, take
from tests.conftest import api_client, login
from tests.factories import ProfessionalFactory

D = Decimal


@pytest.fixture
def therapists(tenant_a):
    return (
        ProfessionalFactory(clinic=tenant_a.central, organization=tenant_a.organization, name="Ana Fisio"),
        ProfessionalFactory(clinic=tenant_a.central, organization=tenant_a.organization, name="Bruno Pilates"),
    )


def _with_commission(package, kind: str, value: str) -> PatientPackage:
    with scopes_disabled():
        PatientPackage.objects.filter(pk=package.pk).update(commission_kind=kind, commission_value=D(value))
    return fresh(package)


def _attend(package, professional, alice):
    appointment = book_session(package)
    with organization_scope(package.organization_id):
        services.appointment_update(appointment=appointment, actor=alice, professional=professional)
    set_status(appointment, "attended")
    return appointment


def _today(clinic) -> dt.date:
    return timezone.localdate(timezone=ZoneInfo(clinic.time_zone))


@pytest.mark.django_db
def test_debited_sessions_earn_and_credits_reverse(link, alice, therapists, patient, scope):
    ana, bruno = therapists
    percent = _with_commission(link(sessions=4, total="400.00"), "percent", "30.00")
    fixed = _with_commission(link(sessions=4, total="300.00"), "fixed", "25.00")
    first = _attend(percent, ana, alice)
    _attend(percent, ana, alice)
    _attend(fixed, bruno, alice)
    set_status(first, "scheduled")  # credited back: the commission is reversed
    link(sessions=2, total="200.00")  # no commission: not in the report
    today = _today(patient.clinic)
    report = commission_report(clinic=patient.clinic, start=today, end=today)
    assert [(row.name, row.sessions, row.total) for row in report] == [
        ("Ana Fisio", 1, D("30.00")),
        ("Bruno Pilates", 1, D("25.00")),
    ]
    assert [(line.value, line.commission, line.reversal) for line in report[0].lines] == [
        (D("100.00"), D("30.00"), False), (D("100.00"), D("30.00"), False), (D("-100.00"), D("-30.00"), True),
    ]  # fmt: skip
    only_bruno = commission_report(clinic=patient.clinic, start=today, end=today, professional=bruno.pk)
    assert [row.name for row in only_bruno] == ["Bruno Pilates"]
    yesterday = today - dt.timedelta(days=1)
    assert commission_report(clinic=patient.clinic, start=yesterday, end=yesterday) == []


@pytest.mark.django_db
def test_commissions_api_page_and_excel(link, alice, therapists, patient, tenant_b, charlie):
    ana, _bruno = therapists
    with organization_scope(patient.organization_id):
        package = _with_commission(link(sessions=4, total="400.00"), "percent", "30.00")
        _attend(package, ana, alice)
    today = _today(patient.clinic).isoformat()
    body = api_client(alice).get("/api/v1/reports/commissions/", {"start": today, "end": today}).json()
    assert (body["total"], body["professionals"][0]["name"], body["professionals"][0]["total"]) == (
        "30.00", "Ana Fisio", "30.00",
    )  # fmt: skip
    assert body["professionals"][0]["lines"][0]["commission"] == "30.00"
    bad = api_client(alice).get("/api/v1/reports/commissions/", {"start": today, "end": "2000-01-01"})
    assert (bad.status_code, list(bad.json()["fields"])) == (400, ["end"])
    # Another organization sees none of it.
    other = api_client(charlie).get("/api/v1/reports/commissions/", {"start": today, "end": today}).json()
    assert other["professionals"] == []
    page = login(alice).get("/finance/commissions/", {"start": today, "end": today})
    assert page.content.decode().count('data-testid="commission-line"') == 1
    xlsx = login(alice).get("/finance/commissions/", {"start": today, "end": today, "format": "xlsx"})
    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "Professional"
    assert (rows[2][0], rows[2][5], rows[2][6]) == ("Ana Fisio", 100, 30)
    assert sheet.freeze_panes == "A3"
    assert sheet["G3"].number_format.startswith('"R$"')
    assert isinstance(rows[2][1], dt.datetime)


@pytest.mark.django_db
def test_a_receptionist_may_not_read_commissions(bob):
    assert (
        api_client(bob).get("/api/v1/reports/commissions/", {"start": "2026-01-01", "end": "2026-01-31"}).status_code
        == 403
    )
    assert login(bob).get("/finance/commissions/").status_code == 403


@pytest.mark.django_db
def test_the_commission_report_reads_in_constant_queries(link, alice, therapists, patient, scope):
    ana, bruno = therapists
    package = _with_commission(link(sessions=20, total="2000.00"), "percent", "10.00")
    _attend(package, ana, alice)
    today = _today(patient.clinic)

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            commission_report(clinic=patient.clinic, start=today, end=today)
        return len(context.captured_queries)

    one = queries()
    for n in range(8):
        _attend(package, ana if n % 2 else bruno, alice)
    assert queries() == one


@pytest.mark.django_db
def test_the_cash_summary_adds_up_the_day_by_method(bob, patient, link):
    with organization_scope(patient.organization_id):
        first, second, third = (receivable_of(book_session(None, patient=patient)) for _ in range(3))
        take(patient, "100.00", [first], method="cash")
        card = take(patient, "150.00", [second], method="card")
        refund(card, amount="20.00")
        from tests.billing.conftest import pay_from

        pay_from(link(sessions=4, total="400.00"), [third])
    html = login(bob).get("/finance/cash/").content.decode()
    row = lambda method: html.split(f'data-testid="cash-{method}"')[1].split("</tr>")[0]  # noqa: E731
    assert "R$\xa0100.00" in row("cash")
    assert "R$\xa0150.00" in row("card")
    assert "R$\xa020.00" in row("card")
    assert "R$\xa0130.00" in row("card")
    assert "R$\xa0100.00" in row("package")
    assert 'data-testid="cash-total">R$\xa0230.00' in html  # money only: the package session is not cash
    yesterday = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    empty = login(bob).get("/finance/cash/", {"day": yesterday}).content.decode()
    assert 'data-testid="cash-total">R$\xa00.00' in empty
