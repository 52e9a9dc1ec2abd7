"""Journey: a receptionist opens the calendar, clicks a free slot, books a
session against the patient's package (watching its budget bar), sees it on
the calendar, marks it attended in the modal (the package shows one session
used), and a booking past the package's budget shows the budget error."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from clinic.models import Role
from clinic.tenancy import organization_scope
from packages import ledger
from scheduling.models import Appointment
from tests.conftest import make_member, make_tenant
from tests.factories import PASSWORD, ProfessionalFactory
from tests.packages.factories import ServiceFactory, make_template
from tests.patients.factories import PatientFactory


def click_slot(page, day: dt.date, time: str) -> None:
    """Click the calendar's empty slot at `time` ("10:00:00") of `day`."""
    column = page.locator(f".fc-timegrid-col[data-date='{day.isoformat()}']").bounding_box()
    row = page.locator(f".fc-timegrid-slot-lane[data-time='{time}']").bounding_box()
    assert column
    assert row
    page.mouse.click(column["x"] + column["width"] / 2, row["y"] + row["height"] / 2)


@pytest.mark.django_db(transaction=True)
def test_receptionist_books_marks_attended_and_hits_the_budget(page, screenshot_dir) -> None:
    tenant = make_tenant("Clínica Sol")
    make_member(tenant, "recepcao", Role.RECEPTIONIST)
    physio = ServiceFactory(clinic=tenant.central, name="Fisioterapia", price=Decimal("100.00"), duration_minutes=50)
    ProfessionalFactory(clinic=tenant.central, organization=tenant.organization, name="Renata Costa")
    template = make_template(
        tenant.central, [(physio, 10)], name="Fisio convênio", price=Decimal("1000.00"), max_amount=Decimal("200.00")
    )
    patient = PatientFactory(clinic=tenant.central, full_name="Conceição Araújo")
    with organization_scope(tenant.organization):
        package = ledger.package_link(patient=patient, clinic=tenant.central, actor=None, template=template)

    # A Wednesday of next week, in the clinic's time zone.
    today = timezone.now().astimezone(ZoneInfo("America/Sao_Paulo")).date()
    day = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=9)

    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", "recepcao")
    page.fill("#id_password", PASSWORD)
    page.locator("button[type=submit]").first.click()
    page.goto(page.base_url + f"/calendar/?date={day.isoformat()}")
    expect(page.locator(".fc-timegrid-slot-lane[data-time='10:00:00']")).to_be_visible()

    # Click the free slot at 10:00: the modal opens with the start prefilled.
    click_slot(page, day, "10:00:00")
    modal = page.get_by_test_id("appointment-modal")
    expect(modal.locator("#id_start")).to_have_value(f"{day.isoformat()}T10:00")
    modal.locator("#id_patient").select_option(str(patient.pk))
    modal.locator("#id_lines-0-service").select_option(str(physio.pk))
    expect(modal.locator("#id_lines-0-price")).to_have_value("100.00")
    option = modal.locator(f"[data-testid=package-option][data-package='{package.pk}']")
    expect(option.locator("input[type=radio]")).to_be_checked()
    expect(option.get_by_test_id("budget-bar")).to_have_attribute("data-level", "ok")  # 100 of 200
    page.screenshot(path=str(screenshot_dir / "calendar-booking-modal.png"))
    modal.get_by_test_id("save-appointment").click()
    expect(modal).to_be_hidden()

    event = page.get_by_test_id("calendar-event").filter(has_text="Conceição Araújo")
    expect(event).to_have_count(1)
    expect(event).to_have_attribute("data-status", "scheduled")
    with scopes_disabled():
        appointment = Appointment.objects.get(patient=patient)
    assert appointment.start == dt.datetime.combine(day, dt.time(10), tzinfo=ZoneInfo("America/Sao_Paulo"))
    assert appointment.patient_package_id == package.pk
    page.screenshot(path=str(screenshot_dir / "calendar-week.png"), full_page=True)

    # Mark it attended in the modal: the package shows one session used.
    event.click()
    expect(modal.get_by_test_id("current-status")).to_have_attribute("data-status", "scheduled")
    modal.get_by_test_id("status-attended").click()
    expect(modal.get_by_test_id("current-status")).to_have_attribute("data-status", "attended")
    expect(page.get_by_test_id("calendar-event").filter(has_text="Conceição Araújo")).to_have_attribute(
        "data-status", "attended"
    )
    package.refresh_from_db()
    assert (package.sessions_used, package.sessions_booked) == (1, 0)
    modal.locator(".modal-header [data-bs-dismiss=modal]").click()
    expect(modal).to_be_hidden()

    # Two more units (200.00) would take the package to 300.00 of its 200.00.
    expect(page.locator(".modal-backdrop")).to_have_count(0)
    click_slot(page, day, "14:00:00")
    expect(modal.locator("#id_start")).to_have_value(f"{day.isoformat()}T14:00")
    modal.locator("#id_patient").select_option(str(patient.pk))
    modal.locator("#id_lines-0-service").select_option(str(physio.pk))
    modal.locator("#id_lines-0-quantity").fill("2")
    expect(option.get_by_test_id("budget-bar")).to_have_attribute("data-level", "full")
    modal.get_by_test_id("save-appointment").click()
    expect(modal.get_by_test_id("form-errors")).to_contain_text("200,00")
    expect(modal).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "calendar-budget-error.png"))
    with scopes_disabled():
        assert Appointment.objects.filter(patient=patient).count() == 1
