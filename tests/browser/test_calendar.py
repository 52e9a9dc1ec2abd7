"""Journeys of the calendar.

A receptionist opens the calendar, clicks a free slot, finds the patient by
typing part of the name, books a session against the patient's package
(watching its budget bar), sees it on the calendar, marks it attended in the
modal (the package shows one session used), and a booking past the package's
budget shows the budget error.

A receptionist drags an appointment to another day and time on the week view
(it moves, and stays there after a reload); dragging it onto a slot where its
professional is busy is refused: the event goes back and the error shows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from clinic.models import Role
from clinic.tenancy import organization_scope
from packages.patient_packages import ledger
from scheduling import services
from scheduling.models import Appointment
from tests.conftest import make_member, make_tenant
from tests.factories import PASSWORD, ProfessionalFactory
from tests.packages.factories import ServiceFactory, make_template
from tests.patients.factories import PatientFactory


def pick_patient(modal, typed: str, name: str, *, keyboard: bool = False, screenshot: Path | None = None) -> None:
    """Find the patient in the booking modal's search and click the match (or
    go down to it with the arrow keys and press Enter)."""
    search = modal.get_by_test_id("patient-search")
    search.fill(typed)
    option = modal.get_by_test_id("patient-option").filter(has_text=name)
    expect(option).to_have_count(1)
    if screenshot is not None:
        modal.page.screenshot(path=str(screenshot))
    if keyboard:
        names = [item.get_attribute("data-patient-name") for item in modal.get_by_test_id("patient-option").all()]
        search.press("ArrowDown")
        for _ in range(names.index(name)):
            modal.page.keyboard.press("ArrowDown")
        expect(option).to_be_focused()
        modal.page.keyboard.press("Enter")
    else:
        option.click()
    expect(modal.get_by_test_id("patient-chosen")).to_have_text(name)


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
    patient = PatientFactory(
        clinic=tenant.central, full_name="Conceição Araújo", birth_date=dt.date(1958, 11, 2), mobile="+5511987654321"
    )
    PatientFactory(clinic=tenant.central, full_name="Maria da Conceição", birth_date=dt.date(1990, 3, 8))
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
    pick_patient(modal, "conceicao", "Conceição Araújo", screenshot=screenshot_dir / "calendar-patient-search.png")
    expect(modal.locator("#id_patient")).to_have_value(str(patient.pk))
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
    pick_patient(modal, "conceicao", "Conceição Araújo", keyboard=True)
    modal.locator("#id_lines-0-service").select_option(str(physio.pk))
    modal.locator("#id_lines-0-quantity").fill("2")
    bar = option.get_by_test_id("budget-bar")
    expect(bar.get_by_test_id("budget-percent")).to_have_text("150,0\u00a0%")
    expect(bar.get_by_test_id("budget-exceeded")).to_contain_text("200,00")
    expect(bar).to_have_attribute("data-level", "ok")  # 100,00 of 200,00 used: green, the excess is the booking
    modal.get_by_test_id("save-appointment").click()
    expect(modal.get_by_test_id("form-errors")).to_contain_text("200,00")
    expect(modal).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "calendar-budget-error.png"))
    with scopes_disabled():
        assert Appointment.objects.filter(patient=patient).count() == 1


# Drag and drop --------------------------------------------------------------------------------------

SP = ZoneInfo("America/Sao_Paulo")


def drag_event(page, event, day: dt.date, time: str) -> None:
    """Drag `event` by its first half hour onto the slot at `time` of `day`
    with real mouse moves (FullCalendar starts a drag only after the pointer
    has travelled a few pixels with the button down)."""
    source = event.bounding_box()
    column = page.locator(f".fc-timegrid-col[data-date='{day.isoformat()}']").bounding_box()
    row = page.locator(f".fc-timegrid-slot-lane[data-time='{time}']").bounding_box()
    assert source
    assert column
    assert row
    page.mouse.move(source["x"] + source["width"] / 2, source["y"] + 6)
    page.mouse.down()
    page.mouse.move(source["x"] + source["width"] / 2, source["y"] + 20, steps=5)
    page.mouse.move(column["x"] + column["width"] / 2, row["y"] + 6, steps=20)
    expect(page.locator(".fc-event-mirror")).to_have_count(1)
    page.mouse.up()


def week_with_an_appointment() -> tuple[Appointment, Appointment, dt.date]:
    """Next week's Wednesday 10:00 for Conceição with Renata, who is also
    busy on Thursday at 14:00 (another patient)."""
    tenant = make_tenant("Clínica Sol")
    make_member(tenant, "recepcao", Role.RECEPTIONIST)
    physio = ServiceFactory(clinic=tenant.central, name="Fisioterapia", price=Decimal("100.00"), duration_minutes=50)
    renata = ProfessionalFactory(clinic=tenant.central, organization=tenant.organization, name="Renata Costa")
    today = timezone.now().astimezone(SP).date()
    wednesday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=9)
    thursday = wednesday + dt.timedelta(days=1)
    booked = []
    with organization_scope(tenant.organization):
        for name, day, hour in (("Conceição Araújo", wednesday, 10), ("Otávio Lima", thursday, 14)):
            booking = services.appointment_book(
                clinic=tenant.central,
                patient=PatientFactory(clinic=tenant.central, full_name=name),
                start=dt.datetime.combine(day, dt.time(hour), tzinfo=SP),
                lines=[services.LineInput(physio)],
                actor=None,
                professional=renata,
            )
            booked.append(booking.appointment)
    return booked[0], booked[1], wednesday


def open_week(page, day: dt.date):
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", "recepcao")
    page.fill("#id_password", PASSWORD)
    page.locator("button[type=submit]").first.click()
    page.goto(page.base_url + f"/calendar/?date={day.isoformat()}")
    event = page.get_by_test_id("calendar-event").filter(has_text="Conceição Araújo")
    expect(event).to_have_count(1)
    return event


def event_in(page, day: dt.date, name: str):
    return page.locator(f".fc-timegrid-col[data-date='{day.isoformat()}'] [data-testid=calendar-event]").filter(
        has_text=name
    )


@pytest.mark.django_db(transaction=True)
def test_dragging_an_appointment_moves_it(page, screenshot_dir) -> None:
    appointment, _busy, wednesday = week_with_an_appointment()
    thursday = wednesday + dt.timedelta(days=1)
    event = open_week(page, wednesday)

    with page.expect_response(lambda response: "/move/" in response.url) as answer:
        drag_event(page, event, thursday, "11:00:00")
    assert answer.value.status == 200
    appointment.refresh_from_db()
    assert (appointment.start, appointment.end) == (
        dt.datetime.combine(thursday, dt.time(11), tzinfo=SP),
        dt.datetime.combine(thursday, dt.time(11, 50), tzinfo=SP),
    )
    expect(event_in(page, thursday, "Conceição Araújo")).to_have_count(1)

    # The calendar shows it there after a reload too, and only there.
    page.reload()
    moved = event_in(page, thursday, "Conceição Araújo")
    expect(moved).to_have_count(1)
    expect(moved).to_contain_text("11:00")
    expect(event_in(page, wednesday, "Conceição Araújo")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "calendar-drag-moved.png"))


@pytest.mark.django_db(transaction=True)
def test_dragging_onto_the_professionals_busy_slot_is_refused(page, screenshot_dir) -> None:
    appointment, _busy, wednesday = week_with_an_appointment()
    thursday = wednesday + dt.timedelta(days=1)
    event = open_week(page, wednesday)

    with page.expect_response(lambda response: "/move/" in response.url) as answer:
        drag_event(page, event, thursday, "14:00:00")
    assert answer.value.status == 409
    toast = page.get_by_test_id("toast").filter(has_text="Otávio Lima")
    expect(toast).to_be_visible()
    expect(toast).to_have_css("opacity", "1")  # faded in, readable
    expect(toast).to_have_attribute("data-level", "danger")
    # Names the conflicting appointment by its time and patient, never an id.
    expect(toast).to_contain_text(f"{thursday:%d/%m/%Y} 14:00, Otávio Lima.")
    expect(toast).not_to_contain_text("agendamento")  # no "(agendamento 4)": people read names, not ids
    # The event went back to Wednesday 10:00.
    expect(event_in(page, wednesday, "Conceição Araújo")).to_have_count(1)
    expect(event_in(page, thursday, "Conceição Araújo")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "calendar-drag-refused.png"))
    start, end = appointment.start, appointment.end
    appointment.refresh_from_db()
    assert (appointment.start, appointment.end) == (start, end)
    assert start == dt.datetime.combine(wednesday, dt.time(10), tzinfo=SP)
