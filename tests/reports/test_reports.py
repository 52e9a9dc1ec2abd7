"""The general package report (R1), its Excel export (R3) and the PDF
session card (R4, X7)."""

from __future__ import annotations

import datetime as dt
import subprocess
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from patients.models import AccessKind, AccessLog
from tests.billing.conftest import book_session, set_status
from tests.conftest import api_client, login
from tests.patients.factories import PatientFactory

D = Decimal


@pytest.fixture
def packages(patient, link, alice):
    """Three packages: active with use, finished, inactive."""
    with organization_scope(patient.organization_id):
        active = link(sessions=4, total="400.00")
        set_status(book_session(active), "attended")
        book_session(active)
        finished = link(sessions=1, total="90.00")
        set_status(book_session(finished), "attended")
        inactive = link(sessions=2, total="300.00")
        ledger.package_change(package=inactive, actor=alice, status="inactive")
    return active, finished, inactive


@pytest.mark.django_db
def test_the_report_lists_packages_with_seed_columns_and_totals(alice, packages):
    active, finished, inactive = packages
    response = login(alice).get("/reports/packages/")
    assert response.status_code == 200
    rows = {package.pk: (package, balance) for package, balance in response.context["rows"]}
    package, balance = rows[active.pk]
    assert (package.status, package.amount_total, package.amount_open, package.sessions_total, package.sessions_used,
            package.remaining, balance.free) == ("active", D("400.00"), D("300.00"), 4, 1, 3, 2)  # fmt: skip
    assert package.last_session is not None
    totals = response.context["totals"]
    assert (totals.packages, totals.amount_total, totals.amount_open, totals.sessions_remaining) == (
        3, D("790.00"), D("600.00"), 5,
    )  # fmt: skip
    finished_only = login(alice).get("/reports/packages/", {"status": "finished"}).context["rows"]
    assert [p.pk for p, _b in finished_only] == [finished.pk]
    by_remaining = login(alice).get("/reports/packages/", {"sort": "-remaining"}).context["rows"]
    assert [p.pk for p, _b in by_remaining] == [active.pk, inactive.pk, finished.pk]
    nothing = login(alice).get("/reports/packages/", {"start": "2000-01-01", "end": "2000-01-31"})
    assert nothing.context["rows"] == []
    bad = login(alice).get("/reports/packages/", {"start": "2026-12-10", "end": "2026-12-01"})
    assert list(bad.context["form"].errors) == ["end"]


@pytest.mark.django_db
def test_htmx_swaps_only_the_table(alice, packages):
    response = login(alice).get("/reports/packages/", {"status": "active"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="card')
    assert "status=active&amp;format=xlsx" in html  # the export follows the filters
    assert html.count('data-testid="report-row"') == 1


@pytest.mark.django_db
def test_the_report_reads_in_constant_queries(alice, patient, link):
    client = login(alice)

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            client.get("/reports/packages/")
        return len(context.captured_queries)

    with organization_scope(patient.organization_id):
        link(sessions=2, total="100.00")
    one = queries()
    with organization_scope(patient.organization_id):
        for n in range(12):
            other = PatientFactory(clinic=patient.clinic, full_name=f"Paciente {n}")
            link(sessions=3, total="300.00", patient=other)
    assert queries() == one


@pytest.mark.django_db
def test_the_excel_export_has_real_cells_and_logs_the_access(alice, packages, patient):
    _active, _finished, _inactive = packages
    response = api_client(alice).get("/api/v1/reports/packages.xlsx", {"status": "active"})
    assert response.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0].startswith("Package report — Status: Active")
    assert rows[1][:7] == ("Status", "Total value", "Current money balance", "Price per session", "Total sessions",
                           "Used sessions", "Remaining sessions")  # fmt: skip
    assert rows[2][:7] == ("Active", 400, 300, 100, 4, 1, 3)
    assert isinstance(rows[2][11], dt.date)
    assert isinstance(rows[2][12], dt.datetime)
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref == "A2:N3"
    assert sheet["B3"].number_format.startswith('"R$"')
    with scopes_disabled():
        assert AccessLog.objects.filter(patient=patient, channel="export").count() == 1
    bad = api_client(alice).get("/api/v1/reports/packages.xlsx", {"status": "nope"})
    assert (bad.status_code, list(bad.json()["fields"])) == (400, ["status"])


@pytest.mark.django_db
def test_reports_need_the_export_permission(bob):
    assert login(bob).get("/reports/packages/").status_code == 403
    assert api_client(bob).get("/api/v1/reports/packages.xlsx").status_code == 403


def _text(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)  # noqa: S607
    return done.stdout.decode()


def _page_size(pdf: bytes) -> str:
    done = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True)  # noqa: S607
    return next(line for line in done.stdout.decode().splitlines() if line.startswith("Page size"))


