"""Journey: the demo owner logs in, switches clinic and language, logs out."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from clinic.demo import DEMO_PASSWORD


@pytest.mark.django_db(transaction=True)
def test_owner_logs_in_switches_clinic_and_language(page, screenshot_dir) -> None:
    call_command("seed_demo", stdout=StringIO())

    page.goto(page.base_url + "/")
    expect(page).to_have_url(page.base_url + "/accounts/login/?next=/")
    page.get_by_label("Usuário").fill("owner")
    page.get_by_label("Senha").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Entrar").click()

    expect(page.get_by_role("heading", name="Olá, Helena")).to_be_visible()
    expect(page.get_by_test_id("current-clinic")).to_have_text("Clínica Demo — Central")
    expect(page.get_by_role("link", name="Pacientes", exact=True)).to_be_visible()

    # Switch to the second clinic through the navbar.
    page.get_by_test_id("clinic-switcher").get_by_role("button").first.click()
    page.get_by_role("button", name="Clínica Demo — Moema").click()
    expect(page.get_by_test_id("current-clinic")).to_have_text("Clínica Demo — Moema")
    expect(page.get_by_test_id("dashboard-clinic")).to_contain_text("Clínica Demo — Moema")

    # Switch the language to German: the shell follows, the clinic stays.
    page.get_by_test_id("language-switcher").get_by_role("button").first.click()
    page.get_by_role("button", name="Deutsch").click()
    expect(page.get_by_role("link", name="Patienten", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Hallo, Helena")).to_be_visible()
    expect(page.get_by_test_id("current-clinic")).to_have_text("Clínica Demo — Moema")
    # Nothing overflows a laptop or a landscape tablet, even with German's longer labels.
    for width in (1024, 1200, 1366):
        page.set_viewport_size({"width": width, "height": 800})
        assert page.evaluate("document.documentElement.scrollWidth") <= width, width
    page.screenshot(path=str(screenshot_dir / "shell-owner-de.png"), full_page=True)

    # A tablet in portrait: the navigation collapses behind the toggler.
    page.set_viewport_size({"width": 820, "height": 1180})
    expect(page.get_by_role("link", name="Patienten", exact=True)).to_be_hidden()
    page.get_by_role("button", name="Navigation ein-/ausblenden").click()
    expect(page.locator("#main-nav")).to_have_class(re.compile(r"\bshow\b"))  # opened, animation over
    expect(page.get_by_role("link", name="Patienten", exact=True)).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "shell-owner-de-tablet.png"), full_page=True)

    page.get_by_test_id("user-menu").get_by_role("button").first.click()
    page.get_by_role("button", name="Abmelden").click()
    expect(page).to_have_url(page.base_url + "/accounts/login/")
