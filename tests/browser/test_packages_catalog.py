"""Journey: a manager at the central clinic builds a shared package template
from services; a receptionist of the second clinic sees it, read-only."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from clinic.demo import DEMO_PASSWORD

# Elements are found by ids, test ids and hrefs: the UI is translated.


def _log_in(page, username: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": page.base_url}])
    page.goto(page.base_url + "/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("#id_password").press("Enter")
    expect(page.get_by_test_id("current-clinic")).to_be_visible()


def _log_out(page) -> None:
    page.get_by_test_id("user-menu").get_by_role("button").first.click()
    page.locator("form[action='/accounts/logout/'] button").click()
    expect(page).to_have_url(page.base_url + "/accounts/login/")


@pytest.mark.django_db(transaction=True)
def test_manager_shares_a_template_and_the_second_clinic_sees_it_read_only(page, screenshot_dir) -> None:
    call_command("seed_demo", stdout=StringIO())

    _log_in(page, "manager")
    expect(page.get_by_test_id("current-clinic")).to_have_text("Clínica Demo — Central")
    page.locator("a.nav-link[href='/packages/']").click()
    expect(page.get_by_test_id("templates-table")).to_be_visible()
    page.get_by_test_id("new-template").click()

    page.locator("#id_name").fill("Fisioterapia intensiva 10 + avaliação")
    page.locator("#id_price").fill("1200.00")
    page.locator("#id_items-0-service").select_option(label="FIS-SES · Sessão de fisioterapia")
    page.locator("#id_items-0-quantity").fill("10")
    # The summary computes the price per session as one types.
    expect(page.get_by_test_id("preview-per-session")).to_have_text(re.compile(r"R\$\s120\.00"))
    page.get_by_test_id("add-item").click()
    page.locator("#id_items-1-service").select_option(label="FIS-AVA · Avaliação fisioterapêutica")
    expect(page.get_by_test_id("preview-sessions")).to_have_text("11")
    expect(page.get_by_test_id("preview-per-session")).to_have_text(re.compile(r"R\$\s109\.09"))
    expect(page.get_by_test_id("preview-last")).to_contain_text("109.10")
    page.locator("#id_validity_days").fill("90")
    page.locator("#id_posting").select_option("total")
    page.locator("#id_commission_kind").select_option("percent")
    page.locator("#id_commission_value").fill("30")
    page.locator("#id_max_appointments").fill("11")
    page.locator("#id_is_shared").check()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    page.screenshot(path=str(screenshot_dir / "packages-template-form.png"), full_page=True)
    page.get_by_test_id("save-template").click()

    expect(page.get_by_test_id("template-name")).to_have_text("Fisioterapia intensiva 10 + avaliação")
    expect(page.get_by_test_id("template-sessions")).to_contain_text("11")
    expect(page.get_by_test_id("template-actions")).to_be_visible()
    detail_url = page.url
    _log_out(page)

    _log_in(page, "reception2")
    expect(page.get_by_test_id("current-clinic")).to_have_text("Clínica Demo — Moema")
    page.goto(page.base_url + "/packages/?name=intensiva")
    row = page.get_by_test_id("template-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("shared-by")).to_be_visible()
    expect(row.get_by_test_id("edit-template")).to_have_count(0)
    expect(row.get_by_test_id("deactivate-template")).to_have_count(0)
    expect(page.get_by_test_id("new-template")).to_have_count(0)
    page.set_viewport_size({"width": 820, "height": 1180})
    page.screenshot(path=str(screenshot_dir / "packages-list-second-clinic-tablet.png"), full_page=True)
    row.get_by_test_id("view-template").click()
    expect(page).to_have_url(detail_url)
    expect(page.get_by_test_id("read-only-notice")).to_be_visible()
    expect(page.get_by_test_id("template-actions")).to_have_count(0)
    expect(page.get_by_test_id("own-items-form")).to_have_count(0)
    expect(page.get_by_test_id("item-row")).to_have_count(2)
    expect(page.get_by_test_id("template-per-session")).to_contain_text("109.09")
    assert page.evaluate("document.documentElement.scrollWidth") <= 820
    page.screenshot(path=str(screenshot_dir / "packages-template-read-only.png"), full_page=True)
