"""Journeys (R1, R4): a manager filters the package report, exports it and
opens the file; a receptionist prints a patient's session card."""

from __future__ import annotations

import re
import subprocess
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from clinic.models import Role
from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from tests.conftest import make_member, make_tenant
from tests.factories import PASSWORD
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _login(page, username: str) -> None:
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("button[type=submit]").first.click()


def _packages():
    tenant = make_tenant("Clínica Sol")
    manager = make_member(tenant, "gerente", Role.MANAGER)
    make_member(tenant, "recepcao", Role.RECEPTIONIST)
    patient = PatientFactory(clinic=tenant.central, full_name="Conceição Araújo")
    other = PatientFactory(clinic=tenant.central, full_name="Bruno Lima")
    with organization_scope(tenant.organization):
        kept = ledger.package_link(patient=patient, clinic=tenant.central, actor=manager, sessions=10,
                                   total_price=Decimal("1000.00"))  # fmt: skip
        gone = ledger.package_link(patient=other, clinic=tenant.central, actor=manager, sessions=5,
                                   total_price=Decimal("500.00"))  # fmt: skip
        ledger.package_change(package=gone, actor=manager, status="inactive")
    return patient, kept


def test_manager_filters_the_package_report_and_exports_it(page, screenshot_dir) -> None:
    _patient, kept = _packages()
    _login(page, "gerente")
    page.goto(page.base_url + "/reports/")
    page.get_by_test_id("report-packages").click()
    expect(page.get_by_test_id("report-row")).to_have_count(2)
    page.select_option("#id_status", "active")  # htmx swaps the table
    expect(page.get_by_test_id("report-row")).to_have_count(1)
    expect(page.get_by_test_id("report-total-value")).to_have_text("R$\xa01.000,00")
    page.screenshot(path=str(screenshot_dir / "report-packages.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_test_id("report-xlsx").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    from io import BytesIO

    from openpyxl import load_workbook

    with open(download.value.path(), "rb") as handle:
        rows = list(load_workbook(BytesIO(handle.read())).active.iter_rows(values_only=True))
    assert rows[0][0].startswith("Relatório de pacotes")
    assert [row[8] for row in rows[2:]] == [kept.number]


def test_receptionist_prints_a_patients_session_card(page) -> None:
    patient, kept = _packages()
    _login(page, "recepcao")
    page.goto(page.base_url + f"/patients/{patient.pk}/packages/")
    link = page.get_by_test_id("session-card").first
    expect(link).to_have_attribute("href", f"/reports/packages/{kept.pk}/session-card.pdf")
    # What the browser gets on a click (headless Chromium downloads PDFs), in its language.
    response = page.request.get(page.base_url + link.get_attribute("href"), headers={"Accept-Language": "pt-BR"})
    assert response.headers["content-type"] == "application/pdf"
    text = subprocess.run(["pdftotext", "-", "-"], input=response.body(), capture_output=True, check=True).stdout  # noqa: S607
    assert "Conceição Araújo" in text.decode()
    assert "10 de 10" in text.decode()


def test_a_large_export_shows_its_progress_page_then_downloads(page, settings, tmp_path, screenshot_dir) -> None:
    settings.EXPORT_ASYNC_ROWS = 1  # two packages: written as a background export
    settings.MEDIA_ROOT = str(tmp_path)
    _packages()
    _login(page, "gerente")
    page.goto(page.base_url + "/reports/packages/")
    page.get_by_test_id("report-xlsx").click()
    expect(page).to_have_url(re.compile(r"/reports/exports/\d+/$"))
    expect(page.get_by_test_id("export-status")).to_have_attribute("data-status", "ready")
    expect(page.get_by_test_id("export-status")).to_contain_text("Seu arquivo está pronto")
    page.screenshot(path=str(screenshot_dir / "report-export-ready.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_test_id("export-download").click()
    from io import BytesIO

    from openpyxl import load_workbook

    with open(download.value.path(), "rb") as handle:
        rows = list(load_workbook(BytesIO(handle.read())).active.iter_rows(values_only=True))
    assert len(rows[2:]) == 2
    page.goto(page.base_url + "/reports/")
    expect(page.get_by_test_id("recent-exports").locator("li")).to_have_count(1)
