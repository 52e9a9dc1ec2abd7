"""Journeys at the front desk (B2, B3, K11), in pt-BR: a receptionist takes a
card payment for two sessions from the receivables list; pays a session
from a package, confirming the price adjustment; removes the paid session
and sees the package's balance come back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import Role
from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from scheduling import services
from tests.conftest import make_member, make_tenant
from tests.factories import PASSWORD
from tests.packages.factories import ServiceFactory
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _setup():
    tenant = make_tenant("Clínica Sol")
    receptionist = make_member(tenant, "recepcao", Role.RECEPTIONIST)
    physio = ServiceFactory(clinic=tenant.central, name="Fisioterapia", price=Decimal("120.00"))
    patient = PatientFactory(clinic=tenant.central, full_name="Conceição Araújo")
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    with organization_scope(tenant.organization):
        for day in range(2):
            services.appointment_book(
                clinic=tenant.central, patient=patient, start=start + dt.timedelta(days=day),
                lines=[services.LineInput(physio)], actor=receptionist,
            )  # fmt: skip
    return tenant, receptionist, patient


def _login(page) -> None:
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", "recepcao")
    page.fill("#id_password", PASSWORD)
    page.locator("button[type=submit]").first.click()


def test_receptionist_takes_a_card_payment_for_two_sessions(page, screenshot_dir) -> None:
    _tenant, _receptionist, patient = _setup()
    _login(page)
    page.goto(page.base_url + f"/finance/?patient={patient.pk}")
    rows = page.get_by_test_id("receivable-row")
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("total-open")).to_have_text("R$\xa0240,00")
    for i in range(2):
        rows.nth(i).locator("input[type=checkbox]").check()
    page.get_by_test_id("pay-selected").click()
    expect(page.get_by_test_id("selected-total")).to_have_text("R$\xa0240,00")
    page.get_by_label("Cartão").check()
    page.screenshot(path=str(screenshot_dir / "billing-pay-card.png"), full_page=True)
    page.get_by_test_id("confirm-payment").click()
    expect(page.get_by_test_id("payment-amount")).to_have_text("R$\xa0240,00")
    expect(page.get_by_test_id("allocation")).to_have_count(2)
    page.goto(page.base_url + f"/finance/?patient={patient.pk}&status=paid")
    expect(page.get_by_test_id("receivable-status")).to_have_text(["Pago", "Pago"])
    expect(page.get_by_test_id("total-open")).to_have_text("R$\xa00,00")


def test_receptionist_pays_from_a_package_confirms_the_price_then_removes_it(page, screenshot_dir) -> None:
    tenant, receptionist, patient = _setup()
    with organization_scope(tenant.organization):
        package = ledger.package_link(patient=patient, clinic=tenant.central, actor=receptionist, sessions=10,
                                      total_price=Decimal("1000.00"))  # fmt: skip
    _login(page)
    # From the package: "pay existing sessions".
    page.goto(page.base_url + f"/patients/{patient.pk}/packages/")
    page.get_by_test_id("pay-existing-sessions").click()
    expect(page.get_by_test_id("paying-from-package")).to_be_visible()
    page.get_by_test_id("pay-one").first.click()
    expect(page.locator("#id_patient_package")).to_have_value(str(package.pk))
    page.get_by_test_id("confirm-payment").click()
    # The session costs 120,00 and the package's sessions are worth 100,00: confirm.
    mismatch = page.get_by_test_id("price-mismatch")
    expect(mismatch).to_contain_text("R$\xa0120,00")
    expect(mismatch).to_contain_text("R$\xa0100,00")
    page.screenshot(path=str(screenshot_dir / "billing-price-mismatch.png"), full_page=True)
    page.get_by_test_id("confirm-payment").click()
    expect(page.get_by_test_id("payment-method")).to_contain_text(package.number)
    expect(page.get_by_test_id("payment-amount")).to_have_text("R$\xa0100,00")
    page.goto(page.base_url + f"/patients/{patient.pk}/packages/")
    expect(page.get_by_test_id("package-open")).to_have_text("R$\xa0900,00")

    # Remove the paid session: the package gets it back.
    page.go_back()
    page.get_by_label("Fisioterapia", exact=False).first.check()
    page.get_by_test_id("confirm-refund").click()
    expect(page.locator(".alert-success")).to_be_visible()
    page.goto(page.base_url + f"/patients/{patient.pk}/packages/")
    expect(page.get_by_test_id("package-open")).to_have_text("R$\xa01.000,00")
    # Both sessions owe their price again, beside the package's own sale.
    page.goto(page.base_url + f"/finance/?patient={patient.pk}")
    expect(page.get_by_test_id("total-open")).to_have_text("R$\xa01.240,00")
