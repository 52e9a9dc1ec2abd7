"""Every list at 390 px: a table marked `table-stack` becomes one card per
row, so no cell (the package's balance, its status, its actions) is scrolled
out of sight, and no page is wider than the phone."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from clinic.demo import DEMO_PASSWORD, seed_demo

LISTS = [
    "/patients/",
    "/packages/",
    "/packages/services/",
    "/finance/payments/",
    "/reports/packages/",
    "/settings/professionals/",
    "/settings/rooms/",
    "/calendar/statuses/",
    "/messages/",
]

# Right edges of the cells of every stacked table, and the page's own width.
MEASURE = """() => {
  const cells = Array.from(document.querySelectorAll('table.table-stack tbody td'))
    .filter((cell) => cell.offsetParent !== null);
  return {
    page: document.documentElement.scrollWidth,
    cells: cells.length,
    widest: Math.max(0, ...cells.map((cell) => cell.getBoundingClientRect().right)),
    unlabelled: cells.filter((cell, i) => !cell.matches(':first-child') && !cell.hasAttribute('data-label')
      && !cell.hasAttribute('colspan') && cell.textContent.trim() && !cell.querySelector('.btn, form')).length,
  };
}"""


@pytest.mark.django_db(transaction=True)
def test_lists_fit_a_phone(browser, live_server, screenshot_dir) -> None:
    from packages.patient_packages.models import PatientPackage

    seed_demo()
    with scopes_disabled():
        patient_id = PatientPackage.objects.order_by("pk").values_list("patient_id", flat=True).first()
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="pt-BR")
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "owner")
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("button[type=submit]").first.click()
    page.wait_for_url(live_server.url + "/")

    for path in [*LISTS, f"/patients/{patient_id}/packages/"]:
        page.goto(live_server.url + path)
        figures = page.evaluate(MEASURE)
        assert figures["cells"] or path == "/messages/", (path, "no stacked list")  # the demo sent no message yet
        assert figures["page"] <= 390, (path, figures)
        assert figures["widest"] <= 390, (path, figures)
        assert figures["unlabelled"] == 0, (path, figures)

    # The package's balance, status and actions are on screen.
    row = page.get_by_test_id("package-row").first
    for part in (
        row.get_by_test_id("package-balance"),
        row.locator(".badge").last,
        row.get_by_test_id("package-history"),
    ):
        expect(part).to_be_in_viewport()
    page.screenshot(path=str(screenshot_dir / "package-list-390.png"), full_page=True)
    context.close()
