"""Journey: a receptionist registers a patient with a guardian, finds them by a
search typed without accents, and opens the file."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import Role
from tests.conftest import make_member, make_tenant
from tests.factories import PASSWORD
from tests.patients.conftest import make_professional


@pytest.mark.django_db(transaction=True)
def test_receptionist_registers_a_minor_with_guardian_and_finds_them(page, screenshot_dir) -> None:
    tenant = make_tenant("Clínica Sol")
    make_member(tenant, "recepcao", Role.RECEPTIONIST)
    physio = make_professional(tenant.central, "Marcos Pereira")
    birth = timezone.localdate() - dt.timedelta(days=10 * 365)

    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", "recepcao")
    page.fill("#id_password", PASSWORD)
    page.locator("button[type=submit]").first.click()

    page.goto(page.base_url + "/patients/")
    page.get_by_test_id("new-patient").click()
    page.fill("#id_full_name", "Conceição Araújo")
    page.fill("#id_birth_date", birth.isoformat())
    page.fill("#id_mobile", "(11) 98765-4321")
    page.get_by_label("Marcos Pereira").check()
    page.fill("#id_guardian_name", "Antônia Araújo")
    page.fill("#id_guardian_relationship", "Mãe")
    page.fill("#id_guardian_mobile", "(11) 91234-5678")
    page.check("#id_guardian_send_charges_whatsapp")
    page.check("#id_guardian_send_documents_email")
    page.screenshot(path=str(screenshot_dir / "patient-form.png"), full_page=True)
    page.get_by_test_id("save-patient").click()

    expect(page.get_by_test_id("patient-name")).to_have_text("Conceição Araújo")
    expect(page.get_by_test_id("guardian")).to_contain_text("Antônia Araújo")
    expect(page.get_by_test_id("guardian")).to_contain_text("+55 11 91234-5678")

    # Find her again typing without accents; the table updates as you type (htmx).
    page.goto(page.base_url + "/patients/")
    page.fill("#patient-search", "conceicao araujo")
    row = page.get_by_test_id("patient-table").get_by_role("link", name="Conceição Araújo")
    expect(row).to_be_visible()
    expect(page).to_have_url(page.base_url + "/patients/?q=conceicao%20araujo&status=active")
    page.screenshot(path=str(screenshot_dir / "patient-list-search.png"), full_page=True)
    row.click()
    expect(page.get_by_test_id("patient-name")).to_have_text("Conceição Araújo")
    expect(page.get_by_text("Marcos Pereira").first).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "patient-file.png"), full_page=True)
    assert physio.pk
