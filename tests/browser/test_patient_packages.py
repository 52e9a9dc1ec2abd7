"""Journey: a receptionist links a 10-session package from the catalog to a
patient, watching the price per session as the form is filled, sees the
balance on the patient's package list and the "created" row of its history."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from clinic.models import Role
from tests.browser.conftest import htmx_settled
from tests.conftest import make_member, make_tenant
from tests.factories import PASSWORD
from tests.packages.factories import ServiceFactory, make_template
from tests.patients.factories import PatientFactory


@pytest.mark.django_db(transaction=True)
def test_receptionist_links_a_template_package_and_reads_its_history(page, screenshot_dir) -> None:
    tenant = make_tenant("Clínica Sol")
    make_member(tenant, "recepcao", Role.RECEPTIONIST)
    physio = ServiceFactory(clinic=tenant.central, name="Fisioterapia", price=Decimal("100.00"))
    template = make_template(tenant.central, [(physio, 10)], name="Fisio 10 sessões", price=Decimal("1000.00"))
    patient = PatientFactory(clinic=tenant.central, full_name="Conceição Araújo", mobile="+5511987654321")

    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", "recepcao")
    page.fill("#id_password", PASSWORD)
    page.locator("button[type=submit]").first.click()

    page.goto(page.base_url + f"/patients/{patient.pk}/")
    expect(page.get_by_test_id("patient-packages")).to_be_visible()
    with page.expect_navigation():  # to the page's load: htmx listens to the template's select from then on
        page.get_by_test_id("file-link-package").click()

    # The mobile comes from the patient's file; choosing the template fills in
    # its sessions and price (htmx), and the price per session follows.
    expect(page.locator("#id_mobile")).to_have_value("+55 11 98765-4321")
    page.select_option("#id_template", str(template.pk))
    expect(page.locator("#id_sessions")).to_have_value("10")
    expect(page.locator("#id_total_price")).to_have_value("1000,00")
    expect(page.get_by_test_id("preview-per-session")).to_have_text("R$\xa0100,00")
    htmx_settled(page)  # the swapped-in sessions listen for typing from then on

    # Typing zero sessions shows why no price can be computed, never "NaN".
    page.fill("#id_sessions", "0")
    expect(page.get_by_test_id("preview-error")).to_be_visible()
    expect(page.get_by_test_id("price-preview")).not_to_contain_text("NaN")
    page.fill("#id_sessions", "3")
    expect(page.get_by_test_id("preview-per-session")).to_have_text("R$\xa0333,33")
    expect(page.get_by_test_id("preview-last")).to_contain_text("R$\xa0333,34")
    page.fill("#id_sessions", "10")
    expect(page.get_by_test_id("preview-per-session")).to_have_text("R$\xa0100,00")
    page.screenshot(path=str(screenshot_dir / "patient-package-link.png"), full_page=True)
    page.get_by_test_id("save-link").click()

    row = page.get_by_test_id("package-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("package-name")).to_have_text("Fisio 10 sessões")
    # "%(remaining)s of %(total)s", "10 de 10" once translated into pt-BR.
    expect(row.get_by_test_id("package-balance")).to_have_text(re.compile(r"^10 (de|of) 10$"))
    expect(row).to_contain_text("R$\xa01.000,00")
    page.screenshot(path=str(screenshot_dir / "patient-package-list.png"), full_page=True)

    row.get_by_test_id("balance-details").click()
    modal = page.get_by_test_id("balance-modal")
    expect(modal).to_be_visible()
    expect(modal.get_by_test_id("balance-free")).to_have_text("10")
    modal.locator("[data-bs-dismiss=modal]").first.click()
    expect(modal).to_be_hidden()

    row.get_by_test_id("package-history").click()
    created = page.locator("[data-testid=history-row][data-kind=created]")
    expect(created).to_have_count(1)
    expect(created).to_contain_text(re.compile(r"Pacote criado|Package created"))
    expect(created).to_contain_text("1.000,00")
    expect(page.get_by_test_id("package-summary")).to_contain_text("Fisio 10 sessões")
    page.screenshot(path=str(screenshot_dir / "patient-package-history.png"), full_page=True)