@pytest.mark.django_db
def test_the_session_card_lists_every_session_and_empty_numbered_rows(bob, alice, patient, link):
    from clinic.services import clinic_update

    with organization_scope(patient.organization_id):
        clinic_update(clinic=patient.clinic, legal_name="Alpha Fisioterapia Ltda.", tax_id="11222333000181",
                      address="Rua Augusta 1200, sala 4", phone="(11) 3123-4567")  # fmt: skip
        package = link(sessions=4, total="400.00")
        set_status(book_session(package), "attended")
        cancelled = book_session(package)
        set_status(cancelled, "cancelled")
        book_session(package)
    response = login(bob).get(f"/reports/packages/{package.pk}/session-card.pdf")
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
    text = _text(response.content)
    assert "Maria Ledger" in text
    assert package.number in text
    # The clinic's header: name, legal name with its CNPJ, address and phone.
    assert "Alpha Fisioterapia Ltda. · CNPJ 11.222.333/0001-81" in text
    assert "Rua Augusta 1200, sala 4 · +55 11 3123-4567" in text
    for n in range(1, 5):
        assert f"{n} of 4" in text
    assert "Attended" in text
    assert "Cancelled" in text
    assert "Scheduled" in text
    assert _page_size(response.content).endswith("(A4)")
    a5 = api_client(alice).get(f"/api/v1/patient-packages/{package.pk}/session-card.pdf", {"size": "A5"})
    assert a5.status_code == 200
    assert "419.528 x 595.276 pts" in _page_size(a5.content)  # A5 (148 x 210 mm)
    with scopes_disabled():
        assert (
            AccessLog.objects.filter(patient=patient, what=AccessKind.SESSION_CARD).count() == 2
        )  # the page and the API


@pytest.mark.django_db
def test_another_organizations_package_has_no_card_and_no_rows(alice, foreign_patient_b, link):
    with organization_scope(foreign_patient_b.organization_id):
        package = link(sessions=2, total="200.00", patient=foreign_patient_b)
    assert login(alice).get(f"/reports/packages/{package.pk}/session-card.pdf").status_code == 404
    response = api_client(alice).get(f"/api/v1/patient-packages/{package.pk}/session-card.pdf")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert login(alice).get("/reports/packages/").context["rows"] == []


@pytest.mark.django_db
def test_a_manual_change_reads_from_to_in_the_readers_locale_with_who(alice, patient, link):
    from tests.ledger.test_pages import _url, cells

    with organization_scope(patient.organization_id):
        package = link(sessions=10, total="1000.00")
        ledger.package_change(package=package, actor=alice, sessions_total=12, amount_total=D("1100.00"),
                              paid_at=dt.date(2026, 11, 30))  # fmt: skip
    client = login(alice)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "pt-br"
    rows = cells(client.get(_url(package, "history")).content, "history-row").rows
    assert rows[-1][3] == (
        "Pacote alterado: sessões: 10 \N{RIGHTWARDS ARROW} 12, valor total: R$\xa01.000,00 \N{RIGHTWARDS ARROW} "
        "R$\xa01.100,00, data de pagamento: — \N{RIGHTWARDS ARROW} 30/11/2026"
    )
    assert rows[-1][-1] == alice.get_full_name()


@pytest.mark.django_db
def test_sales_and_usage_and_packages_to_call(alice, patient, link, tenant_a):
    with organization_scope(patient.organization_id):
        big = link(sessions=4, total="400.00")
        for _ in range(2):
            set_status(book_session(big), "attended")
        small = link(sessions=2, total="150.00")
        book_session(small)
        book_session(small)  # nothing left to book: call the patient
        roomy = link(sessions=10, total="1000.00")
    client = login(alice)
    response = client.get("/reports/sales/")
    report = response.context["report"]
    assert (report.sold_packages, report.sold_value) == (3, D("1550.00"))
    assert (report.used_sessions, report.used_value) == (2, D("200.00"))
    calling = [p.pk for p in report.running_out]
    assert small.pk in calling
    assert big.pk in calling
    assert roomy.pk not in calling
    assert [p.pk for p in client.get("/reports/sales/", {"free_at_most": "0"}).context["report"].running_out] == [
        small.pk
    ]
    xlsx = client.get("/reports/sales/", {"format": "xlsx"})
    from openpyxl import load_workbook

    workbook = load_workbook(BytesIO(xlsx.content))
    assert workbook.sheetnames == ["Sold", "Used", "To call"]
    assert list(workbook["Sold"].iter_rows(min_row=3, values_only=True)) == [("Direct package", 3, 1550)]
    assert list(workbook["Used"].iter_rows(min_row=3, values_only=True)) == [("Direct package", 2, 200)]
    assert workbook["To call"].freeze_panes == "A3"


@pytest.mark.django_db
def test_a_patients_packages_in_excel_with_their_history(alice, bob, patient, link, foreign_patient_b):
    with organization_scope(patient.organization_id):
        package = link(sessions=4, total="400.00")
        set_status(book_session(package), "attended")
    response = login(alice).get(f"/reports/patients/{patient.pk}/packages.xlsx")
    from openpyxl import load_workbook

    workbook = load_workbook(BytesIO(response.content))
    assert workbook.sheetnames == ["Packages", "History"]
    packages = list(workbook["Packages"].iter_rows(min_row=3, values_only=True))
    assert [(row[0], row[4], row[5], row[6], row[7], row[8]) for row in packages] == [
        (package.number, 400, 300, 4, 1, 3)
    ]
    history = list(workbook["History"].iter_rows(min_row=3, values_only=True))
    assert [row[1] for row in history] == ["Created", "Session booked", "Session debited"]
    assert isinstance(history[0][2], dt.datetime)
    assert login(bob).get(f"/reports/patients/{patient.pk}/packages.xlsx").status_code == 403
    assert login(alice).get(f"/reports/patients/{foreign_patient_b.pk}/packages.xlsx").status_code == 404
    with scopes_disabled():
        assert AccessLog.objects.filter(patient=patient, what=AccessKind.PACKAGES_EXCEL).count() == 1
